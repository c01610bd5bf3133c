"""A loss at chance that drifts up while the accuracy falls (detectors/not_learning.py: drift_up_at_chance): the
weights move and hurt, so an LR too high and a schedule that keeps raising it are listed above the look-alikes
(frozen weights, dead units, vanishing gradients) that a stationary or constant loss would point at. Fires/silent
tests on small constructed 10-class logs (transformers#566's print: `Training Acc. a - Training Loss l`)."""

from __future__ import annotations

import math

import numpy as np

from traindoc.evidence.detectors import not_learning
from traindoc.ingest.model import ConfigValue, Run, Series

LN10 = math.log(10)


def chance_run(loss_drift: float, acc_drift: float, seed: int = 0, lr: float | None = None,
               logged_lr: bool = False, noise: float = 0.001) -> Run:
    """16 points at ln(10) with a linear drift over the run (and `noise` relative noise), accuracy at 1/10 drifting
    too."""
    rng = np.random.default_rng(seed)
    st = 1600 * np.arange(1, 17)
    x = np.linspace(-0.5, 0.5, st.size)
    loss = LN10 * (1 + loss_drift * x + noise * rng.standard_normal(st.size))
    acc = 0.1 * (1 + acc_drift * x + 0.01 * rng.standard_normal(st.size))
    run = Run()
    run.add_series(Series("loss", st, loss, "run/train.log"))
    run.add_series(Series("accuracy", st, acc, "run/train.log"))
    if logged_lr:
        run.add_series(Series("lr", st, np.full(st.size, 1e-3), "run/train.log"))
    if lr is not None:
        run.config["lr"] = ConfigValue("lr", lr, "run/config.yaml", 1, "yaml", str(lr))
    return run.finalize()


def strengths(run: Run) -> dict[str, float]:
    out: dict[str, float] = {}
    for det in (not_learning.detect_drift_up_lr, not_learning.detect_drift_up_schedule,
                not_learning.detect_frozen_params, not_learning.detect_loss_at_chance,
                not_learning.detect_vanishing_gradients):
        for f in det(run):
            out[f.cause] = max(out.get(f.cause, 0.0), f.strength)
    return out


def test_a_loss_at_chance_drifting_up_with_the_accuracy_falling_lists_the_lr_above_the_look_alikes() -> None:
    for seed in range(3):
        run = chance_run(0.007, -0.15, seed)  # 2.296 -> 2.312, accuracy 0.107 -> 0.093
        assert not_learning.never_learned(run) is not None
        assert not_learning.drift_up_at_chance(run) is not None, seed
        s = strengths(run)
        assert s["lr_too_high"] == not_learning.DRIFT_LR and s["scheduler_misuse"] == not_learning.DRIFT_SCHEDULE
        for cause in ("frozen_params", "dead_units", "vanishing_gradients"):
            assert s[cause] <= not_learning.DRIFT_LOOKALIKE < s["scheduler_misuse"] < s["lr_too_high"] < 0.5


def test_silent_on_a_stationary_loss_an_accuracy_that_does_not_fall_or_a_stated_lr_in_range() -> None:
    for seed in range(3):
        flat = chance_run(0.0, 0.0, seed, noise=0.003)  # frozen weights: batch-to-batch noise, no trend
        assert not_learning.never_learned(flat) is not None and not_learning.drift_up_at_chance(flat) is None
        assert "lr_too_high" not in strengths(flat) and strengths(flat)["frozen_params"] == 0.4
    rising_acc = chance_run(0.007, 0.15)  # the accuracy rises: the loss drift is not the model getting worse
    assert not_learning.drift_up_at_chance(rising_acc) is None
    in_range = chance_run(0.007, -0.15, lr=5e-4)  # a stated LR low for any optimiser: no LR reading
    assert not_learning.drift_up_at_chance(in_range) is not None and "lr_too_high" not in strengths(in_range)
    logged = chance_run(0.007, -0.15, logged_lr=True)  # a logged LR shows its schedule: the scheduler rules read it
    assert "scheduler_misuse" not in strengths(logged) or strengths(logged)["scheduler_misuse"] != 0.38


def test_silent_on_a_run_that_learned_and_climbed_back_to_chance() -> None:
    # the loss fell to 0.6 (74 % under ln 10), then climbed back to chance and sits there, drifting up: the climb is
    # detect_learned_then_lost's reading (steps too large undid training), not a run that never learned
    st = np.arange(1, 31)
    loss = np.concatenate([np.linspace(2.3, 0.6, 6), np.linspace(0.8, 2.2, 8), np.linspace(2.28, 2.33, 16)])
    acc = np.concatenate([np.linspace(0.1, 0.8, 6), np.linspace(0.7, 0.12, 8), np.linspace(0.105, 0.09, 16)])
    run = Run()
    run.add_series(Series("loss", st, loss, "run/train.log"))
    run.add_series(Series("accuracy", st, acc, "run/train.log"))
    run = run.finalize()
    assert not_learning.never_learned(run) is not None and not_learning.learned_then_lost(run) is not None
    assert not_learning.drift_up_at_chance(run) is None and not_learning.detect_drift_up_lr(run) == []
