"""Logs pasted as excerpts that start mid-run (issue 8; tools/excerpt_eval.py): their first point is no start of
training, so a flat stretch is no run that never learned, a rise that ends above the first value has not undone the
run, and an LR at its peak on the first line is no missing warmup (evidence/context.py, `starts_mid_run`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.context import late_window, mid_run, progress, starts_mid_run, window_progress
from traindoc.evidence.detectors.not_learning import detect_lr_too_low
from traindoc.evidence.detectors.optimisation import detect_lr_too_high, detect_no_warmup
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series


def _series(name: str, first: int, gap: int, v: list[float] | np.ndarray) -> Series:
    return Series(name, first + gap * np.arange(len(v)), np.asarray(v, dtype=float), "run/train.log")


def _run(first: int, loss: list[float] | np.ndarray, lr: float | None = None, gap: int = 10) -> Run:
    run = Run()
    run.add_series(_series("loss", first, gap, loss))
    if lr is not None:
        run.add_series(_series("lr", first, gap, [lr] * len(loss)))
    return run.finalize()


# a converged stretch, as the last screenful of a healthy run shows it: 3 % lower at its end
FLAT = list(np.linspace(0.031, 0.030, 40))


def test_a_series_many_intervals_past_step_0_starts_mid_run() -> None:
    assert starts_mid_run(_series("loss", 14332, 200, [1.0] * 17))  # 72 intervals in: the tail of a run
    assert not starts_mid_run(_series("loss", 0, 10, [1.0] * 17))
    assert not starts_mid_run(_series("loss", 200, 200, [1.0] * 17))  # first line one interval in
    assert not starts_mid_run(_series("loss", 1, 1, [1.0] * 17))  # a 1-based counter
    assert starts_mid_run(_series("loss", 22300, 100, [1.0, 1.0]))  # two lines pasted from the end of a run
    assert not starts_mid_run(_series("loss", 1000, 1000, [1.0, 1.0]))
    assert not starts_mid_run(_series("loss", 5000, 10, [1.0]))  # one point: no interval to judge by
    # the first line of an excerpt pasted above its first "Iteration : 300" marker, numbered 1 by line order
    orphan = Series("loss", np.array([1, 300, 301, 302, 303]), np.ones(5), "run/statistics.log")
    assert starts_mid_run(orphan)
    assert not starts_mid_run(Series("loss", np.array([0, 100, 200, 300]), np.ones(4), "run/train.log"))


def test_progress_over_the_run_is_unknown_for_an_excerpt_but_its_window_is_read() -> None:
    falling = list(np.linspace(2.0, 1.0, 20))
    assert progress(_run(0, falling), "loss") is not None
    mid = _run(5000, falling)
    assert mid_run(mid, mid.series("loss"))
    assert progress(mid, "loss") is None
    assert abs((window_progress(mid, "loss") or 0) - 0.5) < 0.05


def test_lr_too_high_reads_a_flat_loss_at_a_huge_lr_only_from_the_start() -> None:
    # lr 5 for an optimiser it does not name, loss flat over the run: "loss decreased only x% over the run"
    start = detect_lr_too_high(_run(0, FLAT, lr=5.0))
    assert start and start[0].strength > 0.45 and any("decreased only" in e for e in start[0].evidence)
    # the same 40 lines pasted from step 5000 on: a converged tail looks the same, so the LR alone is a candidate
    tail = detect_lr_too_high(_run(5000, FLAT, lr=5.0))
    assert tail and tail[0].strength <= 0.45 and not any("decreased only" in e for e in tail[0].evidence)


def test_a_rise_inside_an_excerpt_is_not_training_undone() -> None:
    # 0.03 -> 0.015 -> 0.034: ends above the first value, which from step 0 reads as the training undone
    v = [0.03] * 10 + [0.015] * 20 + [0.034] * 10
    start = detect_lr_too_high(_run(0, v))
    assert start and start[0].numbers.get("undone") is True and start[0].strength >= 0.6
    tail = detect_lr_too_high(_run(5640, v))
    assert tail and not tail[0].numbers.get("undone") and tail[0].strength < start[0].strength
    assert any("starts mid-run" in e for e in tail[0].evidence)


def test_no_warmup_reads_the_lr_at_its_peak_only_on_the_first_line_of_a_run() -> None:
    v = list(np.linspace(3.0, 1.0, 40))
    assert detect_no_warmup(_run(0, v, lr=1e-3))  # the LR at its peak from step 0: no warmup
    assert detect_no_warmup(_run(6000, v, lr=1e-3)) == []  # an excerpt shows the LR after any warmup


def test_lr_too_low_reads_a_flat_loss_only_from_the_start_and_learning_in_any_window() -> None:
    start = detect_lr_too_low(_run(0, FLAT, lr=1e-7))
    tail = detect_lr_too_low(_run(5000, FLAT, lr=1e-7))
    assert start and tail and start[0].strength >= tail[0].strength + 0.3
    assert tail[0].strength <= 0.45  # the LR alone (it may be the tail of a decay): a candidate
    # a loss that falls by half inside the excerpt learns at this LR: a risk, not the fault
    learns = detect_lr_too_low(_run(5000, list(np.linspace(0.1, 0.05, 40)), lr=1e-7))
    assert learns and learns[0].strength <= 0.25



def _lr_only(first: int, lr: float, n: int = 40, gap: int = 10) -> Run:
    run = Run()
    run.add_series(_series("lr", first, gap, [lr] * n))
    return run.finalize()


def test_lr_too_low_from_an_lr_alone_is_held_below_half_when_the_lr_lines_start_mid_run() -> None:
    # the tail of an engine log that prints the LR and no loss: the LR at the end of a decay is far under the
    # configured one, so its distance alone is a candidate; the same LR lines from step 0 keep their reading
    start = detect_lr_too_low(_lr_only(0, 1e-6))
    tail = detect_lr_too_low(_lr_only(5000, 1e-6))
    assert start and start[0].strength > 0.5
    assert tail and tail[0].strength <= 0.45
    assert any("starts mid-run" in e for e in tail[0].evidence)

def _epoch_log(first: int, tmp_path: Path) -> Run:
    """The resnet-doc console ("resnet-18 - Epoch i/49", then train and test lines), from epoch `first`: a reader
    that numbers its points by line order starts them at 1 whatever epoch the log starts in."""
    lines = []
    for e in range(first, first + 10):
        loss = 2.0 / (e + 1)
        lines += [f"resnet-18 - Epoch {e}/49", "----------",
                  f"train Loss: {loss:.4f} Top-1 Acc: {80 + e / 10:.4f} Top-5 Acc: 98.0000",
                  f"test Loss: {loss * 1.1:.4f} Top-1 Acc: {78 + e / 10:.4f} Top-5 Acc: 97.0000"]
    (tmp_path / "train_log.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_run([str(tmp_path)])


def test_an_epoch_counter_past_the_first_epochs_marks_a_late_window(tmp_path: Path) -> None:
    run = _epoch_log(39, tmp_path)
    assert run.meta.get("first_counted_epoch") == 39
    assert late_window(run) is not None and progress(run, "loss") is None


def test_an_epoch_counter_from_the_first_epoch_is_the_start(tmp_path: Path) -> None:
    run = _epoch_log(0, tmp_path)
    assert run.meta.get("first_counted_epoch") == 0
    assert late_window(run) is None and progress(run, "loss") is not None
