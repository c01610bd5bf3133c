"""A normalisation epsilon of 0 in the config locates the op of a NaN (evidence/norm_eps.py; docs/diagnose.md, "A
normalisation epsilon of 0"): fires where the loss goes non-finite at a known step with no lead before it, silent
with a positive epsilon, with finite losses, with a bare (Adam) `eps`, and after a climbing loss (the LR's NaN)."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import numerics
from traindoc.evidence.norm_eps import zero_norm_eps
from traindoc.ingest.model import ConfigValue, Run, Series

NAN_STEP = 160


def _run(loss: np.ndarray, config: dict[str, object]) -> Run:
    run = Run()
    run.add_series(Series("loss", 10 * np.arange(1, len(loss) + 1), loss, "run/metrics.csv"))
    for i, (k, v) in enumerate(config.items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


def steady_then_nan(config: dict[str, object]) -> Run:
    """15 slowly falling losses logged every 10 steps, NaN for good from step NAN_STEP."""
    loss = 2.3 * np.exp(-np.arange(30) / 60.0)
    loss[NAN_STEP // 10 - 1:] = np.nan
    return _run(loss, config)


def test_zero_epsilon_locates_the_op_at_the_first_nan() -> None:
    run = steady_then_nan({"optimizer": "adamw", "lr": 3e-4, "model.layer_norm_eps": 0.0})
    (f,) = numerics.detect_nan_inf(run)
    assert f.step == NAN_STEP and f.strength >= 0.7 and f.numbers["zero_norm_eps"]
    assert any("`model.layer_norm_eps` to 0 [config.yaml:3]" in e for e in f.evidence)
    # the fix restores PyTorch's default epsilon at the line the config sets it
    assert f.fix_sites == [{"key": "model.layer_norm_eps", "file": "run/config.yaml", "line": 3, "before": "0.0",
                            "after": "1e-5"}]


def test_zero_epsilon_counts_where_the_log_cannot_otherwise_tell() -> None:
    # no precision and no LR stated: without the epsilon this NaN is a three-way "cannot tell" (0.35)
    without = numerics.detect_nan_inf(steady_then_nan({}))[0]
    assert without.strength < 0.5
    (f,) = numerics.detect_nan_inf(steady_then_nan({"rms_norm_eps": 0}))
    assert f.strength >= 0.7


def test_positive_epsilon_is_a_guard() -> None:
    for eps in (1e-5, 1e-12):
        run = steady_then_nan({"optimizer": "adamw", "lr": 3e-4, "norm_eps": eps})
        assert zero_norm_eps(run) is None
        (f,) = numerics.detect_nan_inf(run)
        assert f.strength < 0.7 and f.fix_sites == []


def test_adam_eps_is_not_a_normalisation_epsilon() -> None:
    run = steady_then_nan({"optimizer": "adamw", "lr": 3e-4, "eps": 0.0})
    assert zero_norm_eps(run) is None


def test_zero_epsilon_with_finite_losses_is_no_finding() -> None:
    run = _run(2.3 * np.exp(-np.arange(30) / 60.0), {"norm_eps": 0.0})
    assert zero_norm_eps(run) is not None
    assert numerics.detect_nan_inf(run) == []


def test_a_nan_after_a_climbing_loss_stays_the_lrs() -> None:
    # the loss climbs 3x over 8 points before the NaN: the instability leads to the LR, the epsilon does not override
    loss = np.concatenate([np.linspace(2.0, 1.0, 8), np.linspace(1.2, 3.6, 8), np.full(8, np.nan)])
    (f,) = numerics.detect_nan_inf(_run(loss, {"norm_eps": 0.0}))
    assert f.strength <= 0.25 and not any("normalisation epsilon" in e for e in f.evidence)
