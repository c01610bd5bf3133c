"""The one-unit gradient-descent print `Error:x Prediction:y` (_error_prediction_print.py, Grokking Deep Learning's
chapters 4-6), first met in a real-world faulty log (issue 8, session 30:
tests/corpus/realworld/g7-grokking-dl-ch4-no-alpha-input-2-error-diverges), unreadable blind."""

from __future__ import annotations

from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._error_prediction_print import parse_error_prediction
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_twenty_updates_as_the_loss():
    run = load_run([REALWORLD / "g7-grokking-dl-ch4-no-alpha-input-2-error-diverges" / "run"])
    loss = run.series("loss")
    assert loss is not None and [int(s) for s in loss.steps] == list(range(20))
    assert loss.values[0] == 0.03999999999999998 and loss.values[-1] == 5.403406870691965e16
    assert run.series("Prediction") is None and run.series("prediction") is None  # the output is no measurement


def test_each_line_is_the_next_update(tmp_path):
    lines = [f"Error:{0.3 * 0.5 ** k} Prediction:{0.8 - 0.5 ** k}" for k in range(8)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    loss = run.series("loss")
    assert [int(s) for s in loss.steps] == list(range(8)) and loss.values[1] == 0.15


def test_other_error_lines_are_not_read():
    st = State()
    assert parse_error_prediction("Error: CUDA out of memory. Prediction: none", st) is None
    assert parse_error_prediction("Error:0.25", st) is None  # no prediction beside it
    assert parse_error_prediction("Error:0.25 Prediction:0.7 Delta:-0.1", st) is None  # another print
    assert parse_error_prediction("Error:12% Prediction:0.7", st) is None
    rec = parse_error_prediction("Error:0.25 Prediction:0.3", st)
    assert rec is not None and rec.step == 0 and rec.metrics == {"loss": 0.25}
