"""A held-out accuracy that "kept improving" after the eval-loss minimum by fewer examples than one standard error of
an accuracy on its evaluation set (heldout.gain_within_noise; the set's size read from the 1/n grid the values sit
on) is a plateau: it no longer excuses a held-out loss that climbs under a falling training loss (detect_overfitting).
A real gain, a grid that may be the print's rounding, or a metric that is no accuracy keep the excuse."""

from __future__ import annotations

import numpy as np

from traindoc.evidence import heldout
from traindoc.evidence.detectors import data
from traindoc.ingest.model import Run, Series

N = 256  # a validation set of 256 examples: accuracies are whole 256ths
# twelve evaluations: the held-out loss is best at the 4th and ends ~65 % above it, the training loss keeps falling
TRAIN = np.array([1.8, 1.2, 0.7, 0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 0.006, 0.004, 0.002])
VAL = np.array([1.8, 1.2, 0.9, 0.78, 0.82, 0.88, 0.95, 1.0, 1.08, 1.15, 1.22, 1.29])
# 215/256 at the loss minimum, 219/256 at the end: 4 examples, under one standard error (5.7 examples)
PLATEAU = np.array([40, 120, 190, 215, 216, 217, 216, 218, 217, 218, 219, 219]) / N
# 190/256 at the loss minimum, 232/256 at the end: 42 examples, far beyond it
GAINING = np.array([40, 120, 170, 190, 200, 208, 214, 220, 224, 228, 231, 232]) / N


def _run(metric: np.ndarray, name: str = "val_acc") -> Run:
    run = Run()
    steps = np.arange(1, TRAIN.size + 1) * 10
    run.add_series(Series("loss", steps, TRAIN, "run/metrics.csv"))
    run.add_series(Series("eval_loss", steps, VAL, "run/metrics.csv"))
    run.add_series(Series(name, steps, metric, "run/metrics.csv"))
    return run.finalize()


def _finding(run: Run):  # noqa: ANN202 - a Finding
    found = data.detect_overfitting(run)
    assert len(found) == 1
    return found[0]


def test_an_accuracy_gain_of_a_few_examples_no_longer_excuses_the_climb() -> None:
    f = _finding(_run(PLATEAU))
    assert f.strength >= 0.7  # uncapped: the 0.45 "over-confidence" cap no longer applies
    assert any("4 of the 256 examples" in e and "a plateau" in e for e in f.evidence)
    assert not any("kept improving" in e for e in f.evidence)


def test_a_real_gain_keeps_the_over_confidence_cap() -> None:
    f = _finding(_run(GAINING))
    assert f.strength <= 0.45
    assert any("kept improving" in e for e in f.evidence)


def test_a_print_rounding_grid_or_another_metric_keeps_the_cap() -> None:
    # two decimals: the 1/100 grid is the print's, a set of any size shows it; F1 is no share of examples
    assert _finding(_run(np.round(PLATEAU, 2))).strength <= 0.45
    assert _finding(_run(PLATEAU, "val_f1")).strength <= 0.45


def test_eval_set_size_reads_the_grid() -> None:
    (m,) = heldout.task_metrics(_run(PLATEAU))
    assert heldout.eval_set_size(m) == N
    (m,) = heldout.task_metrics(_run(PLATEAU.astype(np.float32).astype(np.float64)))
    assert heldout.eval_set_size(m) == N  # a float32 of k/n is within QUANT_TOL of it
    (m,) = heldout.task_metrics(_run(np.array([0.5, 0.61, 0.7, 0.733, 0.7791, 0.80123, 0.8, 0.81, 0.82, 0.83,
                                               0.831, 0.8301])))
    assert heldout.eval_set_size(m) is None  # values on no common grid
