"""A loss scale that dipped under 2^8 and climbed back (evidence/scale_recovery.py; detectors/numerics.py:
detect_fp16_overflow).

Silent (context, 0.2): the scale falls from 2^16 to 8 and climbs back to 1024, 2 % of the steps skipped, the loss
still falling: the scaler's routine search at a low point. Fires (0.75, the scale under 2^8 in a float16 run): the
same dip when the scale stays down, when the skipped steps pass 5 %, or when the run stops improving."""

from __future__ import annotations

import numpy as np
import pytest

from traindoc.evidence.detectors import numerics
from traindoc.evidence.scale_recovery import still_improves
from traindoc.ingest.model import Run, Series

STEPS = np.arange(10, 1010, 10)


def falling_loss(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 2.5 * np.exp(-STEPS / 400.0) + 0.3 + 0.02 * rng.standard_normal(STEPS.size)


def flat_loss(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 2.3 + 0.02 * rng.standard_normal(STEPS.size)


def dip(recovers: bool) -> np.ndarray:
    """2^16 for 20 points, halved 13 times to 8, held there, then (recovers) doubled 7 times back to 1024."""
    s = np.full(STEPS.size, 65536.0)
    for i in range(13):
        s[20 + i:] = 65536.0 / 2 ** (i + 1)
    if recovers:
        for i in range(7):
            s[50 + 5 * i:] = 8.0 * 2 ** (i + 1)
    return s


def make_run(loss: np.ndarray, scale: np.ndarray, skipped: int) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log", "loss"))
    run.add_series(Series("loss_scale", STEPS, scale, "run/train.log", "loss_scale"))
    run.add_series(Series("skipped", STEPS, np.linspace(0, skipped, STEPS.size).round(), "run/train.log", "skipped"))
    return run.finalize()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_dip_that_recovers_with_few_skips_while_learning_is_routine(seed: int) -> None:
    f = numerics.detect_fp16_overflow(make_run(falling_loss(seed), dip(recovers=True), skipped=20))[0]
    assert f.strength == pytest.approx(0.2) and f.numbers["routine_search"]
    assert any("dipped to 8 and climbed back to 1024" in e and "20 of 1000 steps" in e for e in f.evidence)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", ["stays_down", "many_skips", "not_learning"])
def test_the_low_scale_stays_an_overflow_without_all_three_facts(seed: int, case: str) -> None:
    loss = flat_loss(seed) if case == "not_learning" else falling_loss(seed)
    run = make_run(loss, dip(recovers=case != "stays_down"), skipped=100 if case == "many_skips" else 20)
    f = numerics.detect_fp16_overflow(run)[0]
    # 0.65 for the scale under 2^8, +0.1 for float16 (the falling logged scale shows the scaler)
    assert f.strength == pytest.approx(0.75)
    assert any("driven down to 8" in e for e in f.evidence)


def test_two_evaluations_that_improve_are_learning() -> None:
    run = Run()
    run.add_series(Series("eval_accuracy", np.array([1, 1840]), np.array([0.49, 0.70]), "run/x.log", "acc"))
    run = run.finalize()
    assert (s := still_improves(run)) is not None and "eval_accuracy improves from 0.49 to 0.7" in s
    flat = Run()
    flat.add_series(Series("eval_accuracy", np.array([1, 1840]), np.array([0.49, 0.495]), "run/x.log", "acc"))
    assert still_improves(flat.finalize()) is None
