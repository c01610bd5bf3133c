"""traindoc probe: each probe silent on correct models and firing on a model with the bug, naming the parameter or
module; the four original-code bugs built from the bundled trainer with the fault zoo's edit applied; the user's
objects untouched."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import traindoc
from probe_models import CNN, MLP, StackedRNN, TinyLM, images, sequences, tabular, tokens
from probe_support import phase1_faulty, phase1_parts
from traindoc.probe import ProbeError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(n)


def adam(model: nn.Module, lr: float = 1e-3, params=None) -> torch.optim.Optimizer:
    return torch.optim.Adam(params if params is not None else model.parameters(), lr=lr)


def _healthy(kind: str) -> dict:
    if kind == "phase1":
        return phase1_parts()
    model, batch = {"mlp": (MLP, tabular), "cnn": (CNN, images), "gru": (StackedRNN, sequences),
                    "lm": (TinyLM, tokens)}[kind]
    m = model()
    opt = adam(m)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 10))
    return {"model": m, "batch": batch(), "optimizer": opt, "scheduler": sched}


def _snapshot(parts: dict) -> dict:
    out = {"model": copy.deepcopy(parts["model"].state_dict()),
           "grads": [p.grad for p in parts["model"].parameters()],
           "training": [m.training for m in parts["model"].modules()],
           "opt": copy.deepcopy(parts["optimizer"].state_dict())}
    if hasattr(parts.get("scheduler"), "state_dict"):
        out["sched"] = copy.deepcopy(parts["scheduler"].state_dict())
    return out


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("kind", ["mlp", "cnn", "gru", "lm", "phase1"])
def test_silent_on_correct_models_and_leaves_them_untouched(kind):
    parts = _healthy(kind)
    before = _snapshot(parts)
    rep = traindoc.probe(**parts)
    assert rep.findings == [], [(f.cause, f.summary, f.evidence) for f in rep.findings]
    assert _same(before, _snapshot(parts)), "a probe changed the user's model, optimiser or scheduler"


# ---- the four original-code bugs, from the bundled trainer with the zoo's edit applied ------------------------
@pytest.mark.parametrize("scenario, cause, detector, names", [
    ("future_leak", "label_leakage", "probe_causality", ["blocks.0.attn", "model.py:"]),
    ("act_variance_collapse", "act_variance_collapse", "probe_gradient_flow", ["halt_head.weight", "model.py:"]),
    ("grokfast_sign", "optimizer_misconfig", "probe_grad_filter", ["group 'muon'", "optim.py:"]),
    ("scheduler_key", "scheduler_misuse", "probe_scheduler", ["group['scheduled_lr']", "group 'adam'"]),
])
def test_fires_on_the_original_code_bugs(tmp_path, scenario, cause, detector, names):
    parts = phase1_faulty(tmp_path, scenario)
    before = _snapshot(parts)
    rep = traindoc.probe(**parts)
    hits = [f for f in rep.findings if f.detector == detector]
    assert [f.cause for f in hits] == [cause], [(f.cause, f.summary) for f in rep.findings]
    text = " ".join(hits[0].evidence)
    for n in names:
        assert n in text, text
    # the other probes stay silent: each bug is named by its own probe only
    assert {f.cause for f in rep.findings} == {cause}, [(f.cause, f.summary) for f in rep.findings]
    assert _same(before, _snapshot(parts))


def test_causality_names_the_line_that_creates_the_module(tmp_path):
    parts = phase1_faulty(tmp_path, "future_leak")
    f = traindoc.probe(**parts).findings[0]
    site = f.fix_sites[0]
    assert site["module"] == "blocks.0.attn" and site["file"].endswith("model.py")
    assert "class CausalSelfAttention" in Path(site["file"]).read_text().splitlines()[site["line"] - 1]


def test_act_head_site_is_where_the_model_creates_it(tmp_path):
    parts = phase1_faulty(tmp_path, "act_variance_collapse")
    f = next(f for f in traindoc.probe(**parts).findings if f.cause == "act_variance_collapse")
    line = Path(f.fix_sites[0]["file"]).read_text().splitlines()[f.fix_sites[0]["line"] - 1]
    assert "self.halt_" in line


# ---- torch.nn models with a bug built in ------------------------------------------------------------------------
def _build(case: str) -> dict:
    if case == "mlp_dead":
        m = MLP(dead=True)
        return {"model": m, "batch": tabular(), "optimizer": adam(m)}
    if case == "cnn_dead":
        m = CNN(dead=True)
        return {"model": m, "batch": images(), "optimizer": adam(m)}
    if case == "mlp_saturated":
        m = MLP(act=nn.Tanh)
        with torch.no_grad():
            m.body[0].weight.mul_(2000)  # pre-activations ~ +-1000: tanh pinned at +-1
        return {"model": m, "batch": tabular(), "optimizer": adam(m)}
    if case == "mlp_vanishing":
        m = MLP(depth=12, act=nn.Sigmoid)
        return {"model": m, "batch": tabular(), "optimizer": torch.optim.SGD(m.parameters(), lr=0.1)}
    if case == "rnn_vanishing":
        m = StackedRNN(depth=6, cell=nn.RNN, small=True)
        return {"model": m, "batch": sequences(), "optimizer": adam(m)}
    if case == "lm_frozen":  # the optimiser was built on the head only
        m = TinyLM()
        return {"model": m, "batch": tokens(), "optimizer": adam(m, params=m.head.parameters())}
    if case == "mlp_requires_grad_off":
        m = MLP(depth=4)
        for p in m.body.parameters():
            p.requires_grad_(False)
        return {"model": m, "batch": tabular(), "optimizer": adam(m, params=m.head.parameters())}
    if case == "mlp_unused_branch":
        m = MLP()
        m.aux = nn.Linear(32, 32)  # registered, trainable, never called by forward
        return {"model": m, "batch": tabular(), "optimizer": adam(m)}
    if case == "lm_leak":
        m = TinyLM(causal=False)
        return {"model": m, "batch": tokens(), "optimizer": adam(m)}
    if case == "mlp_feature_leak":
        m = MLP()
        return {"model": m, "batch": tabular(leak=True), "optimizer": adam(m)}
    if case == "mlp_lr_too_low":
        m = MLP()
        return {"model": m, "batch": tabular(), "optimizer": adam(m, lr=1e-6)}
    if case == "mlp_hot_logits":
        m = MLP()
        with torch.no_grad():
            m.head.weight.mul_(300)
        return {"model": m, "batch": tabular(), "optimizer": adam(m)}
    raise KeyError(case)


@pytest.mark.parametrize("case, cause, named", [
    ("mlp_dead", "dead_units", "body.1"),
    ("cnn_dead", "dead_units", "act1"),
    ("mlp_saturated", "dead_units", "body.1"),
    ("mlp_vanishing", "vanishing_gradients", "body.0"),
    ("rnn_vanishing", "vanishing_gradients", "rnns.0"),
    ("lm_frozen", "frozen_params", "encoder.layers.0"),
    ("mlp_requires_grad_off", "frozen_params", "body.0"),
    ("mlp_unused_branch", "frozen_params", "aux.weight"),
    ("lm_leak", "label_leakage", "encoder.layers.0.self_attn"),
    ("mlp_feature_leak", "label_leakage", "feature 3"),
    ("mlp_lr_too_low", "lr_too_low", "lr 1e-06"),
    ("mlp_hot_logits", "output_logit_divergence", "ln C"),
])
def test_fires_on_torch_nn_models_with_the_bug(case, cause, named):
    parts = _build(case)
    before = _snapshot(parts)
    rep = traindoc.probe(**parts)
    top = rep.findings[0]
    assert top.cause == cause, [(f.cause, f.strength, f.summary) for f in rep.findings]
    assert named in " ".join(top.evidence), top.evidence
    assert _same(before, _snapshot(parts))


def test_gradient_filter_passed_as_a_function_is_checked():
    """Grokfast used as in its reference (a function called between backward and step), with both signs."""
    def make(sign: float):
        ema: dict[str, torch.Tensor] = {}

        def gradfilter(model: nn.Module) -> None:
            for n, p in model.named_parameters():
                if p.grad is None:
                    continue
                ema[n] = p.grad.detach().clone() if n not in ema else 0.98 * ema[n] + 0.02 * p.grad
                slow = ema[n] if sign > 0 else p.grad - ema[n]
                p.grad.add_(slow, alpha=2.0)
        return gradfilter

    m = MLP()
    good = traindoc.probe(m, tabular(), optimizer=adam(m), grad_filter=make(+1))
    bad = traindoc.probe(m, tabular(), optimizer=adam(m), grad_filter=make(-1))
    assert not [f for f in good.findings if f.detector == "probe_grad_filter"]
    assert [f.cause for f in bad.findings if f.detector == "probe_grad_filter"] == ["optimizer_misconfig"]


def test_activation_statistics_are_reported():
    rep = traindoc.probe(**_healthy("lm"))
    # 16 keys at most per row: entropy between 0 and ln 24
    assert 0 < rep.stats["attn_entropy"] < 3.2 and rep.stats["attn_logit_max"] > 0 and rep.stats["logz_mean"] > 0
    rep = traindoc.probe(**_healthy("mlp"))
    assert set(rep.stats["dead_share"]) == {"body.1", "body.3", "body.5"}
    assert all(0 <= v < 0.5 for v in rep.stats["dead_share"].values())


def test_refuses_a_device_the_user_did_not_name():
    m = MLP().to("meta")
    with pytest.raises(ProbeError, match="probes run on CPU unless you name the device"):
        traindoc.probe(m, tabular())


FACTORY = """
import torch
from probe_models import MLP, tabular


