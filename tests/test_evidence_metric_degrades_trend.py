"""A held-out task metric that worsens at every evaluation after its best while the training side keeps improving is
overfitting as the task sees it (evidence/detectors/transfer.py, METRIC_STEADY_EVALS); a log with no training loss
is read through its training accuracy."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors.transfer import (
    METRIC_STEADY_STRENGTH,
    METRIC_WORSE_STRENGTH,
    detect_heldout_metric_degrades,
)
from traindoc.ingest.model import Run, Series

STEPS = np.arange(0, 200, 10)  # 20 evaluations, one per logged line (a numpy loop printing every 10 iterations)


def build(series: dict[str, np.ndarray]) -> Run:
    run = Run()
    for name, v in series.items():
        run.add_series(Series(name, STEPS, np.asarray(v, dtype=float), "run/train.log"))
    return run.finalize()


def train_acc() -> np.ndarray:
    return 1.0 - 0.45 * np.exp(-STEPS / 40)  # 0.55 -> ~1.0: the training set is fitted ever better


def test_steady_heldout_decline_with_training_accuracy_only_fires() -> None:
    # held-out accuracy best at the second evaluation (0.81), then lower at every one after it (0.81 -> 0.71)
    test_acc = np.concatenate([[0.65], np.linspace(0.81, 0.71, STEPS.size - 1)])
    (f,) = detect_heldout_metric_degrades(build({"accuracy": train_acc(), "test_accuracy": test_acc}))
    assert f.cause == "overfitting" and f.step == int(STEPS[1])
    assert f.strength == METRIC_STEADY_STRENGTH and f.numbers["steady_rises"] == STEPS.size - 2
    assert any("training error" in e for e in f.evidence)


def test_scattered_decline_stays_listed_and_a_falling_training_side_is_silent() -> None:
    # the same 25 %+ worsening, but scattered (it improves between some evaluations): listed only
    rng = np.random.default_rng(0)
    test_acc = np.concatenate([[0.65, 0.81], np.linspace(0.79, 0.72, STEPS.size - 2) + rng.uniform(-0.02, 0.02,
                                                                                                     STEPS.size - 2)])
    test_acc[-3:] = [0.74, 0.72, 0.73]  # the last step is an improvement: no run of rises to the end
    (f,) = detect_heldout_metric_degrades(build({"accuracy": train_acc(), "test_accuracy": test_acc}))
    assert f.strength == METRIC_WORSE_STRENGTH < 0.5
    # training accuracy falling too: the model is not fitting its training set better, no overfitting reading
    steady = np.concatenate([[0.65], np.linspace(0.81, 0.71, STEPS.size - 1)])
    assert detect_heldout_metric_degrades(build({"accuracy": train_acc()[::-1].copy(),
                                                 "test_accuracy": steady})) == []
