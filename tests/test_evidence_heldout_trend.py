"""Overfitting read from the trend of a short held-out curve (evidence/heldout_trend.py, detect_overfitting): a
held-out loss that rises at every evaluation after its best by small steps, and a held-out/train ratio that grows at
every evaluation (docs/diagnose.md, "A held-out loss that climbs by small steps; a gap that opens")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence import heldout_trend
from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

CORPUS = Path(__file__).parent / "corpus"


def _run(train: np.ndarray, val: np.ndarray, every: int = 1) -> Run:
    """Training loss logged every 10 steps, the held-out loss every `every` training points."""
    run = Run()
    run.add_series(Series("loss", np.arange(1, train.size + 1) * 10, train, "run/train.log"))
    run.add_series(Series("eval_loss", np.arange(1, val.size + 1) * 10 * every, val, "run/train.log"))
    return run.finalize()


# ten evaluations: both losses fall to evaluation 5, then training keeps falling
TRAIN = np.array([2.6, 2.4, 2.3, 2.2, 2.13, 2.10, 2.07, 2.03, 2.0, 1.96])
VAL_DOWN = np.array([1.90, 1.63, 1.55, 1.526, 1.524])


def test_rises_to_end_counts_only_an_unbroken_climb() -> None:
    assert heldout_trend.rises_to_end(np.array([3.0, 2.0, 2.1, 2.2, 2.3]), 1) == 3
    assert heldout_trend.rises_to_end(np.array([3.0, 2.0, 2.1, 2.05, 2.3]), 1) == 0
    assert heldout_trend.rises_to_end(np.array([3.0, 2.0]), 1) == 0


def test_a_held_out_loss_rising_at_each_of_five_evaluations_is_overfitting() -> None:
    # Marian's shape: +0.6 % .. +1 % per evaluation, 4.7 % in all, the training loss still falling
    val = np.concatenate([VAL_DOWN, [1.534, 1.548, 1.564, 1.580, 1.596]])
    run = _run(TRAIN, val)
    f = data.detect_overfitting(run)
    assert len(f) == 1 and f[0].step == 50 and f[0].strength == data.STEADY_UNJUDGED < 0.5  # no task metric: listed
    assert any("rose at each of the last 5 evaluations" in e for e in f[0].evidence)
    # a held-out BLEU that falls with it: the task is hurt, a cause
    run.add_series(Series("eval_bleu", np.arange(1, 11) * 10,
                          np.array([20.0, 25, 27, 28.5, 29.3, 29.2, 29.0, 28.9, 28.8, 28.7]), "run/train.log"))
    f = data.detect_overfitting(run.finalize())
    assert len(f) == 1 and f[0].strength >= 0.5


def test_the_same_small_rise_as_a_wobble_is_silent() -> None:
    # the same values after the best, out of order: up, down, up, down, up is a converged curve's wobble
    val = np.concatenate([VAL_DOWN, [1.548, 1.534, 1.580, 1.564, 1.596]])
    assert data.detect_overfitting(_run(TRAIN, val)) == []


def test_the_real_marian_log_reads_as_overfitting() -> None:
    # cepin19/dp Marian s2s en-cs: ce-mean-words 1.5244 at update 25000, then up at each of 5 validations to 1.5959
    # while the training cost falls; the run's own early stopping ends it
    run = load_run([CORPUS / "realworld" / "marian-s2s-europarl-encs-early-stop-overfit" / "run"])
    f = data.detect_overfitting(run)
    assert len(f) == 1 and f[0].step == 25000 and f[0].strength >= 0.5


def test_two_rises_are_listed_only_and_a_tiny_drift_is_silent() -> None:
    # datlife/yolov2#6: val_loss 1.5564, 1.5285, 1.5510, 1.5861 (two rises, 3.8 %) while the training loss falls
    run = load_run([CORPUS / "realworld" / "yolov2-keras-6-val-loss-rises" / "run"])
    f = data.detect_overfitting(run)
    assert len(f) == 1 and f[0].step == 2 and f[0].strength <= data.SHORT_CLIMB_STRENGTH
    # three or four rises adding up to 0.5 %: within a converged curve's drift (plain_pytorch-healthy-s12)
    for val in (np.concatenate([VAL_DOWN, [1.50, 1.502, 1.504, 1.506, 1.5075]]),
                np.concatenate([VAL_DOWN[:-1], [1.51, 1.50, 1.502, 1.504, 1.506, 1.5075]])):
        assert data.detect_overfitting(_run(TRAIN, val)) == []


def _gap_run(val_last: float) -> Run:
    """The train loss falls 0.8 -> 0.1 over 30 points while the held-out loss (10 evaluations) falls to 0.446 at the
    ninth and ends at `val_last`: the held-out/train ratio grows at each of the last 8 evaluations (1.1 -> 4.4)."""
    train = np.geomspace(0.8, 0.1, 30)
    val = np.array([0.84, 0.76, 0.56, 0.525, 0.5175, 0.491, 0.474, 0.470, 0.446, val_last])
    return _run(train, val, every=3)


def test_a_gap_that_opens_at_every_evaluation_is_listed_one_evaluation_after_the_best() -> None:
    f = data.detect_overfitting(_gap_run(0.481))
    assert len(f) == 1 and f[0].step == 270 and 0.3 <= f[0].strength <= data.GAP_WIDENS_STRENGTH
    assert any("ratio grew at each of the last" in e for e in f[0].evidence)
    # the held-out loss still at its best at the end: nothing turned
    assert data.detect_overfitting(_gap_run(0.440)) == []


def test_a_gap_that_stays_small_is_silent() -> None:
    # the held-out loss tracks the training loss (1.05x) and ticks up 5 % at the last evaluation: no gap opened
    train = np.geomspace(0.8, 0.1, 10)
    val = 1.05 * train
    val[-1] = 1.05 * val[-2]
    assert data.detect_overfitting(_run(train, val)) == []


def test_a_small_climb_after_a_gap_already_at_leakage_size_is_silent() -> None:
    # hf_trainer-label_leakage-s1's shape: the held-out loss is 10x the training loss at its best, then edges up 9 %
    # over 4 evaluations: the gap was there before the turn (the leakage rule reads it), no trend reading
    train = np.geomspace(0.04, 0.02, 10)
    val = np.array([0.60, 0.50, 0.45, 0.41, 0.39, 0.385, 0.39, 0.40, 0.41, 0.42])
    assert data.detect_overfitting(_run(train, val)) == []


def _window_run(first_step: int, val: np.ndarray, train: np.ndarray) -> Run:
    """One training and one held-out point per epoch, the log starting at epoch `first_step`."""
    steps = np.arange(first_step, first_step + val.size)
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    run.add_series(Series("eval_accuracy", steps, np.full(val.size, 0.5), "run/train.log"))
    return run.finalize()


# a late window of a long run (the shape of RasaHQ/rasa_core#486, epochs 112-121 of 300): the held-out loss is lowest
# at the window's first point and rises at each of the last 7 evaluations while the training loss falls
WINDOW_VAL = np.array([1.771, 1.7754, 1.7742, 1.7805, 1.7856, 1.7898, 1.7987, 1.8045, 1.8095, 1.8222])
WINDOW_TRAIN = np.array([1.23, 1.14, 1.15, 1.06, 1.11, 1.11, 1.07, 1.05, 1.00, 1.07])


def test_rises_at_end_counts_the_final_unbroken_climb() -> None:
    assert heldout_trend.rises_at_end(WINDOW_VAL) == 7
    assert heldout_trend.rises_at_end(np.array([2.0, 2.1, 2.0])) == 0
    assert heldout_trend.rises_at_end(np.array([2.0])) == 0


def test_a_steady_climb_in_a_late_window_is_overfitting() -> None:
    f = data.detect_overfitting(_window_run(112, WINDOW_VAL, WINDOW_TRAIN))
    assert len(f) == 1 and f[0].strength >= 0.5 and f[0].step == 112
    assert any("after about 111 evaluations it does not show" in e for e in f[0].evidence)
    assert any("rose at each of the last 7 evaluations" in e for e in f[0].evidence)


def test_the_same_curve_from_the_first_epoch_never_improved_and_is_not_confirmed() -> None:
    # logged from epoch 1, the first evaluation being the best means the held-out loss never improved: no trend read
    assert all(f.strength < 0.5 for f in data.detect_overfitting(_window_run(1, WINDOW_VAL, WINDOW_TRAIN)))
    # a late window whose held-out loss only wobbles (no unbroken climb to the end) stays silent
    wobble = np.array([1.771, 1.79, 1.775, 1.80, 1.78, 1.805, 1.79, 1.81, 1.795, 1.80])
    assert data.detect_overfitting(_window_run(112, wobble, WINDOW_TRAIN)) == []
