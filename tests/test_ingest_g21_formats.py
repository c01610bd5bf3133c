"""Formats met in the real-world corpus's g21 additions (2026-12-06), read as the metrics they are: DeepLearnToolbox's
`nntrain` epoch line (readers/_deeplearntoolbox_log.py). Small synthetic logs in the program's two message shapes
(values made up), a reading case for each and a line the reader must leave alone."""

from __future__ import annotations

from pathlib import Path

from textlog_support import load_text, points
from traindoc.ingest.readers._deeplearntoolbox_log import parse_deeplearntoolbox
from traindoc.ingest.readers.textlog_formats import State


def _points(tmp_path: Path, text: str, name: str) -> list[tuple[int, float]]:
    return points(load_text(tmp_path, text), name, digits=5)


OLD = (
    "octave:25> nn = nntrain(nn, train_x, train_y, opts);\n"
    "epoch 1/3. Took 60.1 seconds. Mean squared error is 0.41\n"
    "epoch 2/3. Took 60.2 seconds. Mean squared error is 0.2\n"
    "epoch 3/3. Took 60.3 seconds. Mean squared error is 0.1\n"
    "octave:26> disp([num2str(er * 100) '% error']);\n"
    "9.5% error\n"
)
NEW = (
    "epoch 1/3. Took 1.5 seconds. Mini-batch mean squared error on training set is 0.3; "
    "Full-batch train mse = 0.25, val mse = 0.28\n"
    "epoch 2/3. Took 1.5 seconds. Mini-batch mean squared error on training set is 0.2; "
    "Full-batch train mse = 0.15, val mse = 0.22\n"
    "epoch 3/3. Took 1.5 seconds. Mini-batch mean squared error on training set is 0.1; "
    "Full-batch train mse = 0.08, val mse = 0.24\n"
)


def test_nntrain_mean_squared_error_is_the_training_loss_per_epoch(tmp_path):
    # the generic "<words> is <number>" rule used to name it `error`, a metric no detector reads as the loss
    assert _points(tmp_path, OLD, "loss") == [(1, 0.41), (2, 0.2), (3, 0.1)]


def test_nntrain_full_batch_and_validation_mse(tmp_path):
    assert _points(tmp_path, NEW, "loss") == [(1, 0.3), (2, 0.2), (3, 0.1)]
    assert _points(tmp_path, NEW, "eval_loss") == [(1, 0.28), (2, 0.22), (3, 0.24)]


def test_other_lines_are_left_alone():
    st = State()
    assert parse_deeplearntoolbox("9.5% error", st) is None
    assert parse_deeplearntoolbox("epoch 3/10, loss is 0.5", st) is None  # a user's print, left to the generic rules
    assert parse_deeplearntoolbox("Epoch 1/10. Took 3 seconds.", st) is None