def healthy():
    m = MLP()
    return m, tabular(), None, torch.optim.Adam(m.parameters(), lr=1e-3)


def broken():
    raise RuntimeError("no data here")


def dead():
    m = MLP(dead=True)
    return {"model": m, "batch": tabular(), "optimizer": torch.optim.Adam(m.parameters(), lr=1e-3)}
"""


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'tests'}", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "traindoc", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_probe_runs_the_named_factory(tmp_path):
    (tmp_path / "my_factory.py").write_text(FACTORY)
    out = _cli(["probe", "--factory", "my_factory:healthy", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["findings"] == [] and {"dead_units", "frozen_params", "label_leakage"} <= set(doc["cleared"])
    torch.save(MLP(dead=True).state_dict(), tmp_path / "dead.pt")  # a checkpoint whose units died in training
    out = _cli(["probe", "--factory", "my_factory.py:healthy", "--checkpoint", "dead.pt"], tmp_path)
    assert out.returncode == 0 and "**dead_units**" in out.stdout, out.stderr


@pytest.mark.parametrize("spec, message", [
    ("no_such_module:f", "cannot import no_such_module"),
    ("my_factory:nope", "has no function nope"),
    ("my_factory", "needs module:function"),
    ("my_factory:broken", "the factory my_factory:broken raised RuntimeError: no data here"),
])
def test_cli_probe_bad_factory_is_one_line(tmp_path, spec, message):
    (tmp_path / "my_factory.py").write_text(FACTORY)
    out = _cli(["probe", "--factory", spec], tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr, out.stderr


def test_importing_the_probe_package_does_not_load_torch():
    code = "import sys, traindoc, traindoc.probe, traindoc.probe.command; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src")})
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("example", ["probe_hf", "probe_lightning"])
def test_example_factories_run_silent(example, monkeypatch):
    """The documented HF (its Trainer's optimiser and scheduler) and Lightning (configure_optimizers) factories."""
    pytest.importorskip("transformers" if example == "probe_hf" else "pytorch_lightning")
    from traindoc.probe.factory import load_factory

    parts = load_factory(str(ROOT / "examples" / f"{example}.py") + ":factory")
    before = _snapshot(parts)
    rep = traindoc.probe(**parts)
    assert rep.findings == [], [(f.cause, f.summary, f.evidence) for f in rep.findings]
    assert _same(before, _snapshot(parts))
    assert "label_leakage" in rep.cleared
