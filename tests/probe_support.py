"""Builders for the probe tests: Phase 1 models with a fault zoo scenario's code edit applied to a private copy of
the trainer package (no training), and short real training logs written as the bundled trainer's JSONL."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def phase1_faulty(tmp: Path, scenario: str, **kw: Any) -> dict[str, Any]:
    """probe parts for the Phase 1 trainer with `scenario`'s code edits (phase1/scenarios.py) injected."""
    from phase1 import scenarios

    name = f"phase1_{scenario}_{abs(hash(str(tmp))) % 10**8}"
    pkg_dir = tmp / name
    pkg_dir.mkdir(parents=True)
    for f in scenarios.trainer_sources():
        if f.parent == scenarios.PACKAGE_DIR:
            shutil.copy(f, pkg_dir / f.name)
    scenarios.inject(pkg_dir, scenarios.get(scenario).edits)
    sys.path.insert(0, str(tmp))
    try:
        pkg = importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp))
    parts = phase1_parts(pkg, **kw)
    for k, v in scenarios.get(scenario).config.items():  # the scenario's optimiser settings (e.g. lambda 2)
        if k == "optim.grokfast_lambda":
            for g in parts["optimizer"].param_groups:
                g["grokfast_lambda"] = v
    return parts


def phase1_parts(pkg: Any = "phase1", **kw: Any) -> dict[str, Any]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        mod = importlib.import_module("probe_phase1")
    finally:
        sys.path.remove(str(EXAMPLES))
    return mod.phase1_parts(pkg, **kw)
