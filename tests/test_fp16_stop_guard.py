"""A trainer's NaN guard that stops the run after its last finite logged loss ("Loss is nan, stopping training"),
with no value logged as NaN: fp16_overflow lists float16 beside the op detect_nan_inf reads from the same line, as
it does for a logged NaN that stays (detectors/numerics.py: detect_fp16_overflow). Fires on a constructed run at a
known step and on the real log of mar#69 (autocast float16); silent where training went on after the guard, where
the run states bf16, and where the LR is above its range (the LR's reading). The guard line also makes the run
readable (diagnosis/build.py: has_enough): a NaN the trainer states is a reading, not "not enough data"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.diagnosis.build import diagnose, has_enough
from traindoc.evidence.detectors import numerics
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, LogEvent, Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def guarded_run(guard_step: int = 1000, more_after: bool = False, precision: str | None = None,
                lr: float | None = 4e-6, sgd_lr: float | None = None) -> Run:
    run = Run()
    if sgd_lr is not None:  # a configured SGD LR (its reference range tops at 0.5, docs/diagnose.md)
        run.config["optimizer"] = ConfigValue("optimizer", "SGD", "run/config.yaml", 1, "yaml", "SGD")
        run.config["lr"] = ConfigValue("lr", sgd_lr, "run/config.yaml", 2, "yaml", str(sgd_lr))
    steps = np.arange(100, 1100 if not more_after else 1600, 100)
    run.add_series(Series("loss", steps, 0.26 + 0.005 * np.sin(steps / 100.0), "run/train.log", "loss"))
    if lr is not None:  # logged, low enough to clear an LR too high (evidence/nan_prior.py)
        run.add_series(Series("lr", steps, np.full(steps.size, lr), "run/train.log", "lr"))
    run.events.append(LogEvent("error", "Loss is nan, stopping training", guard_step, "nan_loss", "run/train.log",
                               len(steps) + 1))
    if precision is not None:
        run.meta["precision"] = precision
    return run.finalize()


def test_a_guard_that_stopped_the_run_lists_fp16_beside_the_op() -> None:
    run = guarded_run()
    f = numerics.detect_fp16_overflow(run)
    assert f and f[0].step == 1000 and f[0].strength == pytest.approx(0.35)
    op = numerics.detect_nan_inf(run)[0]
    assert op.strength == pytest.approx(0.35)  # level: the logs cannot tell
    # no LR stated: the LR-first prior of an early NaN puts fp16 next, at 0.25 (evidence/nan_prior.py)
    assert numerics.detect_fp16_overflow(guarded_run(lr=None))[0].strength == pytest.approx(0.25)


def test_the_real_mar_log_lists_fp16() -> None:
    run = load_run([REALWORLD / "g8-mar-69-autocast-fp16-loss-nan" / "run"])
    f = numerics.detect_fp16_overflow(run)
    assert f and 0.3 <= f[0].strength < 0.5


def test_silent_when_training_went_on_after_the_guard() -> None:
    assert not numerics.detect_fp16_overflow(guarded_run(guard_step=500, more_after=True))


def test_silent_when_the_run_states_bf16_or_the_lr_is_above_its_range() -> None:
    assert not numerics.detect_fp16_overflow(guarded_run(precision="bf16-mixed"))
    assert not numerics.detect_fp16_overflow(guarded_run(lr=None, sgd_lr=5.0))  # 10x above SGD's range


def test_a_guard_under_one_logged_loss_is_a_nan_the_log_cannot_explain_not_missing_data() -> None:
    run = load_run([REALWORLD / "g8-mar-69-autocast-fp16-loss-nan" / "run"])
    assert has_enough(run)
    doc = diagnose(run)
    assert doc["verdict"] == "problems_found" and "cannot tell" in doc["summary"]
    assert doc["confidence"] < 0.5 and "fp16_overflow" in [c["cause"] for c in doc["root_causes"]]


def test_one_logged_loss_without_a_guard_is_still_not_enough() -> None:
    run = Run()
    run.add_series(Series("loss", np.array([100]), np.array([0.26]), "run/train.log", "loss"))
    run = run.finalize()
    assert not has_enough(run)
    assert diagnose(run)["verdict"] == "insufficient_data"
