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
