"""Fault-zoo workspaces: layout, no label leakage, loud failure of code faults, retraining from WS's own files,
the phase1-train --scenario command line. Materialisation only (no training) except two tiny runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from zoo_cache import REPO, scenarios

ALL = list(scenarios.SCENARIOS)
CODE_FAULTS = [n for n, s in scenarios.SCENARIOS.items() if s.edits]
# Run sizes small enough for a 2-core box: these tests check plumbing, not symptoms.
TINY = {"train.epochs": 1, "train.steps_per_epoch": 3, "train.batch_size": 2}


@pytest.mark.parametrize("name", ALL)
def test_workspace_layout_and_config_one_key_per_line(name: str, tmp_path: Path) -> None:
    ws = scenarios.materialise(name, tmp_path / "ws", reduced=True)
    for rel in ("config.yaml", "train.py", "phase1/train_phase1.py", "phase1/model.py", "tests/test_workspace.py"):
        assert (ws / rel).is_file(), rel
    assert not (ws / "phase1" / "scenarios.py").exists(), "the zoo's metadata must not be copied into a workspace"
    lines = [ln for ln in (ws / "config.yaml").read_text().splitlines() if ln and not ln.startswith("#")]
    keys = [ln.split(":", 1)[0] for ln in lines]
    assert len(keys) == len(set(keys)) and all(k.count(".") == 1 for k in keys)
    flat = yaml.safe_load((ws / "config.yaml").read_text())
    cfg = scenarios.effective_config(scenarios.get(name), reduced=True)
    from phase1.config import _flatten

    assert flat == _flatten(cfg.to_dict()), "config.yaml must read back as the scenario's full effective config"
    for key, value in scenarios.get(name).config.items():
        assert flat[key] == value or name in ("embedding_heavy", "overfitting"), key  # reduced may override


@pytest.mark.parametrize("name", ALL)
def test_no_scenario_label_in_the_workspace(name: str, tmp_path: Path) -> None:
    """Neither the scenario's name nor its cause id appears in any workspace file, unless the healthy trainer
    sources already contain that word (then it carries no information)."""
    scenario = scenarios.get(name)
    ws = scenarios.materialise(name, tmp_path / "ws", reduced=True)
    healthy_text = "".join(p.read_text() for p in scenarios.trainer_sources())
    labels = [w for w in {scenario.name, scenario.cause} if w not in healthy_text]
    for path in ws.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for word in labels:
                assert word not in text, f"{path.relative_to(ws)} mentions {word!r}"


@pytest.mark.parametrize("name", CODE_FAULTS)
def test_code_fault_is_injected_and_the_known_fix_restores_the_healthy_sources(name: str, tmp_path: Path) -> None:
    scenario = scenarios.get(name)
    ws = scenarios.materialise(name, tmp_path / "ws", reduced=True)
    changed = {e.file for e in scenario.edits}
    for rel in changed:
        assert (ws / "phase1" / rel).read_text() != (scenarios.PACKAGE_DIR / rel).read_text(), rel
    scenarios.apply_known_fix(ws, name)
    for src in scenarios.trainer_sources():
        assert (ws / "phase1" / src.name).read_bytes() == src.read_bytes(), src.name


def test_code_fault_fails_loudly_when_the_healthy_text_is_gone(tmp_path: Path, monkeypatch) -> None:
    edit = scenarios.CodeEdit("model.py", "is_causal=Maybe", "is_causal=False")
    bad = scenarios.Scenario("broken", "label_leakage", "-", "-", edits=(edit,))
    monkeypatch.setitem(scenarios.SCENARIOS, "broken", bad)
    with pytest.raises(scenarios.ScenarioError, match="expected 1 occurrence"):
        scenarios.materialise("broken", tmp_path / "ws")


def test_config_fix_edits_exactly_the_keyed_lines(tmp_path: Path) -> None:
    ws = scenarios.materialise("seed_divergence", tmp_path / "ws")
    before = (ws / "config.yaml").read_text().splitlines()
    scenarios.apply_known_fix(ws, "seed_divergence")
    after = (ws / "config.yaml").read_text().splitlines()
    diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(before) == len(after) and diff == [("optim.muon_lr: 0.1", "optim.muon_lr: 0.005")]


def test_unknown_scenario_and_non_empty_out_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(scenarios.ScenarioError, match="unknown scenario"):
        scenarios.materialise("nope", tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("keep me")
    with pytest.raises(scenarios.ScenarioError, match="not empty"):
        scenarios.materialise("healthy", tmp_path / "b")
    assert (tmp_path / "b" / "x").read_text() == "keep me"


def test_retraining_uses_the_workspace_files_and_its_tests_pass(tmp_path: Path) -> None:
    """Patch the workspace's own copy (config and code), retrain with WS/train.py: the new run reflects both."""
    ws = scenarios.materialise("healthy", tmp_path / "ws", reduced=True, extra=TINY)
    init = ws / "phase1" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "patched-'))
    cfg = ws / "config.yaml"
    cfg.write_text(cfg.read_text().replace("train.steps_per_epoch: 3", "train.steps_per_epoch: 2"))
    assert scenarios.train_workspace(ws, quiet=True, timeout=300) == 0
    assert scenarios.train_workspace(ws, quiet=True, timeout=300) == 0  # a second retrain keeps the first
    for run in ("run", "run-2"):
        recs = scenarios.read_records(ws / run)
        assert recs[0]["versions"]["phase1"].startswith("patched-")
        assert [r["step"] for r in recs if r["type"] == "step"] == [1, 2]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ws / "tests")],
                          cwd=ws, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_workspace_tests_pass_on_the_big_embedding_model(tmp_path: Path) -> None:
    ws = scenarios.materialise("embedding_heavy", tmp_path / "ws", reduced=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ws / "tests")],
                          cwd=ws, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_phase1_train_scenario_command_line(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "phase1-train"
    cmd = [str(exe)] if exe.exists() else [sys.executable, str(REPO / "src" / "phase1" / "train_phase1.py")]
    listed = subprocess.run([*cmd, "--list-scenarios"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and all(n in listed.stdout for n in ALL)
    ws = tmp_path / "ws"
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    proc = subprocess.run([*cmd, "--scenario", "scheduler_key", "--out", str(ws), "--test", *sets],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    recs = [json.loads(x) for x in (ws / "run" / "metrics.jsonl").read_text().splitlines()]
    assert recs[0]["type"] == "meta" and recs[-1]["type"] == "end"
    bad = subprocess.run([*cmd, "--scenario", "nope", "--out", str(tmp_path / "x")], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
