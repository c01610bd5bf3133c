"""A small user-style project and a diagnosis of it, shared by the plan / apply tests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

TRAIN_PY = textwrap.dedent('''
    """A user's training script (not our trainer)."""
    import torch
    import torch.nn.functional as F


    def attend(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=False)


    def fit(model, opt, loader):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
''').lstrip()

CONFIG_YAML = textwrap.dedent("""
    # experiment config (hand-written, with comments that must survive)
    optim:
      lr: 1.0e-2   # tried 3e-3 before
      warmup_steps: 0
    train:
      epochs: 3
""").lstrip()

TEST_PY = "def test_ok():\n    assert 1 + 1 == 2\n"


def root_cause(rank: int, cause: str, changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"rank": rank, "cause": cause, "issue": cause, "confidence": 0.9, "evidence": ["test"],
            "fix": {"summary": f"fix {cause}", "changes": changes or []}, "impact": "high", "effort": "low",
            "risk": "low",
            "expected_outcome": [{"kind": "cause_absent", "cause": cause, "description": f"{cause} gone"}]}


def make_project(tmp: Path) -> tuple[Path, Path]:
    """Project at tmp/proj with a run folder; returns (root, diagnosis path)."""
    root = tmp / "proj"
    (root / "run").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "train.py").write_text(TRAIN_PY)
    (root / "config.yaml").write_text(CONFIG_YAML)
    (root / "tests" / "test_basic.py").write_text(TEST_PY)
    (root / "run" / "metrics.jsonl").write_text('{"type": "meta"}\n')
    diagnosis = {
        "schema_version": "1.0", "verdict": "problems_found", "quick_wins": [], "findings": [],
        "run": {"paths": [str(root / "run")], "sources": [], "metrics": {}, "step_range": [0, 400],
                "config_keys": ["optim.lr"], "code_files": [str(root / "train.py")]},
        "root_causes": [
            root_cause(1, "lr_too_high", [{"target": "config", "key": "optim.lr", "file": str(root / "config.yaml"),
                                           "line": 3, "before": "1.0e-2", "after": "5e-3",
                                           "description": "halve the LR"}]),
            root_cause(2, "no_warmup"),
            root_cause(3, "zero_grad_missing"),
            root_cause(4, "label_leakage"),
        ],
    }
    path = tmp / "diagnosis.json"
    path.write_text(json.dumps(diagnosis))
    return root, path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root except traindoc's own journal folder."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".traindoc" not in p.parts and "__pycache__" not in p.parts
            and ".pytest_cache" not in p.parts}
