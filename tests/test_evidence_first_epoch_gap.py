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
    turned_in_first_epoch,
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


def test_one_logged_batch_is_no_first_epoch_estimate() -> None:
    # g13-gluonnlp-ner's shape: the log prints the last batch's loss twice per epoch (7.50, then 0.93 against a
    # held-out 2.02 at the first epoch's end, 3.49 two batches on); one batch below the held-out loss is noise, and
    # the first epoch's two points together sit above it
    steps = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    train = np.array([7.50, 0.93, 3.49, 0.80, 1.10, 0.70, 0.90, 0.60, 0.80, 0.55])
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", np.array([2, 4, 6, 8, 10]), np.array([2.02, 1.70, 1.60, 1.55, 1.52]),
                          "run/train.log"))
    run.epoch_starts = [(1 + 2 * e, e + 1) for e in range(5)]
    assert detect_train_below_heldout_first_epoch(run.finalize()) == []
    # (two logged points per window, both below, do read as the gap: test_real_off_by_one_window_run_reads_as_leakage)


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


def long_epochs(train: np.ndarray, heldout: np.ndarray) -> Run:
    """Two epochs of 75 steps: five evaluations inside the first."""
    run = build(train, heldout)
    run.epoch_starts = [(1, 1), (76, 2)]
    return run.finalize()


def test_heldout_turning_up_inside_the_first_epoch_is_no_memorisation() -> None:
    # a hand pre-shift: the held-out loss dips while the model learns token statistics, then climbs as the copy
    # shortcut takes over, all before step 75; the training loss collapses meanwhile
    train = curve(2.0, 0.01, 0.06, STEPS)
    ev = np.array([1.8, 1.5, 1.7, 2.1, 2.4, 2.6, 2.8, 2.9, 3.0, 3.1])
    run = long_epochs(train, ev)
    assert turned_in_first_epoch(run) == (30, 1.5, 75, 2.4)
    (over,) = detect_overfitting(run)
    assert any("inside the first epoch" in e for e in over.evidence)
    (leak,) = detect_label_leakage(run)
    assert not any("memorisation, not of leakage" in e for e in leak.evidence)


def test_turn_after_the_first_epoch_or_with_a_rising_train_loss_is_silent() -> None:
    train = curve(2.0, 0.01, 0.06, STEPS)
    u_late = np.array([1.8, 1.5, 1.3, 1.2, 1.1, 1.3, 1.6, 1.9, 2.2, 2.5])  # the U's bottom closes epoch 1
    assert turned_in_first_epoch(long_epochs(train, u_late)) is None
    rising = train.copy()
    rising[30:] = np.linspace(train[30], 3.0, rising.size - 30)  # both losses climb: instability
    ev = np.array([1.8, 1.5, 1.7, 2.1, 2.4, 2.6, 2.8, 2.9, 3.0, 3.1])
    assert turned_in_first_epoch(long_epochs(rising, ev)) is None


def test_real_pre_shift_run_turns_inside_its_first_epoch() -> None:
    """lightning-label_leakage-s0 (inputs pre-shifted by hand): held-out 3.13 at step 14 -> 5.27 at step 59, its first
    epoch spanning steps 4-63, while the training loss falls 0.98 -> 0.10."""
    run = load_run([str(REALLIB / "lightning-label_leakage-s0" / "run")])
    got = turned_in_first_epoch(run)
    assert got is not None and got[0] == 14 and got[2] == 59 and round(got[3] / got[1], 2) == 1.69
