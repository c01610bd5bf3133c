"""lr_too_high's "loss stuck" reading (a loss that falls < 10 % with the LR above its range) is not made when a
held-out task metric is still improving at the end (issue 8, session 31: NVIDIA's MLPerf DLRM submission,
tests/corpus/realworld/mlperf-v07-nvidia-dgxa100-pytorch-dlrm-auc, read blind as lr_too_high 1.0: its click-through
cross-entropy sits near its floor from the first log, 0.155 -> 0.123, while its AUC rises to the target at every
evaluation). A fires test at a known step and silent ones for the same surface feature. Small synthetic series."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import optimisation
from traindoc.ingest.model import ConfigValue, Run, Series

SRC = "run/train.log"
STEPS = np.arange(0, 2000, 100)
# a loss near its floor from the first log: 4 % down over the run
FLAT = 0.13 - 0.0055 * np.linspace(0.0, 1.0, STEPS.size) + 0.0005 * np.sin(np.arange(STEPS.size))


def _run(auc: np.ndarray | None) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, FLAT, SRC))
    if auc is not None:
        run.add_series(Series("eval_auc", STEPS[1::2], auc, SRC))
    run.config["lr"] = ConfigValue("lr", 24.0, "run/command.txt", 1, "command_line", "24")
    return run.finalize()


def _stuck(run: Run) -> list:
    return [f for f in optimisation.detect_lr_too_high(run) if any("decreased only" in e for e in f.evidence)]


def test_a_stuck_loss_at_an_lr_far_above_range_fires_without_a_task_metric():
    (f,) = _stuck(_run(None))
    # a whole-run reading (how far the loss came over the run): no step of its own
    assert f.cause == "lr_too_high" and f.strength >= 0.5 and f.step is None


def test_a_task_metric_that_stays_flat_leaves_the_stuck_reading():
    (f,) = _stuck(_run(np.full(10, 0.70) + 0.001 * np.sin(np.arange(10))))
    assert f.strength >= 0.5


def test_a_task_metric_still_improving_makes_it_no_stuck_run():
    run = _run(np.linspace(0.777, 0.8026, 10))
    assert _stuck(run) == []
    found = optimisation.detect_lr_too_high(run)
    # the LR alone, 80x the unknown optimiser's ceiling, stays a candidate below 0.5
    assert all(f.strength < 0.5 for f in found)
    assert any("eval_auc improves" in e for f in found for e in f.evidence)


def test_a_task_metric_that_turned_down_at_the_end_does_not_clear_it():
    # best in the middle, back near the start at the end: not still improving
    (f,) = _stuck(_run(np.array([0.70, 0.74, 0.78, 0.80, 0.80, 0.78, 0.75, 0.72, 0.71, 0.70])))
    assert f.strength >= 0.5
