"""R's neuralnet lifesign trace (_r_neuralnet_lifesign.py), first met in a healthy real-world log (issue 8): a knitted
`neuralnet(..., lifesign = "full")` output. Blind, the run was unreadable (insufficient data). The "reads" case loads
the corpus entry; the silent cases call the parser on lines of other formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._r_neuralnet_lifesign import parse_r_neuralnet
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _points(entry: str, name: str) -> list[tuple[int, float]]:
    return points(load_run([REALWORLD / entry / "run"]), name, 5)


def test_knitted_trace_reads_min_thresh_and_the_final_error_as_the_loss():
    entry = "r-neuralnet-lifesign-dropout-project"
    thresh = _points(entry, "min_thresh")
    assert thresh[0] == (1000, 2.28745) and thresh[-1] == (64000, 0.00515) and len(thresh) == 64
    assert _points(entry, "loss") == [(64978, 0.00125)]


def test_minimal_lifesign_and_likelihood_columns():
    st = State()
    rec = parse_r_neuralnet("hidden: 5    thresh: 0.01    rep: 1/1    steps:    4989\terror: 0.00385\ttime: 0.76 secs",
                            st)
    assert rec is not None and rec.step == 4989 and rec.metrics == {"loss": 0.00385}
    st = State()
    rec = parse_r_neuralnet("## hidden: 10, 10, 10    thresh: 0.01    rep: 1/1    steps:    1000 min thresh: 0.0144",
                            st)
    assert rec is not None and rec.step == 1000 and rec.metrics == {"min_thresh": 0.0144}
    rec = parse_r_neuralnet("##                                    1914 error: 0.68337  aic: 683.36673  bic: 2356.91128"
                            " time: 4.84 secs", st)
    assert rec is not None and rec.metrics == {"loss": 0.68337, "aic": 683.36673, "bic": 2356.91128}


def test_a_second_repetition_is_claimed_not_read():
    st = State()
    assert parse_r_neuralnet("hidden: 5    thresh: 0.01    rep: 1/2    steps:    1000\tmin thresh: 0.05", st)
    rec = parse_r_neuralnet("hidden: 5    thresh: 0.01    rep: 2/2    steps:    1000\tmin thresh: 0.07", st)
    assert rec is not None and rec.claimed and not rec.metrics
    rec = parse_r_neuralnet("                                        2000\tmin thresh: 0.03", st)
    assert rec is not None and rec.claimed and not rec.metrics


def test_progress_columns_without_a_header_are_not_read():
    assert parse_r_neuralnet("    2000\tmin thresh: 0.03", State()) is None
    assert parse_r_neuralnet("    4989\terror: 0.00385\ttime: 0.76 secs", State()) is None


@pytest.mark.parametrize("line", [
    "## iter  10 value 0.458543",  # nnet's trace (parse_r_nnet's)
    "## initial  value 74.693524 ",
    "hidden layer sizes: 16, 5",
    "Epoch 1 error: 0.3",
    "thresh: 0.01",
])
def test_neuralnet_parser_silent_on_other_lines(line: str):
    assert parse_r_neuralnet(line, State()) is None
