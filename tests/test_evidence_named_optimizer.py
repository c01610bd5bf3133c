"""The optimiser a run names decides which LR reference applies, and a run cut short by NaN is not a short schedule.

Both rules came out of the fault zoo's grad_explosion scenario (phase1 with optim.name=sgd keeps Muon/Grokfast keys
in its config) but are general: a trainer's config often carries keys of optimisers it is not running.
"""

from __future__ import annotations

import numpy as np

from traindoc.evidence.context import configured_lrs, optimizer_family
from traindoc.evidence.detectors import not_learning, optimisation
from traindoc.ingest.model import ConfigValue, Run, Series

N = 120
T = np.arange(N)


def make_run(config: dict[str, object], meta_optimizer: str | None = None,
             loss: np.ndarray | None = None, lr: np.ndarray | None = None) -> Run:
    run = Run()
    loss = loss if loss is not None else 4.0 * np.exp(-T / 60) + 1.0
    lr = lr if lr is not None else 0.5 * np.minimum(1.0, (T + 1) / 100)
    run.add_series(Series("loss", T, loss, "run/metrics.jsonl"))
    run.add_series(Series("lr", T, lr, "run/metrics.jsonl"))
    for i, (k, v) in enumerate(config.items(), 1):
        run.config[k] = ConfigValue(k, v, "ws/config.yaml", i, "yaml", str(v))
    if meta_optimizer is not None:
        run.meta["optimizer"] = meta_optimizer
    return run.finalize()


PHASE1_KEYS = {"optim.muon_lr": 5e-3, "optim.adam_lr": 0.5, "optim.grokfast_lambda": 0.5,
               "optim.grokfast_alpha": 0.98, "optim.warmup_steps": 100}


def test_named_sgd_wins_over_muon_keys_in_the_config() -> None:
    run = make_run({**PHASE1_KEYS, "optim.name": "sgd"}, meta_optimizer="sgd")
    assert optimizer_family(run) == "sgd"
    # an SGD LR of 0.5 is inside SGD's reference range, not "100x Adam's 3e-3"
    assert all(c.family == "sgd" for c in configured_lrs(run))
    assert optimisation.detect_lr_too_high(run) == []


def test_muon_keys_still_identify_mugrokfast_when_nothing_is_named() -> None:
    assert optimizer_family(make_run(PHASE1_KEYS)) == "mugrokfast"
    assert optimizer_family(make_run(PHASE1_KEYS, meta_optimizer="mugrokfast")) == "mugrokfast"


def test_warmup_longer_than_a_completed_run_fires() -> None:
    run = make_run({"optim.warmup_steps": 500}, meta_optimizer="adamw")
    f = not_learning.detect_scheduler_misuse(run)
    assert f and any("longer than the run" in e for e in f[0].evidence)


def test_warmup_longer_than_a_run_stopped_by_nan_is_silent() -> None:
    loss = 4.0 * np.exp(-T / 60) + 1.0
    loss[76:] = np.nan  # the run diverged and stopped: its length is not the configured one
    run = make_run({"optim.warmup_steps": 500}, meta_optimizer="adamw", loss=loss)
    assert not_learning.detect_scheduler_misuse(run) == []


def test_yolo_lr0_is_the_configured_lr_not_the_bias_groups_warmup_peak() -> None:
    # Ultralytics/YOLOv5 write the LR as lr0; the first logged group (biases) warms down from warmup_bias_lr=0.1,
    # so the logged peak 0.07 is not the LR the run trained at
    lr = np.where(T < 3, 0.1 - 0.03 * (T + 1), 0.01 * (1 - T / N))
    run = make_run({"lr0": 0.01, "optimizer": "Adam"}, lr=lr)
    (c,) = configured_lrs(run)
    assert c.value == 0.01 and c.cv is not None and c.cv.key == "lr0"
    # the run trains without a blow-up at 3.3x Adam's top: a risk listed below 0.3, not a cause
    f = optimisation.detect_lr_too_high(run)
    assert f and f[0].strength < 0.3


def test_named_rmsprop_is_judged_on_its_own_range() -> None:
    """RMSprop's LRs sit on Adam's scale (1e-3 Hinton 2012 and Keras, 1e-2 torch's default): 0.477 is far above
    them, where the wide range for an unnamed optimiser (top 0.3, SGD's territory) would call it a mere candidate;
    torch's default 1e-2 stays inside."""
    flat = np.full(N, 1.0)
    high = make_run({"optimizer": "rmsprop", "lr": 0.477}, loss=flat, lr=np.full(N, 0.477))
    assert optimizer_family(high) == "rmsprop"
    found = optimisation.detect_lr_too_high(high)
    assert found and found[0].strength >= 0.5 and any("RMSprop" in e for e in found[0].evidence)
    # the same LR in a run that learns: named RMSprop is still far off its range, an unnamed optimiser a candidate
    assert optimisation.detect_lr_too_high(make_run({"optimizer": "rmsprop", "lr": 0.477},
                                                    lr=np.full(N, 0.477)))[0].strength >= 0.5
    unnamed = make_run({"lr": 0.477}, lr=np.full(N, 0.477))
    assert optimizer_family(unnamed) == "unknown"
    assert all(f.strength < 0.5 for f in optimisation.detect_lr_too_high(unnamed))
    default = make_run({"optimizer": "RMSprop", "lr": 1e-2}, lr=np.full(N, 1e-2))
    assert optimisation.detect_lr_too_high(default) == []


def test_named_lars_is_judged_on_its_own_range() -> None:
    """LARS's global LR multiplies a per-layer trust ratio (~1e-3 |w|/|g|): MLPerf's ResNet-50 runs at 20.8-24.7
    (batch 32k-65k, `opt_name: lars` in its MLLOG), where an unnamed optimiser's range would list a 25x-too-high LR;
    an LR ten times over LARS's own top is still one."""
    run = make_run({"opt_name": "lars", "lars_opt_base_learning_rate": 24.699}, lr=np.full(N, 24.699))
    assert optimizer_family(run) == "lars"
    assert optimisation.detect_lr_too_high(run) == []
    assert optimisation.detect_lr_too_high(make_run({"lr": 24.699}, lr=np.full(N, 24.699)))  # unnamed: listed
    flat = np.full(N, 1.0)
    high = make_run({"opt_name": "lars", "lr": 500.0}, loss=flat, lr=np.full(N, 500.0))
    found = optimisation.detect_lr_too_high(high)
    assert found and found[0].strength >= 0.5 and any("LARS" in e for e in found[0].evidence)
