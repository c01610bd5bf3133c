"""A loss off every initial scale from its first logged point, then NaN (issue 8: "data: NaN/huge values from the
start"; detectors/data.py, detect_huge_loss_before_nan)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def loss_run(values: list[float], start: int = 10, every: int = 10) -> Run:
    run = Run()
    steps = start + every * np.arange(len(values))
    run.add_series(Series("loss", steps, np.array(values, dtype=float), "run/train.log"))
    return run.finalize()


NAN = float("nan")


def test_fires_at_the_first_point_when_the_loss_starts_huge_and_turns_nan() -> None:
    # OSVOS#24: "Iter 10: Training Loss = 232345665536.0000", NaN from iter 20 (a 0-255 mask as the label)
    out = data.detect_huge_loss_before_nan(loss_run([2.3e11, NAN, NAN, NAN, NAN]))
    assert len(out) == 1
    f = out[0]
    assert f.cause == "data_pipeline_bug" and f.step == 10 and f.strength == data.HUGE_START_STRENGTH < 0.5
    assert f.numbers["first_nonfinite_step"] == 20
    # two huge points that do not climb (a rise would be the LR's blow-up) read the same
    assert data.detect_huge_loss_before_nan(loss_run([4e8, 3e8, NAN, NAN]))


def test_silent_on_ordinary_starts_climbs_late_excerpts_and_finite_runs() -> None:
    # an ordinary start then NaN: the never-finite and NaN readings cover it, nothing off scale
    assert data.detect_huge_loss_before_nan(loss_run([2.3, 2.1, 2.0, NAN, NAN])) == []
    # huge at first but back to an ordinary value before the NaN: the scale was not off for good
    assert data.detect_huge_loss_before_nan(loss_run([3e6, 40.0, 2.0, NAN, NAN])) == []
    # a loss compounding upward into the NaN (9e14 -> 2e34): the blow-up is the LR's trace (NanContext.lr_lead)
    assert data.detect_huge_loss_before_nan(loss_run([9e14, 2e22, 2e34, NAN, NAN])) == []
    # an excerpt that starts far into its run: its first line is not the start
    assert data.detect_huge_loss_before_nan(loss_run([2e7, 2e7, 2e7, NAN, NAN], start=90_000)) == []
    # huge but never non-finite (a DQN's TD loss, unnormalised rewards): not this rule's
    assert data.detect_huge_loss_before_nan(loss_run([2e6, 1e6, 5e5, 1e5])) == []
    # a sum-reduced VAE loss (7e4) then NaN, late in its run (g6-kvfrans-vae, epoch 427): silent
    vae = load_run([REALWORLD / "g6-kvfrans-vae-5-log-eps-1e-8-nan-epoch-432" / "run"])
    assert data.detect_huge_loss_before_nan(vae) == []


def test_osvos_real_log_lists_the_targets() -> None:
    run = load_run([REALWORLD / "g7-osvos-tf-24-nonbinary-label-loss-1e11-nan" / "run"])
    out = data.detect_huge_loss_before_nan(run)
    assert out and out[0].step == 10 and "2.3e11" in out[0].evidence[0]


def stable_then_nan(finite: int, lr: float | None = None, start: int = 10) -> Run:
    """`finite` steady losses every 10 steps, then NaN for good (and an LR logged at every point, if given)."""
    vals = [2.0 - 0.01 * i for i in range(finite)] + [NAN] * 4
    run = Run()
    steps = start + 10 * np.arange(len(vals))
    run.add_series(Series("loss", steps, np.array(vals), "run/train.log"))
    if lr is not None:
        run.add_series(Series("lr", steps, np.full(len(vals), lr), "run/train.log"))
    return run.finalize()


def test_bad_batch_listed_for_a_nan_at_once_after_a_stable_stretch() -> None:
    # 10 steady points (>= nan_prior.STABLE_POINTS), then NaN at step 110: the LR is ruled out by the stable stretch
    out = data.detect_nan_bad_batch(stable_then_nan(10))
    assert len(out) == 1 and out[0].step == 110 and out[0].cause == "data_pipeline_bug"
    assert out[0].strength == data.NAN_BAD_BATCH < 0.35  # below the op's and float16's level
    assert "stable" in out[0].evidence[0]


def test_bad_batch_silent_where_the_lr_is_the_reading_or_the_nan_is_skipped() -> None:
    # two finite points then NaN, nothing stated: an early NaN is the LR's first (nan_prior.lr_first)
    assert data.detect_nan_bad_batch(stable_then_nan(2)) == []
    # a loss climbing into the NaN: an instability, the LR's or exploding gradients'
    climb = Run()
    climb.add_series(Series("loss", 10 * np.arange(1, 12), np.array([2.0, 2.1, 2.3, 2.6, 3.0, 3.5, 4.2, 5.0, 6.5,
                                                                        NAN, NAN]), "run/train.log"))
    assert data.detect_nan_bad_batch(climb.finalize()) == []
    # NaN from the first logged point: detect_nan_from_start's
    assert data.detect_nan_bad_batch(stable_then_nan(0)) == []
    # a NaN the scaler skipped (finite losses after it): no bad sample reached the weights
    skip = Run()
    skip.add_series(Series("loss", 10 * np.arange(1, 15), np.array([2.0] * 10 + [NAN, 1.9, 1.9, 1.9]),
                           "run/train.log"))
    assert data.detect_nan_bad_batch(skip.finalize()) == []
    # a healthy run never fires
    assert data.detect_nan_bad_batch(loss_run([2.0, 1.8, 1.6, 1.5, 1.4])) == []


def test_bad_batch_on_the_wenet_log() -> None:
    # wenet#496: every rank's loss NaN at batch 20100 at lr 4e-5 (a bad audio sample poisoned the weights)
    run = load_run([REALWORLD / "wenet-496-nan-all-ranks-bad-audio" / "run"])
    out = data.detect_nan_bad_batch(run)
    assert out and out[0].step == 20100
