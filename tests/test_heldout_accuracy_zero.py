"""A held-out accuracy of exactly 0 at every evaluation: below chance, so the targets never match the inputs
(detectors/data.py, detect_heldout_accuracy_zero; listed below 0.5).

Fires: a summary line `Validation accuracy: 0.000` alone (TobiasLee/Text-Classification#5's shape, corpus entry
g26-text-classification-5: a broken shuffle), and four evaluations at 0 from step 100. Silent: an accuracy that starts
at 0 and rises, one at chance, an exact-match score of 0 (whole sequences: a young model scores 0 legitimately)."""

from __future__ import annotations

import numpy as np
import pytest

from traindoc.evidence.detectors import data
from traindoc.ingest.model import Run, Series


def make_run(name: str, steps: list[int], values: list[float]) -> Run:
    run = Run()
    loss_steps = np.arange(10, 410, 10)
    run.add_series(Series("loss", loss_steps, 2.0 * np.exp(-loss_steps / 200.0) + 0.5, "run/train.log", "loss"))
    run.add_series(Series(name, np.array(steps), np.array(values, dtype=float), "run/train.log", name))
    return run.finalize()


def test_one_summary_line_at_zero_is_listed_as_final_figures_alone() -> None:
    run = Run()
    run.add_series(Series("eval_accuracy", np.array([1]), np.array([0.0]), "run/train.log", "Validation accuracy"))
    f = data.detect_heldout_accuracy_zero(run.finalize())[0]
    assert f.cause == "data_pipeline_bug" and f.strength == data.ZERO_ACCURACY < 0.5
    assert f.numbers["endpoints_only"] is True and "its only evaluation" in f.evidence[0]


def test_every_evaluation_at_zero_fires_at_the_first() -> None:
    f = data.detect_heldout_accuracy_zero(make_run("eval_accuracy", [100, 200, 300, 400], [0.0] * 4))[0]
    assert f.step == 100 and "endpoints_only" not in f.numbers and "all 4 evaluations" in f.evidence[0]


@pytest.mark.parametrize("name,values", [
    ("eval_accuracy", [0.0, 0.31, 0.55, 0.7]),     # starts at 0, learns
    ("eval_accuracy", [0.1, 0.1, 0.1, 0.1]),       # at chance for 10 classes: another reading (not this one)
    ("eval_exact_match", [0.0, 0.0, 0.0, 0.0]),    # whole-sequence exact match: 0 is legitimate early
])
def test_accuracy_that_is_not_zero_throughout_or_not_per_example_stays_silent(name: str, values: list[float]) -> None:
    assert data.detect_heldout_accuracy_zero(make_run(name, [100, 200, 300, 400], values)) == []


def test_a_nan_loss_or_a_training_accuracy_near_zero_too_explains_the_zero() -> None:
    nan = make_run("eval_accuracy", [100, 200, 300, 400], [0.0] * 4)
    nan.add_series(Series("eval_loss", np.array([100, 200, 300, 400]), np.full(4, np.nan), "run/train.log", "val_loss"))
    assert data.detect_heldout_accuracy_zero(nan.finalize()) == []  # NaN outputs match no label
    reg = make_run("eval_accuracy", [100, 200, 300, 400], [0.0] * 4)
    # an accuracy on regression targets (r-keras-296: acc 0 or 1/178 at every epoch)
    reg.add_series(Series("accuracy", np.arange(10, 410, 10), np.tile([0.0, 0.0056], 20), "run/train.log", "acc"))
    assert data.detect_heldout_accuracy_zero(reg.finalize()) == []
    learns = make_run("eval_accuracy", [100, 200, 300, 400], [0.0] * 4)
    learns.add_series(Series("accuracy", np.arange(10, 410, 10), np.linspace(0.1, 0.9, 40), "run/train.log", "acc"))
    assert data.detect_heldout_accuracy_zero(learns.finalize())[0].step == 100  # learns its split, 0 on the other


def test_the_same_heads_loss_exactly_zero_too_is_an_unmeasured_pair() -> None:
    # A custom Keras test_step that logs only the probe's metrics leaves the contrastive head's trackers at their
    # initial 0 (keras.io's semi-supervised SimCLR example: val_c_acc and val_c_loss 0.0000e+00 at all 20 epochs,
    # corpus entry g8s34-keras-io-simclr-stl10-infonce-val-contrastive-zero-20ep). A loss of 0 (every example
    # right) beside an accuracy of 0 (none right) is no evaluation.
    steps = [100, 200, 300, 400]
    pair = make_run("eval_c_acc", steps, [0.0] * 4)
    pair.add_series(Series("eval_c_loss", np.array(steps), np.zeros(4), "run/train.log", "val_c_loss"))
    assert data.detect_heldout_accuracy_zero(pair.finalize()) == []
    # the same accuracy beside a held-out loss that was measured still fires at the first evaluation
    measured = make_run("eval_c_acc", steps, [0.0] * 4)
    measured.add_series(Series("eval_c_loss", np.array(steps), np.array([2.3, 2.4, 2.4, 2.5]), "run/train.log",
                               "val_c_loss"))
    assert data.detect_heldout_accuracy_zero(measured.finalize())[0].step == 100
    # another head's loss at 0 is no twin of this accuracy
    other = make_run("eval_accuracy", steps, [0.0] * 4)
    other.add_series(Series("eval_c_loss", np.array(steps), np.zeros(4), "run/train.log", "val_c_loss"))
    assert data.detect_heldout_accuracy_zero(other.finalize())[0].step == 100
