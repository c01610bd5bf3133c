"""A training loss that ends several times below a held-out loss that never turned up is a shortcut the training
batches carry, not memorisation, whose gap costs held-out data (evidence/detectors/data.py, NO_TURN_GAP)."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors.data import NO_TURN_STRENGTH, detect_label_leakage
from traindoc.ingest.model import Run, Series

EPOCHS = np.arange(1, 21)  # a per-epoch log (Keras, skorch): one training and one held-out point per epoch


def build(train: np.ndarray, heldout: np.ndarray, steps: np.ndarray = EPOCHS) -> Run:
    run = Run()
    run.add_series(Series("loss", steps, train, "run/training.csv"))
    run.add_series(Series("eval_loss", steps, heldout, "run/training.csv"))
    return run.finalize()


def curve(start: float, floor: float, rate: float, steps: np.ndarray = EPOCHS) -> np.ndarray:
    return floor + (start - floor) * np.exp(-rate * steps)


def test_gap_with_heldout_still_at_its_lowest_fires_at_the_last_evaluation() -> None:
    # an off-by-one forecasting window: the training loss sinks to ~0.013 while the held-out loss levels at 0.157
    # and is still at its lowest at epoch 20 (12x the training loss; below the 0.2 the plain gap reading needs)
    run = build(curve(0.6, 0.012, 0.3), curve(0.5, 0.156, 0.3))
    (f,) = detect_label_leakage(run)
    assert f.strength == NO_TURN_STRENGTH and f.step == 20
    assert any("never turned up" in e for e in f.evidence)


def test_short_per_epoch_log_with_the_gap_fires() -> None:
    # five epochs: the training loss 0.28 -> 0.018, the held-out loss level at ~0.27 (no collapse reading in < 10
    # points, the gap alone)
    steps = np.arange(1, 6)
    run = build(np.array([0.28, 0.055, 0.027, 0.021, 0.018]), np.array([0.277, 0.28, 0.275, 0.264, 0.266]), steps)
    (f,) = detect_label_leakage(run)
    assert f.strength == NO_TURN_STRENGTH and f.step == 5


def test_heldout_that_turned_up_is_silent() -> None:
    # memorisation: the same training curve, the held-out loss best at epoch 6 and 30 % above it at the end
    ev = curve(0.5, 0.12, 0.4)
    ev[6:] = ev[6] * np.linspace(1.0, 1.3, ev.size - 6)
    assert ev[-1] < 0.2  # below the plain gap reading's floor: only the no-turn reading could fire
    assert detect_label_leakage(build(curve(0.6, 0.012, 0.3), ev)) == []


def test_small_gap_is_silent() -> None:
    # a healthy fit: the held-out loss still at its lowest, 2x the training loss (below NO_TURN_GAP)
    assert detect_label_leakage(build(curve(0.6, 0.06, 0.3), curve(0.5, 0.12, 0.3))) == []


def test_short_log_without_the_no_turn_gap_is_silent() -> None:
    # < 10 points: the other readings (a collapse, a gap above 0.2 that turned up) are not made
    steps = np.arange(1, 6)
    run = build(np.array([0.9, 0.3, 0.08, 0.03, 0.02]), np.array([0.8, 0.5, 0.4, 0.5, 0.7]), steps)
    assert detect_label_leakage(run) == []


def test_high_heldout_accuracy_is_silent() -> None:
    # the same gap beside a held-out accuracy at 96 %: the model generalises (NO_TURN_SCORE), the gap is over-confidence
    run = build(curve(0.6, 0.012, 0.3), curve(0.5, 0.156, 0.3))
    run.add_series(Series("eval_accuracy", EPOCHS, np.linspace(0.9, 0.96, EPOCHS.size), "run/training.csv"))
    assert detect_label_leakage(run.finalize()) == []
