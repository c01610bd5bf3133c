"""Tesseract's `lstmtraining` progress and eval lines (_tesseract_lstmtraining.py), first met in the Tesseract wiki's
replace-top-layer example (issue 8, session 31: tests/corpus/realworld/tesseract-lstmtraining-nor-layer-healthy), read
blind by the generic rules as thirteen metrics and no loss."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._tesseract_lstmtraining import parse_tesseract_lstmtraining
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_rms_and_error_rates_at_the_learning_iteration():
    run = load_run([REALWORLD / "tesseract-lstmtraining-nor-layer-healthy" / "run"])
    loss = points(run, "loss")
    assert len(loss) == 15 and loss[0] == (100, 6.173) and loss[-1] == (1216, 1.165)
    assert (697, 3.217) in loss  # the learning iteration, not the training one (700)
    assert points(run, "cer")[0] == (100, 121.258)
    assert sorted(run.metrics) == ["cer", "loss", "wer"]


def test_tesseract5_train_and_eval_lines(tmp_path):
    lines = []
    for i in range(1, 6):
        lines += [f"At iteration {i * 90}/{i * 100}/{i * 100}, mean rms={2.0 / i:.3f}%, delta={10.0 / i:.3f}%, "
                  f"BCER train={20.0 / i:.3f}%, BWER train={40.0 / i:.3f}%, skip ratio=0.000%, "
                  f"New best BCER = {20.0 / i:.3f} wrote checkpoint.",
                  f"2 Percent improvement time={i * 90}, best error was {20.0 / i:.3f} @ {i * 90}",
                  f"At iteration {i * 90}, stage 0, BCER eval={25.0 / i:.3f}%, BWER eval={50.0 / i:.3f}%"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert points(run, "loss")[:2] == [(90, 2.0), (180, 1.0)]
    assert len(points(run, "val_cer")) == 5 and points(run, "val_wer")[-1] == (450, 10.0)
    assert "error" not in run.metrics and "Percent improvement time" not in run.metrics


def test_other_iteration_lines_are_not_claimed():
    st = State()
    # another trainer's "At iteration" print, a status line before any progress line
    assert parse_tesseract_lstmtraining("At iteration 100, loss = 0.53", st) is None
    assert parse_tesseract_lstmtraining("At iteration 100/200, loss=0.53%", st) is None
    assert parse_tesseract_lstmtraining("2 Percent improvement time=100, best error was 83.028 @ 300", st) is None
    rec = parse_tesseract_lstmtraining(
        "At iteration 100/100/100, Mean rms=6.173%, delta=57.061%, char train=121.258%, word train=100%, "
        "skip ratio=0%,  New worst char error = 121.258 wrote checkpoint.", st)
    assert rec is not None and rec.step == 100 and rec.metrics == {"loss": 6.173, "cer": 121.258, "wer": 100.0}
    rec = parse_tesseract_lstmtraining("2 Percent improvement time=100, best error was 83.028 @ 300", st)
    assert rec is not None and rec.claimed and not rec.metrics
