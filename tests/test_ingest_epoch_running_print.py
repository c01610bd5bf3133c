"""The hand-written loop's `Epoch N is running...` banner and the loss printed on the next line
(_epoch_running_print.py), bare or as `Train loss: x`; first met in real-world faulty logs (issue 8, session 30:
tests/corpus/realworld/g4-dsr-debugging-dl-*), unreadable or stepped by line order blind."""

from __future__ import annotations

import math
from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._epoch_running_print import parse_epoch_running
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entries_read_at_the_banner_epochs():
    bare = load_run([REALWORLD / "g4-dsr-debugging-dl-auto-mpg-unstandardised-inputs-loss-stalls-2e4" / "run"])
    loss = bare.series("loss")
    assert loss is not None and [int(s) for s in loss.steps] == list(range(0, 1001, 100))
    assert loss.values[0] == 80217030656.0 and abs(loss.values[-1] - 21721.94140625) < 1e-6
    named = load_run([REALWORLD / "g4-dsr-debugging-dl-sgd-momentum-regression-no-clipping-nan" / "run"])
    nan = named.series("loss")
    assert nan is not None and [int(s) for s in nan.steps] == list(range(0, 101, 10))
    assert all(math.isnan(v) for v in nan.values)


def test_named_held_out_loss_and_one_value_per_banner(tmp_path):
    lines = []
    for e in range(0, 60, 10):
        lines += [f"Epoch {e} is running...", f"Test loss: {1.0 / (e + 1):.4f}", "Train loss: 9.9"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    held = run.series("test_loss") or run.series("eval_loss")
    assert held is not None and [int(s) for s in held.steps] == [0, 10, 20, 30, 40, 50]
    assert run.series("loss") is None  # the second line after a banner is not read


def test_guards():
    st = State()
    assert parse_epoch_running("2.5", st) is None  # no banner before it
    assert parse_epoch_running("Epoch 3 is running...", st) is None
    assert parse_epoch_running("Accuracy: 0.91", st) is None  # not a loss
    assert parse_epoch_running("2.5", st) is None  # the banner's one line was spent
    assert parse_epoch_running("Epoch 4 is running", st) is None
    assert parse_epoch_running("2.5 3.5", st) is None  # not a bare number
    assert parse_epoch_running("Epoch 5 is running...", st) is None
    rec = parse_epoch_running("Train loss: 0.25", st)
    assert rec is not None and rec.step == 5 and rec.metrics == {"loss": 0.25}
