"""A Keras paste of one epoch only: its progress bars, redrawn within the epoch, are read as steps at their batch
counts (textlog_formats._keep_bar, text_log._Parser._bars_as_steps); a paste of several epochs keeps one point per
epoch."""

from __future__ import annotations

from pathlib import Path

from test_ingest_text_logs import values
from textlog_support import read_text
from traindoc.ingest.model import Run

BAR = "{:>5}/10000 [=====.........................] - ETA: 4s - loss: {:.4f} - acc: {:.4f}"


def _read(tmp_path: Path, lines: list[str]) -> Run:
    return read_text(tmp_path, "\n".join(lines) + "\n")


def test_one_epoch_of_bars_is_read_at_its_batch_counts(tmp_path: Path) -> None:
    bars = [(5, 6.4472, 0.6), (230, 7.4283, 0.5391), (455, 7.8642, 0.5121), (675, 7.9277, 0.5081)]
    run = _read(tmp_path, ["Epoch 1/10", ""] + [BAR.format(n, loss, acc) for n, loss, acc in bars])
    assert values(run, "loss") == {5: 6.4472, 230: 7.4283, 455: 7.8642, 675: 7.9277}
    assert values(run, "accuracy")[675] == 0.5081


def test_several_epochs_keep_one_point_per_epoch(tmp_path: Path) -> None:
    lines = []
    for e in (1, 2, 3):
        lines += [f"Epoch {e}/10", BAR.format(230, 1.0 / e, 0.5), BAR.format(10000, 0.9 / e, 0.6)]
    run = _read(tmp_path, lines)
    assert sorted(values(run, "loss")) == [1, 2, 3]
    assert values(run, "loss")[3] == 0.3


def test_two_bars_are_too_few_to_restep(tmp_path: Path) -> None:
    run = _read(tmp_path, ["Epoch 1/10", BAR.format(5, 6.4, 0.6), BAR.format(230, 7.4, 0.5)])
    assert values(run, "loss") == {1: 7.4}
