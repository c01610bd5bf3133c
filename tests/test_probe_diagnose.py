"""`diagnose --probe`: on runs whose loss is flat (or suspiciously good), the logs alone leave the cause ambiguous;
the probe's findings on the user's own model turn the ranking into the right cause. Each run is a short real
training of a small torch.nn model, logged as JSONL (step, loss, grad_norm and, where the user logs it, lr)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import traindoc
from probe_models import MLP, TinyLM, tabular, tokens
from traindoc.diagnosis.ranking import rank_causes
from traindoc.evidence import run_detectors
from traindoc.ingest.loader import load_run
from traindoc.probe.combine import combine

ROOT = Path(__file__).resolve().parents[1]
FLAT = ("dead_units", "vanishing_gradients", "frozen_params", "lr_too_low")


def train_log(model: nn.Module, batch, opt: torch.optim.Optimizer, steps: int, path: Path, log_lr: bool) -> None:
    """A plain training loop on one batch, logging what a user's loop typically prints."""
    x, y = batch
    with open(path, "w") as f:
        for s in range(steps):
            model.zero_grad()
            out = model(x)
            loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
            opt.step()
            rec = {"step": s, "loss": float(loss.detach()), "grad_norm": float(gn)}
            if log_lr:
                rec["lr"] = opt.param_groups[0]["lr"]
            f.write(json.dumps(rec) + "\n")


def _parts(case: str):
    """(model, batch, optimiser): built the same way for training and for the probe (the user's factory)."""
    if case == "dead_units":
        m = MLP(dead=True)
        return m, tabular(), torch.optim.Adam(m.parameters(), lr=1e-3)
    if case == "vanishing_gradients":
        m = MLP(depth=12, act=nn.Sigmoid)
        return m, tabular(), torch.optim.SGD(m.parameters(), lr=0.1)
    if case == "frozen_params":  # the optimiser was built on the head only
        m = TinyLM()
        return m, tokens(), torch.optim.Adam(m.head.parameters(), lr=1e-3)
    if case == "lr_too_low":
        m = MLP()
        return m, tabular(), torch.optim.Adam(m.parameters(), lr=1e-6)
    if case == "label_leakage":
        m = MLP()
        return m, tabular(leak=True), torch.optim.Adam(m.parameters(), lr=1e-2)
    if case == "easy_task":
        m = MLP()
        return m, tabular(), torch.optim.Adam(m.parameters(), lr=1e-2)
    raise KeyError(case)


def _rankings(case: str, tmp_path: Path, log_lr: bool = True, steps: int = 60):
    torch.manual_seed(0)
    model, batch, opt = _parts(case)
    train_log(model, batch, opt, steps, tmp_path / "metrics.jsonl", log_lr)
    torch.manual_seed(0)
    fresh, batch, opt = _parts(case)  # what the user's factory returns: the model as training starts
    run = load_run([str(tmp_path)])
    log = run_detectors(run)
    report = traindoc.probe(fresh, batch, optimizer=opt)
    return rank_causes(log, run), rank_causes(combine(log, report), run)


def _conf(ranked, cause: str) -> float:
    return next((r.confidence for r in ranked if r.cause == cause), 0.0)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# lr_too_low: with the LR in the log the log detector already names it; the ambiguous case is a log that has no LR
@pytest.mark.parametrize("cause, log_lr", [("dead_units", True), ("vanishing_gradients", True),
                                           ("frozen_params", True), ("lr_too_low", False)])
def test_probe_resolves_a_flat_loss(tmp_path, cause, log_lr):
    logs, probed = _rankings(cause, tmp_path, log_lr)
    assert not (logs and logs[0].cause == cause and logs[0].confidence >= 0.5), \
        f"the logs alone were not ambiguous: {[(r.cause, r.confidence) for r in logs[:3]]}"
    assert probed[0].cause == cause and probed[0].confidence >= 0.5, [(r.cause, r.confidence) for r in probed[:4]]
    for other in FLAT:  # the other flat-loss explanations stay below the decision line
        if other != cause:
            assert _conf(probed, other) < 0.5, (other, [(r.cause, r.confidence) for r in probed[:4]])


def test_probe_tells_a_leak_from_an_easy_task(tmp_path):
    (tmp_path / "leak").mkdir()
    (tmp_path / "easy").mkdir()
    logs_leak, probed_leak = _rankings("label_leakage", tmp_path / "leak", steps=100)
    logs_easy, probed_easy = _rankings("easy_task", tmp_path / "easy", steps=100)
    # from the logs both are the same great run
    assert abs(_conf(logs_leak, "label_leakage") - _conf(logs_easy, "label_leakage")) < 0.2
    assert probed_leak[0].cause == "label_leakage" and probed_leak[0].confidence >= 0.5
    assert _conf(probed_easy, "label_leakage") < min(0.5, _conf(logs_easy, "label_leakage"))


FACTORY = """
import torch
from probe_models import MLP, tabular


def dead():
    torch.manual_seed(0)
    m = MLP(dead=True)
    return {"model": m, "batch": tabular(), "optimizer": torch.optim.Adam(m.parameters(), lr=1e-3)}
"""


def test_diagnose_cli_with_probe(tmp_path):
    torch.manual_seed(0)
    model, batch, opt = _parts("dead_units")
    train_log(model, batch, opt, 60, tmp_path / "metrics.jsonl", True)
    (tmp_path / "user_factory.py").write_text(FACTORY)
    env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'tests'}", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "traindoc", "diagnose", str(tmp_path / "metrics.jsonl"), "--json"]
    plain = subprocess.run(base, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    probed = subprocess.run([*base, "--probe", "user_factory:dead"], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=300)
    assert plain.returncode == 0 and probed.returncode == 0, probed.stderr
    before, after = json.loads(plain.stdout), json.loads(probed.stdout)
    # from the logs alone dead units are at most a candidate among the look-alikes of a run that does not learn
    assert all(rc["confidence"] < 0.5 for rc in before["root_causes"] if rc["cause"] == "dead_units")
    top = after["root_causes"][0]
    assert top["cause"] == "dead_units" and "probe_activations" in top["detectors"]
    # the module is named with the file:line of the class that creates it
    assert any("body.1 (ReLU" in e for e in top["evidence"]) and any("probe_models.py:" in e for e in top["evidence"])
