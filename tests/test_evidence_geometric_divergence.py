"""A loss that compounds by one constant factor from its first point reads as the LR, not exploding gradients; a
short training and held-out climb from the first epoch lists the LR (evidence/growth.py: constant_factor;
evidence/detectors/optimisation.py: geometric_from_start, _short_climb). Fires/silent tests on constructed runs."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import optimisation
from traindoc.evidence.growth import compounding_growth, constant_factor
from traindoc.ingest.model import ConfigValue, Run, Series


def _run(config: dict[str, str] | None = None, **series: list[float]) -> Run:
    run = Run()
    for name, vals in series.items():
        v = np.asarray(vals, dtype=float)
        run.add_series(Series(name, np.arange(1, v.size + 1), v, "run/train.log"))
    for i, (k, val) in enumerate((config or {}).items(), 1):
        run.config[k] = ConfigValue(k, val, "run/config.yaml", i, "yaml", val)
    return run.finalize()


GEOMETRIC = list(451.0 * 3.55 ** np.arange(13))  # GD past 2/lambda on one linear unit: x3.55 at every epoch
# an RNN whose growth speeds up as its weights grow: the first factor 7x below the later ones
ACCELERATING = [58.8, 3.3e6, 1.25e12, 4.7e17, 2.0e23, 8.8e28]


def _cause(findings, cause: str):
    return next((f for f in findings if f.cause == cause), None)


def test_constant_factor_tells_a_geometric_climb_from_an_accelerating_one() -> None:
    for vals, want in ((GEOMETRIC, True), (ACCELERATING, False)):
        st, v = np.arange(1, len(vals) + 1), np.asarray(vals)
        lc = compounding_growth(st, v)
        assert lc is not None and constant_factor(st, v, lc) is want
    # uneven log spacing: a factor per point is no factor per update
    st, v = np.array([1, 2, 3, 5, 9, 17]), 10.0 * 4.0 ** np.arange(6)
    assert not constant_factor(st, v, compounding_growth(st, v))


def test_geometric_climb_from_the_start_reads_as_the_lr() -> None:
    run = _run(loss=GEOMETRIC)
    lr = _cause(optimisation.detect_lr_too_high(run), "lr_too_high")
    assert lr is not None and lr.strength >= optimisation.CLIMB_STRENGTH and lr.numbers["geometric"]
    ge = optimisation.detect_grad_explosion(run)
    assert ge and ge[0].strength < 0.5 and ge[0].numbers["loss_only"]


def test_accelerating_or_recurrent_climb_stays_an_explosion() -> None:
    # the accelerating RNN-like climb: grad_explosion keeps its loss-only strength, no geometric LR reading
    run = _run(loss=ACCELERATING)
    assert optimisation.detect_grad_explosion(run)[0].strength >= 0.55
    lr = _cause(optimisation.detect_lr_too_high(run), "lr_too_high")
    assert lr is None or not lr.numbers.get("geometric")
    # the same constant factor, with an LSTM named in the config: recurrence can grow the gradients
    rec = _run({"model": "LSTM"}, loss=GEOMETRIC)
    assert optimisation.detect_grad_explosion(rec)[0].strength >= 0.55
    lr = _cause(optimisation.detect_lr_too_high(rec), "lr_too_high")
    assert lr is None or not lr.numbers.get("geometric")
    # learning first, then a constant-factor climb: not from the start
    late = _run(loss=[900.0, 700.0, 500.0, *GEOMETRIC[:8]])
    lr = _cause(optimisation.detect_lr_too_high(late), "lr_too_high")
    assert lr is None or not lr.numbers.get("geometric")


def test_short_climb_of_training_and_held_out_lists_the_lr() -> None:
    run = _run(loss=[38.2, 377.1, 839.4], eval_loss=[25.3, 890.0, 9965.7])
    lr = _cause(optimisation.detect_lr_too_high(run), "lr_too_high")
    assert lr is not None and lr.strength >= optimisation.CLIMB_STRENGTH and lr.numbers["short_climb"]


def test_short_climb_silent() -> None:
    cases = [
        dict(loss=[38.2, 377.1, 839.4]),  # no held-out curve: one curve rising 22x is not enough
        dict(loss=[38.2, 377.1, 839.4], eval_loss=[25.3, 30.0, 41.0]),  # held-out rose < 10x
        dict(loss=[38.2, 20.1, 839.4], eval_loss=[25.3, 890.0, 9965.7]),  # training fell first
        dict(loss=[-0.39, -0.389, -0.384], eval_loss=[-0.40, -0.41, -0.42]),  # negative losses (a Dice loss)
        dict(loss=list(np.linspace(1.0, 30.0, 9)), eval_loss=list(np.linspace(1.0, 30.0, 9))),  # not a short table
    ]
    for c in cases:
        lr = _cause(optimisation.detect_lr_too_high(_run(**c)), "lr_too_high")
        assert lr is None or not lr.numbers.get("short_climb"), c
