"""Grad-TTS's per-epoch train.log, `Epoch N: duration loss = x | prior loss = y | diffusion loss = z`
(ingest/readers/_grad_tts_train_log.py), first met in a real-world healthy log whose first term the generic rules
lost (issue 8, session 35: tests/corpus/realworld/g15s35-grad-tts-train-log-22ep)."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._grad_tts_train_log import parse_grad_tts
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
TERMS = ("duration_loss", "prior_loss", "diffusion_loss")


def test_corpus_entry_reads_three_terms_per_epoch() -> None:
    run = load_run([REALWORLD / "g15s35-grad-tts-train-log-22ep" / "run"])
    for name in TERMS:
        s = run.series(name)
        assert s is not None and [int(x) for x in s.steps] == list(range(1, 23))
    assert run.series("duration_loss").values[0] == 0.745
    assert run.series("prior_loss").values[-1] == 1.490
    assert run.series("diffusion_loss").values[-1] == 0.119
    assert not any(" " in name for name in run.metrics)  # no spaced names left over from the generic rules


def test_any_number_of_terms_at_the_printed_epoch(tmp_path: Path) -> None:
    lines = [f"Epoch {e}: duration loss = {1.0 / e:.3f} | prior loss = {2.0 / e:.3f} | diffusion loss = 0.100 "
             f"| vq loss = {0.5 / e:.3f}" for e in (1, 2, 3, 5)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert [int(x) for x in run.series("vq_loss").steps] == [1, 2, 3, 5]
    assert run.series("duration_loss").values[3] == 0.2


def test_other_epoch_prints_are_not_claimed() -> None:
    st = State()
    assert parse_grad_tts("Epoch 3: loss = 0.512", st) is None  # one metric: the generic rules' line
    assert parse_grad_tts("Epoch 3: train loss = 0.5, val loss = 0.6", st) is None  # commas, not this print's bars
    assert parse_grad_tts("| epoch   3 |   200/ 2983 batches | lr 20.00 | loss  5.97 |", st) is None
    assert parse_grad_tts("Epoch 3: duration loss = 0.5 | prior loss = 1.2 | step 40", st) is None  # a non-term
    rec = parse_grad_tts("Epoch 4: duration loss = 0.5 | prior loss = 1.2", st)
    assert rec is not None and rec.step == 4 and rec.metrics == {"duration_loss": 0.5, "prior_loss": 1.2}


def test_a_run_folder_with_the_log_diagnoses_from_the_summed_terms(tmp_path: Path) -> None:
    lines = [f"Epoch {e}: duration loss = {0.8 - 0.01 * e:.3f} | prior loss = {2.3 - 0.04 * e:.3f} | "
             f"diffusion loss = {0.16 - 0.002 * e:.3f}" for e in range(1, 23)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines))])
    assert set(TERMS) <= set(run.metrics) and "loss" not in run.metrics
