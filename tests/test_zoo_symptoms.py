"""Every fault-zoo scenario really shows its symptom in its own metrics.jsonl, and the run with the known fix
applied does not (reduced forms, trained once per code version by tests/zoo_cache.py and shared).

These runs are the trainer default seed (1337) in the reduced form: one trajectory of each. What makes the tests
hold on any machine is where the thresholds sit, not this trajectory: phase1.zoo_symptoms.SYMPTOMS puts each one far
inside the values measured over 5 seeds (train.seed) and both forms, faulty and fixed (docs/fault-zoo.md, "Margins":
the worst seed's margin per check; tests/test_zoo_margins.py keeps those records and the thresholds consistent).
"""

from __future__ import annotations

import math

import pytest

from zoo_cache import figures, scenarios, zoo_workspace

pytestmark = pytest.mark.slow
FAULTS = [n for n in scenarios.SCENARIOS if n != "healthy"]


def _describe(name: str, figs: dict[str, float]) -> str:
    keys = [c.figure for c in scenarios.SYMPTOMS[name]]
    return ", ".join(f"{k}={figs.get(k, math.nan):.4g}" for k in keys)


@pytest.mark.parametrize("name", FAULTS)
def test_faulty_run_shows_the_symptom(name: str) -> None:
    figs = figures(name)
    present, _ = scenarios.judge(name, figs)
    assert present, f"{name}: symptom not shown ({_describe(name, figs)})"


@pytest.mark.parametrize("name", FAULTS)
def test_fixed_run_does_not(name: str) -> None:
    figs = figures(name, fixed=True)
    _, absent = scenarios.judge(name, figs)
    assert absent, f"{name}: symptom still there after the known fix ({_describe(name, figs)})"


def test_healthy_run_learns_and_stays_finite() -> None:
    figs = figures("healthy")
    present, _ = scenarios.judge("healthy", figs)
    assert present and figs["completed"] == 1.0, _describe("healthy", figs)


def test_healthy_run_shows_none_of_the_training_dynamics_symptoms() -> None:
    """The healthy baseline is clear of the symptoms that do not depend on a scenario-specific config."""
    figs = figures("healthy")
    for name in ("act_variance_collapse", "scheduler_key", "nan_log", "zero_grad_missing", "future_leak",
                 "frozen_params", "embedding_heavy", "lr_too_low"):
        _, absent = scenarios.judge(name, figs)
        assert absent, f"healthy run shows {name}'s symptom ({_describe(name, figs)})"


def test_runs_are_deterministic_and_the_workspace_trainer_was_used() -> None:
    """Same code, same config -> the same numbers; warnings cite files inside the workspace, not src/phase1."""
    ws = zoo_workspace("act_variance_collapse")
    recs = scenarios.read_records(ws / "run")
    warn_files = {r["filename"] for r in recs if r["type"] == "warning"}
    assert warn_files and all(f.startswith(str(ws / "phase1")) for f in warn_files), warn_files
    again = ws.parent / (ws.name + "-rerun-check")
    import shutil

    shutil.rmtree(again, ignore_errors=True)
    shutil.copytree(ws, again, ignore=shutil.ignore_patterns("run", "__pycache__"))
    try:
        # only the first 8 steps are compared: one epoch of 10 steps trains them (the warmup's LR, steps 1-10, does
        # not depend on the run's length: phase1.optim.lr_factor) instead of the scenario's reduced form, 1 x 20
        cfg = again / "config.yaml"
        text = cfg.read_text()
        assert "train.epochs: 1" in text and "train.steps_per_epoch: 20" in text and "optim.warmup_steps: 10" in text
        cfg.write_text(text.replace("train.steps_per_epoch: 20", "train.steps_per_epoch: 10"))
        assert scenarios.train_workspace(again, out=again / "run", quiet=True, timeout=600) == 0
        first = [r["loss"] for r in recs if r["type"] == "step"][:8]
        second = [r["loss"] for r in scenarios.read_records(again / "run") if r["type"] == "step"][:8]
        assert len(first) == 8 and first == second
    finally:
        shutil.rmtree(again, ignore_errors=True)
