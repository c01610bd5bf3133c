"""The from-scratch loop's `== EPOCH:  e / N  ==` banner and its `Error:  x` cost print (_epoch_banner_error.py),
first met in a real-world faulty log (issue 8, session 28:
tests/corpus/realworld/g32-nn-from-scratch-10-log-of-zero-error-nan), unreadable blind."""

from __future__ import annotations

import math
from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._epoch_banner_error import parse_epoch_banner_error
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_five_nan_epochs():
    run = load_run([REALWORLD / "g32-nn-from-scratch-10-log-of-zero-error-nan" / "run"])
    loss = run.series("loss")
    assert loss is not None and [int(s) for s in loss.steps] == [1, 2, 3, 4, 5]
    assert all(math.isnan(v) for v in loss.values)


def test_finite_costs_read_one_per_banner(tmp_path):
    lines = []
    for e in range(1, 7):
        lines += [f"== EPOCH:  {e} / 6  ==", "Training with  60000 / 60000", f"Error:  {2.3 / e:.6f}", "Error:  9.9"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    loss = run.series("loss")
    assert [int(s) for s in loss.steps] == [1, 2, 3, 4, 5, 6]
    assert loss.values[0] == 2.3 and 9.9 not in list(loss.values)  # the second Error line of an epoch is not read


def test_error_without_banner_or_as_rate_is_not_read():
    st = State()
    assert parse_epoch_banner_error("Error:  0.25", st) is None  # no banner before it
    assert parse_epoch_banner_error("== EPOCH:  1 / 5  ==", st) is None
    assert parse_epoch_banner_error("Error:  12%", st) is None
    assert parse_epoch_banner_error("Error: 3/10", st) is None
    rec = parse_epoch_banner_error("Error:  0.25", st)
    assert rec is not None and rec.step == 1 and rec.metrics == {"loss": 0.25}
