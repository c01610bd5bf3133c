"""The committed real-library corpus (tests/corpus/reallib/) keeps the shape issue 8 asks of it, every entry passes
tools/corpus_check.py, and the generator still reproduces a committed run."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "reallib"


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entries() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("."))


def _labels() -> dict[str, dict]:
    return {e.name: json.loads((e / "label.json").read_text()) for e in _entries()}


def test_every_entry_is_well_formed():
    check = _load_tool("corpus_check")
    causes = check.cause_ids()
    bad = {e.name: problems for e in _entries() for problems in [check.check_entry(e, causes)[1]] if problems}
    assert not bad


def test_corpus_shape():
    labels = _labels()
    assert len(labels) >= 300
    fam = [lb["family"] for lb in labels.values()]
    assert len({f["stack"] for f in fam}) >= 5
    assert {"mlp", "cnn", "rnn", "transformer"} <= {f["model_family"] for f in fam}
    assert len({f["optimizer"] for f in fam}) >= 3
    healthy = sum(lb["cause"] == "healthy" for lb in labels.values())
    assert healthy / len(labels) >= 0.3
    stacks_of = defaultdict(set)
    for lb in labels.values():
        stacks_of[lb["cause"]].add(lb["family"]["stack"])
    thin = {c: sorted(s) for c, s in stacks_of.items() if c != "healthy" and len(s) < 3}
    assert not thin, f"causes realised in fewer than 3 stacks: {thin}"
    size = sum(p.stat().st_size for e in _entries() for p in e.rglob("*") if p.is_file())
    assert size < 30e6


def _tutorial_losses(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\] loss: (\S+)", text)]


@pytest.mark.slow
def test_generator_reproduces_a_committed_run(tmp_path):
    """plain_pytorch-healthy-s0 (a tutorial-style MLP run, ~1 s) regenerated from its label's command matches the
    committed log to the 3 printed decimals (tolerance 2e-3 for another CPU's rounding)."""
    name = "plain_pytorch-healthy-s0"
    label = json.loads((CORPUS / name / "label.json").read_text())
    args = label["generator"].split()[1:]
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_reallib_corpus.py"), *args, "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    ours = _tutorial_losses((tmp_path / name / "run" / "train.log").read_text())
    committed = _tutorial_losses((CORPUS / name / "run" / "train.log").read_text())
    assert len(ours) == len(committed) > 10
    assert max(abs(a - b) for a, b in zip(ours, committed, strict=True)) < 2e-3
    assert json.loads((tmp_path / name / "label.json").read_text()) == label
