"""A held-out metric the log does not name (fastai's headerless Recorder lists, read as valid_metric_<k>): its
direction is read from the way it moved while the held-out loss fell (heldout.NAMELESS), never assumed; a nameless
column that is the loss's root, or one beside a loss that never fell, stays unread; a named column keeps its name."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textlog_support import read_text
from traindoc.evidence import heldout
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALLIB = Path(__file__).parent / "corpus" / "reallib"
STEPS = np.arange(1, 7)


def _run(val_loss: np.ndarray, metric: np.ndarray) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, np.geomspace(2.0, 0.1, STEPS.size), "run/train.log"))
    run.add_series(Series("eval_loss", STEPS, val_loss, "run/train.log"))
    run.add_series(Series("valid_metric_1", STEPS, metric, "run/train.log"))
    return run.finalize()


def test_fastai_headerless_metric_that_rose_while_the_loss_fell_is_higher_better() -> None:
    # reallib fastai-healthy-s22 (learn.no_bar()): "[0, 1.70, 1.36, 0.773, '00:00']" ... the validation loss falls
    # 1.36 -> 0.358 by epoch 5 while the nameless metric climbs 0.773 -> 0.949 (it is the Learner's accuracy)
    run = load_run([str(REALLIB / "fastai-healthy-s22")])
    got = {m.name: m for m in heldout.task_metrics(run)}
    assert got["valid_metric_1"].top == 1.0
    assert float(got["valid_metric_1"].error[-1]) == 1.0 - 0.94921875


def test_fastai_headerless_rmse_beside_its_mse_loss_is_the_loss() -> None:
    # reallib fastai-healthy-s19: MSELossFlat with metrics=rmse, so the nameless column is the loss's square root
    run = load_run([str(REALLIB / "fastai-healthy-s19")])
    assert np.allclose(run.metrics["valid_metric_1"].values ** 2, run.metrics["eval_loss"].values, rtol=1e-3)
    assert "valid_metric_1" not in {m.name for m in heldout.task_metrics(run)}


def test_a_nameless_metric_that_fell_with_the_loss_is_lower_better() -> None:
    got = heldout.task_metrics(_run(np.array([1.0, 0.7, 0.5, 0.45, 0.5, 0.55]),
                                    np.array([0.30, 0.22, 0.15, 0.14, 0.15, 0.16])))
    assert [(m.name, m.top) for m in got] == [("valid_metric_1", None)]


def test_no_direction_without_learning_or_without_a_move() -> None:
    flat_loss = np.array([1.0, 0.95, 0.92, 0.9, 0.91, 0.93])  # best 10 % under the first: no clear learning
    assert heldout.task_metrics(_run(flat_loss, np.array([0.3, 0.35, 0.4, 0.42, 0.41, 0.4]))) == []
    learned = np.array([1.0, 0.7, 0.5, 0.45, 0.5, 0.55])  # the metric moved 1 %: which way is better is not shown
    assert heldout.task_metrics(_run(learned, np.array([0.90, 0.905, 0.908, 0.909, 0.909, 0.908]))) == []


def test_a_named_fastai_table_column_keeps_its_name(tmp_path: Path) -> None:
    text = ("epoch     train_loss  valid_loss  error_rate  time\n"
            "0         1.513021    1.041628    0.507326    00:13\n"
            "1         1.012345    0.912345    0.401234    00:13\n")
    run = read_text(tmp_path, text)
    assert "valid_error_rate" in run.metrics and not [n for n in run.metrics if "metric_" in n]
