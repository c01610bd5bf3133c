"""Four consoles first met in real-world healthy logs (issue 8, session 28), each read by its own module: MATLAB's
`trainNetwork` verbose table (_matlab_trainnetwork.py), FANN's epoch reports (_fann_console.py), neon's closing
progress bar and epoch summary (_neon_console.py) and Encog's `Epoch #N Error:x` (_encog_console.py). Blind, the MATLAB
and FANN logs were unreadable and the neon and Encog ones had no training loss. The "reads" cases load the corpus
entries; the silent cases call the parsers on lines of other formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._encog_console import parse_encog
from traindoc.ingest.readers._fann_console import parse_fann
from traindoc.ingest.readers._matlab_trainnetwork import parse_matlab_trainnetwork
from traindoc.ingest.readers._neon_console import parse_neon
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _points(entry: str, name: str) -> list[tuple[int, float]]:
    s = load_run([REALWORLD / entry / "run"]).series(name)
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def test_matlab_table_with_validation_reads_iterations_losses_accuracies_and_lr():
    entry = "matlab-hss-alvgaona-readme"
    loss = _points(entry, "loss")
    assert loss[0] == (1, 1.3868) and loss[-1] == (1010, 0.1483) and len(loss) == 22
    ev = _points(entry, "eval_loss")
    assert ev[0] == (1, 1.6246) and ev[-1] == (1000, 0.1877)  # the last row's blank validation cells: no point
    assert _points(entry, "accuracy")[0] == (1, 0.2381)  # "23.81%" as a fraction
    assert _points(entry, "lr")[-1] == (1010, 0.001)


def test_matlab_table_without_validation_columns():
    loss = _points("matlab-har-1dcnn-bhogala-readme", "loss")
    assert loss[0] == (1, 1.9668) and loss[-1] == (1710, 0.5753) and len(loss) == 36


def test_matlab_rows_need_their_header_and_the_header_is_no_point():
    st = State()
    row = "|       1 |          50 |       00:00:20 |       50.00% |       1.0354 |          0.0100 |"
    assert parse_matlab_trainnetwork(row, st) is None  # no header seen: a `|` table of something else
    head1 = "|  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Mini-batch  |  Base Learning  |"
    head2 = "|         |             |   (hh:mm:ss)   |     RMSE     |     Loss     |      Rate       |"
    assert parse_matlab_trainnetwork(head1, st) is None and parse_matlab_trainnetwork(head2, st) is None
    rec = parse_matlab_trainnetwork(row, st)
    assert rec is not None and rec.step == 50 and rec.metrics == {"rmse": 0.5, "loss": 1.0354, "lr": 0.01}
    assert parse_matlab_trainnetwork("| epoch | loss |", State()) is None


def test_fann_reports_read_as_the_training_loss():
    assert _points("fann-xor-train-node-fann-lite-readme", "loss") == [
        (1, 0.2998), (10, 0.1527), (20, 0.0452), (30, 0.0083), (40, 0.0011), (50, 0.0001), (53, 0.0)]
    rec = parse_fann("Epochs          177. Current error: 0.0009809781", State())  # no bit-fail count
    assert rec is not None and rec.step == 177 and rec.metrics == {"loss": 0.0009809781}


@pytest.mark.parametrize("line", [
    "Max epochs     1000. Desired error: 0.0000000000.",
    "Epoch 3/10 - loss: 0.2",
    "Epochs: 5, current error 0.3",
])
def test_fann_parser_silent_on_other_lines(line: str):
    assert parse_fann(line, State()) is None


def test_neon_reads_train_and_eval_cost_per_epoch():
    entry = "neon-dsb2017-luna16-3dcnn-readme"
    assert _points(entry, "loss") == [(0, 0.7737), (1, 0.6441), (2, 0.596), (3, 0.5702), (4, 0.5479), (5, 0.5209)]
    assert _points(entry, "eval_loss")[1] == (1, 0.9378)
    bar = "Epoch 0   [Train |████████████████████|  194/194  batches, 2.17 cost, 65.13s]"
    rec = parse_neon(bar, State())  # a bar with no evaluation bracket
    assert rec is not None and rec.step == 0 and rec.metrics == {"loss": 2.17}


def test_neon_parser_silent_on_a_bar_caught_mid_epoch_and_other_lines():
    mid = "# Epoch 0   [Train |█                   |  115/1784 batches, 500.97 cost, 49597.69s]"
    assert parse_neon(mid, State()) is None
    assert parse_neon("Epoch 0   [Train |█      |  115/1784 batches, 500.97 cost, 49597.69s]", State()) is None
    assert parse_neon("Epoch 1 complete", State()) is None
    metric = "2016-06-10 09:42:57,624 - neon.callbacks.callbacks - INFO - Top1Misclass: 0.6953"
    assert parse_neon(metric, State()) is None


def test_encog_epoch_error_is_the_training_loss():
    loss = _points("encog-java-xorbackprop-readme", "loss")
    assert loss[0] == (1, 0.5557) and loss[-1] == (4999, 0.0061) and len(loss) == 21
    assert parse_encog("Epoch #1 Error:0.5 Target: 0.01", State()) is None
    assert parse_encog("Epoch 1 Error: 0.5", State()) is None
