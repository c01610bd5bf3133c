"""A NaN the held-out loss shows first, through finite weights, is made by some inputs (evidence/nan_inputs.py): the
inputs and an op are listed level, the LR and a float16 gradient overflow drop out. Fires/silent tests on small
constructed runs and on development corpus runs (tests/corpus/reallib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.diagnosis import unexplained_nan
from traindoc.evidence.detectors import data, numerics, optimisation
from traindoc.evidence.nan_inputs import inputs_first
from traindoc.evidence.nan_prior import lr_first
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def run_with(eval_nan_from: int, train_nan_from: int = 60, grad: bool = False, climb: bool = False) -> Run:
    """Train loss every 10 steps from 10 (slowly falling, NaN for good from `train_nan_from`), a held-out loss every
    10 steps from 10, NaN from `eval_nan_from`; optionally a grad norm beside the train loss, or a 20x climb before
    the NaN."""
    steps = np.arange(10, 210, 10)
    loss = 2.0 * np.exp(-steps / 400.0)
    if climb:
        loss[(steps >= train_nan_from - 30) & (steps < train_nan_from)] *= 20.0
    loss[steps >= train_nan_from] = np.nan
    ev = 2.1 * np.exp(-steps / 400.0)
    ev[steps >= eval_nan_from] = np.nan
    run = Run()
    run.add_series(Series("loss", steps, loss, "run/train.log"))
    run.add_series(Series("eval_loss", steps, ev, "run/train.log"))
    if grad:
        g = np.full(steps.size, 0.5)
        g[steps >= train_nan_from] = np.nan
        run.add_series(Series("grad_norm", steps, g, "run/train.log"))
    return run.finalize()


def test_a_heldout_nan_before_a_finite_train_loss_points_at_the_inputs() -> None:
    run = run_with(eval_nan_from=30)
    got = inputs_first(run)
    assert got is not None and got.step == 30 and got.finite_until == 50
    f = numerics.detect_nan_inf(run)[0]
    assert f.strength == 0.35 and f.numbers["inputs_first"]
    d = data.detect_heldout_nan_first(run)
    assert d and d[0].cause == "data_pipeline_bug" and d[0].strength == 0.35 and d[0].step == 30
    # a gradient overflow or a step size acts through the weights: both drop below the two readings
    assert all(x.strength <= 0.2 for x in numerics.detect_fp16_overflow(run))
    assert not lr_first(run)
    assert all(x.strength < 0.3 for x in optimisation.detect_lr_too_high(run))
    assert unexplained_nan.candidates(f) == ["data_pipeline_bug", "nan_inf", "fp16_overflow"]


def test_the_same_step_counts_only_with_a_finite_grad_norm() -> None:
    # the evaluation at step 50 and the last finite train loss at step 50: finite weights only if that step's update
    # had a finite gradient (x / x.norm() has a finite forward and a NaN backward at 0)
    assert inputs_first(run_with(eval_nan_from=50)) is None
    got = inputs_first(run_with(eval_nan_from=50, grad=True))
    assert got is not None and got.finite_until == 50


def test_silent_when_the_train_loss_goes_first_together_or_never_or_after_a_climb() -> None:
    assert inputs_first(run_with(eval_nan_from=60)) is None  # same step as the train NaN: weights may be NaN
    assert inputs_first(run_with(eval_nan_from=80)) is None  # after it
    assert inputs_first(run_with(eval_nan_from=30, train_nan_from=10_000)) is None  # detect_heldout_nonfinite's
    assert inputs_first(run_with(eval_nan_from=40, climb=True)) is None  # the LR's lead
    assert data.detect_heldout_nan_first(run_with(eval_nan_from=60)) == []


def test_corpus_runs() -> None:
    run = load_run([REALLIB / "plain_pytorch-nan_inf-s0" / "run"])  # val NaN at step 15, train finite at 20
    assert inputs_first(run) is not None
    causes = {f.cause for f in numerics.detect_nan_inf(run) + data.detect_heldout_nan_first(run)}
    assert causes == {"nan_inf", "data_pipeline_bug"}
    for name in ("plain_pytorch-fp16_overflow-s3", "hf_trainer-grad_explosion-s0", "plain_pytorch-grad_accum_bug-s3"):
        assert inputs_first(load_run([REALLIB / name / "run"])) is None, name
