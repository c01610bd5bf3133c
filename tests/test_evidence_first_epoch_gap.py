"""A training loss already well below the held-out loss when the first epoch closes (progressive validation: every
first-pass batch is scored before the model trained on it) is a training set that carries the answer, not
memorisation (evidence/detectors/data.py, FIRST_EPOCH_GAP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.detectors.data import (
    detect_label_leakage,
    detect_overfitting,
    detect_train_below_heldout_first_epoch,
)
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

EPOCH = 30  # steps per epoch
STEPS = np.arange(1, 5 * EPOCH + 1)
EVALS = np.arange(15, 5 * EPOCH + 1, 15)


def build(train: np.ndarray, heldout: np.ndarray) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, train, "run/train.log"))
    run.add_series(Series("eval_loss", EVALS, heldout, "run/train.log"))
    run.epoch_starts = [(1 + e * EPOCH, e + 1) for e in range(5)]
    return run.finalize()


def curve(start: float, floor: float, rate: float, steps: np.ndarray) -> np.ndarray:
    return floor + (start - floor) * np.exp(-rate * steps)


def leaked() -> Run:
    # an off-by-one window: the training loss sinks to 0.05 within the first epoch, the held-out loss to its 0.35
    # floor; the gap is there at step 30 and stays
    return build(curve(0.8, 0.05, 0.1, STEPS), curve(0.8, 0.35, 0.08, EVALS))


def test_gap_at_the_end_of_the_first_epoch_fires() -> None:
    (f,) = detect_train_below_heldout_first_epoch(leaked())
    assert f.cause == "label_leakage" and f.step == EPOCH and f.strength == 0.5
    assert f.numbers["first_epoch_ratio"] < 2 / 3 and f.numbers["later_ratio"] < 2 / 3


def test_overfitting_discounted_when_the_gap_predates_memorisation() -> None:
    # the same run, its held-out loss turning up 40 % after its best: the rise is read beside the first-epoch gap
    ev = curve(0.8, 0.35, 0.08, EVALS)
    ev[5:] = ev[5] * np.linspace(1.0, 1.4, ev.size - 5)
    run = build(curve(0.8, 0.05, 0.1, STEPS), ev)
    over = detect_overfitting(run)
    assert over and any("predates memorisation" in e for e in over[0].evidence)


def test_memorisation_gap_opening_after_the_first_epoch_is_silent() -> None:
    # train and held-out track each other through the first epoch; the gap opens from the third (memorisation)
    train = curve(0.8, 0.3, 0.1, STEPS)
    train[2 * EPOCH:] = np.linspace(train[2 * EPOCH], 0.02, train.size - 2 * EPOCH)
    run = build(train, curve(0.8, 0.32, 0.1, EVALS))
    assert detect_train_below_heldout_first_epoch(run) == []


def test_single_early_heldout_spike_and_late_window_are_silent() -> None:
    # a healthy run whose held-out loss spiked once at the end of the first epoch (BatchNorm statistics unsettled)
    ev = curve(0.8, 0.3, 0.1, EVALS)
    ev[1] = 0.9
    assert detect_train_below_heldout_first_epoch(build(curve(0.8, 0.3, 0.1, STEPS), ev)) == []
    # a log that starts at epoch 113 says nothing about the first pass
    run = leaked()
    run.epoch_starts = [(1 + e * EPOCH, 113 + e) for e in range(5)]
    assert detect_train_below_heldout_first_epoch(run) == []


def test_heldout_collapsing_with_the_train_loss_is_no_memorisation_u() -> None:
    # hf_trainer-label_leakage-s2's shape: both losses collapse to ~0.02, then both edge up; no memorisation discount
    train = np.concatenate([np.linspace(2.3, 0.02, 40), np.linspace(0.02, 0.032, STEPS.size - 40)])
    ev = np.concatenate([[0.26, 0.026, 0.014, 0.014], np.linspace(0.016, 0.022, EVALS.size - 4)])
    (f,) = detect_label_leakage(build(train, ev))
    assert f.strength >= 0.4 and not any("memorisation, not of leakage" in e for e in f.evidence)


REALLIB = Path(__file__).parent / "corpus" / "reallib"


def test_real_off_by_one_window_run_reads_as_leakage() -> None:
    """plain_pytorch-label_leakage-s0 (an RNN forecaster whose training windows end on the target): training loss
    0.232 against a held-out 0.399 at step 60, the end of epoch 1; read blind as overfitting (0.14)."""
    run = load_run([str(REALLIB / "plain_pytorch-label_leakage-s0" / "run")])
    (f,) = detect_train_below_heldout_first_epoch(run)
    assert f.step == 60 and round(f.numbers["first_epoch_ratio"], 2) == 0.58


def test_real_memorising_runs_are_silent() -> None:
    # 32-64 training samples, a few steps per epoch: the gap opens over many passes, never in the first
    for name in ("plain_pytorch-overfitting-s3", "lightning-overfitting-s2", "flax-overfitting-s2"):
        assert detect_train_below_heldout_first_epoch(load_run([str(REALLIB / name / "run")])) == [], name
