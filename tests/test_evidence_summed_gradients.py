"""Summed gradients read from what a log shows (detectors/accumulation.py, detectors/optimisation.py): a short log whose
loss falls and then climbs steadily (a buffer never cleared, acting as momentum with no friction) is read as
zero_grad_missing (confirmed when the first steps trained with no jump, listed otherwise), and a grad-norm sawtooth
whose resets come with validation where an epoch also starts is listed, not confirmed, since a loop that clears by
batch index at each epoch's start resets there too; and a grad-norm ramp from the first step is read once, by the
sawtooth, where it is the sawtooth's first tooth. Synthetic series, several noise seeds each."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import accumulation, optimisation
from traindoc.ingest.model import Run, Series


def build(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> Run:
    run = Run()
    for name, (st, v) in series.items():
        run.add_series(Series(name, np.asarray(st), np.asarray(v, dtype=float), "run/train.log"))
    return run.finalize()


def noise(seed: int, n: int, scale: float) -> np.ndarray:
    return np.exp(scale * np.random.default_rng(seed).standard_normal(n))


def fall_then_climb(seed: int, n: int = 10, low_at: int = 4) -> Run:
    """A loss printed n times: falls ~15x over low_at prints, then climbs back towards where it began."""
    x = np.arange(n, dtype=float)
    shape = np.where(x <= low_at, 1.0 * (0.06 / 1.0) ** (x / low_at), 0.06 + 0.8 * (x - low_at) / (n - 1 - low_at))
    return build({"loss": (np.arange(1, n + 1), shape * noise(seed, n, 0.05))})


def test_a_short_log_that_trains_then_climbs_is_read_as_a_never_cleared_buffer() -> None:
    # the loss falls ~15x over the first four prints with no jump, then climbs: the first steps at this LR trained,
    # which a step beyond the stable range does not do (it overshoots from the first updates): confirmed at the
    # minimum (print 5, the fifth logged step)
    for seed in range(5):
        (f,) = accumulation.detect_loss_climbs_as_lr_decays(fall_then_climb(seed))
        assert f.cause == "zero_grad_missing" and f.numbers["climb"] >= 5  # margin over 3x
        assert f.strength == accumulation.TRAINED_FIRST_STRENGTH >= 0.5 and f.numbers["trained_first"]
        assert 3 <= f.step <= 6
        assert any("the first steps at that LR had trained" in e for e in f.evidence)


def test_a_climb_after_an_early_jump_or_from_the_first_print_stays_listed() -> None:
    x = np.arange(10, dtype=float)
    for seed in range(5):
        # the second print jumps 2x above the first (an overshoot at the first updates, an LR's picture), the loss
        # then falls below its first value and climbs: listed as before, not confirmed
        jump = np.where(x <= 4, 1.0 * (0.06 / 1.0) ** (x / 4), 0.06 + 0.8 * (x - 4) / 5)
        jump[1] = 2.0
        (f,) = accumulation.detect_loss_climbs_as_lr_decays(
            build({"loss": (np.arange(1, 11), jump * noise(seed, 10, 0.05))}))
        assert f.strength < 0.5 and not f.numbers["trained_first"]
        # a loss that barely moves before it climbs (the minimum within the first print's noise): listed
        flat = np.where(x <= 4, 1.0 - 0.01 * x, 0.96 + 0.6 * (x - 4))
        (f,) = accumulation.detect_loss_climbs_as_lr_decays(
            build({"loss": (np.arange(1, 11), flat * noise(seed, 10, 0.01))}))
        assert f.strength < 0.5 and not f.numbers["trained_first"]


def test_short_log_climb_silent_when_late_too_short_or_a_blow_up() -> None:
    for seed in range(5):
        # the minimum at 60 % of a 16-print log, a six-print climb after it: late, not a run that degrades early on
        assert accumulation.detect_loss_climbs_as_lr_decays(fall_then_climb(seed, n=16, low_at=10)) == []
        # eight prints: too few to hold a fall and a six-point climb
        assert accumulation.detect_loss_climbs_as_lr_decays(fall_then_climb(seed, n=8, low_at=2)) == []
    boom = np.concatenate([np.geomspace(1.0, 0.06, 5), np.geomspace(0.2, 500.0, 5)])  # > 100x: the LR's picture
    assert accumulation.detect_loss_climbs_as_lr_decays(build({"loss": (np.arange(1, 11), boom)})) == []


def sawtooth_run(seed: int, period: int, epoch: int | None, offset: int = 0) -> Run:
    """Grad norm ramping 1..period and reset every `period` steps (at `offset` + a multiple of it), validation just
    before each reset, and (optionally) an epoch series whose integer part steps every `epoch` steps; logged every
    step for 128 steps."""
    t = np.arange(128)
    evals = np.arange(period - 1 + offset, 128, period)
    series = {"grad_norm": (t, (1 + ((t - offset) % period)) * noise(seed, t.size, 0.05)),
              "loss": (t, (2.0 * np.exp(-t / 60) + 0.5) * noise(seed + 1, t.size, 0.02)),
              "eval_loss": (evals, np.linspace(2.0, 0.8, evals.size))}
    if epoch:
        series["epoch"] = (t, t / epoch)
    return build(series)


def test_sawtooth_reset_where_validation_and_an_epoch_start_meet_is_listed_not_confirmed() -> None:
    for seed in range(3):
        (f,) = optimisation.detect_zero_grad_sawtooth(sawtooth_run(seed, 16, epoch=16))
        assert f.strength == optimisation.AT_EPOCH_START < 0.5 and f.numbers["at_validation"]
        assert any("epoch's start" in e for e in f.evidence)


def test_sawtooth_reset_by_validation_away_from_epoch_starts_stays_confirmed() -> None:
    for seed in range(2):
        # validation every 16 steps of a 64-step epoch: nothing but validation clears there
        (f,) = optimisation.detect_zero_grad_sawtooth(sawtooth_run(seed, 16, epoch=64))
        assert f.strength >= 0.55 and not any("epoch's start" in e for e in f.evidence)
        (f,) = optimisation.detect_zero_grad_sawtooth(sawtooth_run(seed, 16, epoch=None))
        assert f.strength >= 0.55
        # validation once per epoch, but mid-epoch: the resets follow it and not the epoch's start
        (f,) = optimisation.detect_zero_grad_sawtooth(sawtooth_run(seed, 16, epoch=16, offset=8))
        assert f.strength >= 0.55 and not any("epoch's start" in e for e in f.evidence)


def test_ramp_from_start_is_silent_on_a_sawtooths_first_tooth_unless_the_loss_suffers() -> None:
    for seed in range(3):
        run = sawtooth_run(seed, 16, epoch=None)
        assert optimisation.detect_zero_grad_sawtooth(run)  # the sawtooth reads the ramps, the first one included
        assert accumulation.detect_grad_norm_ramp_from_start(run) == []
    # the same first ramp with a loss that ends at 3x its minimum: evidence of its own, still read (0.65)
    t = np.arange(128)
    g = (1 + (t % 16)) * noise(0, t.size, 0.05)
    loss = np.where(t < 20, 2.0 - 0.07 * t, 0.6 + 0.02 * (t - 20)) * noise(1, t.size, 0.02)
    evals = (np.arange(15, 128, 16), np.linspace(2.0, 3.0, 8))  # validation just before each reset: it clears
    (f,) = accumulation.detect_grad_norm_ramp_from_start(
        build({"grad_norm": (t, g), "loss": (t, loss), "eval_loss": evals}))
    assert f.strength >= 0.65


def test_sawtooth_whose_resets_miss_the_evaluations_is_not_read_as_validation_clearing() -> None:
    """Resets every 16 steps beside validation every 15: the median period is within the cadence's tolerance, but
    the resets drift across the evaluations and none falls where one ran: the buffer has a schedule of its own (an
    accumulation loop), so the reading drops to the accumulation level (0.4), dated at the first ramp (step 0)."""
    t = np.arange(128)
    for seed in range(3):
        run = build({"grad_norm": (t, (1 + t % 16) * noise(seed, t.size, 0.05)),
                     "loss": (t, (2.0 * np.exp(-t / 60) + 0.5) * noise(seed + 1, t.size, 0.02)),
                     "eval_loss": (np.arange(7, 128, 15), np.linspace(2.0, 0.8, 9))})
        (f,) = optimisation.detect_zero_grad_sawtooth(run)
        assert f.strength == 0.4 and f.numbers["at_validation"] is False
        assert f.step == 0 and any("schedule of its own" in e for e in f.evidence)
        # the same sawtooth with each reset right after a validation: validation clears it, a cause
        (g,) = optimisation.detect_zero_grad_sawtooth(sawtooth_run(seed, 16, epoch=None))
        assert g.strength >= 0.55 and g.numbers["at_validation"] is True
