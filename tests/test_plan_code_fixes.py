"""Every code-fix template, end to end on user-style files: plan -> apply -> the locator no longer fires, the
fixed module still parses and imports, and each regression test the plan adds passes on the fixed code and FAILS
on the original (so it really guards the fix)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from traindoc.apply.run import apply_plan
from traindoc.evidence.code_sites import locate_for_cause
from traindoc.plan.build import build_plan

FAULTS = {
    "label_leakage": """
        import torch.nn.functional as F


        def attend(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=False)
        """,
    "optimizer_misconfig": """
        def grokfast(params, ema, lamb=2.0):
            for p in params:
                grad = p.grad
                grad.add_(grad - ema[p], alpha=lamb)
        """,
    "scheduler_misuse": """
        def set_lr(optimizer, factor):
            for group in optimizer.param_groups:
                group["scheduled_lr"] = group["initial_lr"] * factor
        """,
    "zero_grad_missing": """
        def fit(model, optimizer, loader):
            for x, y in loader:
                loss = (model(x) - y).pow(2).mean()
                loss.backward()
                optimizer.step()
        """,
    "nan_inf": """
        import torch


        def bce(p, y):
            return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        """,
    "grad_explosion": """
        def fit(model, opt, scheduler, loader):
            for x in loader:
                opt.zero_grad()
                model(x).sum().backward()
                opt.step()
                scheduler.step()
        """,
    "act_variance_collapse": """
        from dataclasses import dataclass

        import torch


        @dataclass
        class HaltState:
            step_weights: torch.Tensor
            n_updates: torch.Tensor
            remainders: torch.Tensor


        def compute_act_loss(state, cfg):
            steps = state.n_updates.float()
            return 0.01 * steps.mean()


        def halting_stats(state):
            halt = state.n_updates.float().reshape(-1, 1)
            return halt.var(dim=1).mean().item()
        """,
    "no_warmup": """
        def fit(model, optimizer, loader):
            for x in loader:
                optimizer.zero_grad()
                model(x).sum().backward()
                optimizer.step()
        """,
    "attention_logit_growth": """
        import torch.nn.functional as F


        def attend(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        """,
    "output_logit_divergence": """
        import torch.nn.functional as F


        def lm_loss(logits, targets):
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return loss
        """,
}


@pytest.fixture(scope="module")
def fixed_project(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("codefix")
    root = tmp / "proj"
    (root / "tests").mkdir(parents=True)
    originals = {}
    for cause, code in FAULTS.items():
        path = root / f"user_{cause}.py"
        path.write_text(textwrap.dedent(code).lstrip())
        originals[path.name] = path.read_text()
    (root / "tests" / "test_smoke.py").write_text(
        "import importlib, sys, pathlib\n\n\ndef test_modules_import():\n"
        "    sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n"
        f"    for name in {sorted(p[:-3] for p in originals)!r}:\n        importlib.import_module(name)\n")
    diagnosis = {"root_causes": [
        {"rank": i + 1, "cause": cause, "confidence": 0.9, "fix": {"summary": cause, "changes": []},
         "impact": "high", "effort": "low", "risk": "low", "expected_outcome": []}
        for i, cause in enumerate(FAULTS)], "run": {"paths": [], "code_files": [], "step_range": [0, 100]}}
    (tmp / "diagnosis.json").write_text(json.dumps(diagnosis))
    plan = build_plan(diagnosis, str(tmp / "diagnosis.json"), root=str(root))
    out = apply_plan(plan, plan["plan_id"])
    return root, plan, out, originals


def test_every_fault_gets_a_planned_fix(fixed_project) -> None:
    _, plan, out, _ = fixed_project
    assert plan["notes"] == [], plan["notes"]
    assert [f["cause"] for f in plan["fixes"] if f["planned"]] == list(FAULTS)
    assert out.report["status"] == "applied", out.report.get("tests_detail")


@pytest.mark.parametrize("cause", list(FAULTS))
def test_locator_silent_after_the_fix(fixed_project, cause: str) -> None:
    root, *_ = fixed_project
    if cause in ("grad_explosion", "output_logit_divergence", "attention_logit_growth"):
        return  # these locators mark where a guard goes; after it is added the site stays (by design)
    assert locate_for_cause([str(root / f"user_{cause}.py")], cause) == []


def test_regression_tests_fail_on_the_original_code(fixed_project, tmp_path: Path) -> None:
    root, plan, _, originals = fixed_project
    added = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    assert len(added) >= len(FAULTS)
    broken = tmp_path / "proj"
    shutil.copytree(root, broken, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    for name, text in originals.items():
        (broken / name).write_text(text)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *added], cwd=broken,
                          capture_output=True, text=True)
    summary = proc.stdout.strip().splitlines()[-1]
    assert f"{len(added)} failed" in summary, proc.stdout[-3000:]


# the faults above whose fixed function a regression test can call with arguments it builds itself
RUN_BY_THEIR_TESTS = {"causal_mask", "qk_norm", "z_loss", "nan_guard", "zero_grad", "lr_key", "clip_grad_norm",
                      "warmup_cosine"}


def test_regression_tests_run_the_fixed_function(fixed_project, tmp_path: Path) -> None:
    """The added tests for module-level functions call them: with their source-check fallback made to fail, they
    still all pass on the fixed code, so their verdict comes from running it (and they failed on the original,
    above). The others say why they read the source."""
    root, plan, _, _ = fixed_project
    added = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    run = [f for f in added if "def test_fixed_" in (root / f).read_text()]
    assert {Path(f).stem.removeprefix("test_traindoc_").rstrip("_0123456789") for f in run} == RUN_BY_THEIR_TESTS
    for f in set(added) - set(run):
        assert "cannot be run on its own" in (root / f).read_text()
    copy = tmp_path / "proj"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    for f in run:
        text = (copy / f).read_text()
        (copy / f).write_text(text.replace("def _source_check():", "def _source_check():\n    raise AssertionError("
                                           "'fell back')\n\n\ndef _unused():", 1))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *run], cwd=copy,
                          capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1].startswith(f"{len(run)} passed"), proc.stdout[-3000:]


def test_a_fix_that_adds_torch_calls_imports_torch(fixed_project) -> None:
    """`import torch.nn.functional as F` binds only F: the QK-norm and z-loss fixes (`torch.nn.functional...`,
    `torch.logsumexp`) add `import torch`, or the fixed function raises NameError (the behaviour tests found it)."""
    root, *_ = fixed_project
    for name in ("user_attention_logit_growth.py", "user_output_logit_divergence.py"):
        assert "\nimport torch\n" in (root / name).read_text()


def test_behaviour_probe_only_for_code_a_test_can_run() -> None:
    from traindoc.plan.regression_probe import probe

    attend = ("import torch.nn.functional as F\n\n\ndef attend(q, k, v):\n"
              "    return F.scaled_dot_product_attention(q, k, v)\n")
    params = {"call_text": "F.scaled_dot_product_attention(q, k, v)"}
    assert probe("causal_mask", params, attend, "attend") == {"probe": "attention", "args": ["q", "k", "v"],
                                                              "roles": ["q", "k", "v"]}
    # importing it would train: never run by a test
    assert probe("causal_mask", params, attend + "\nmodel = train()\n", "attend") is None
    # a method needs its object; a state or config argument is not a tensor
    method = "class A:\n    def attend(self, q, k, v):\n        return q\n"
    assert probe("causal_mask", params, method, "attend") is None
    nan = "import torch\n\n\ndef loss(state, cfg):\n    return torch.log(state.p)\n"
    assert probe("nan_guard", {"op": "log"}, nan, "loss") is None


NANOGPT_ATTENTION = """
    from dataclasses import dataclass

    import torch.nn as nn
    import torch.nn.functional as F


    @dataclass
    class GPTConfig:
        n_embd: int = 16
        n_head: int = 2


    class CausalSelfAttention(nn.Module):
        def __init__(self, config: GPTConfig):
            super().__init__()
            self.n_head = config.n_head
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal=False)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
    """


def test_attention_module_regression_test_builds_the_module(tmp_path: Path) -> None:
    """nanoGPT's attention is a method: the test builds the module from its config (a dataclass with defaults) and
    checks that a later token leaves earlier outputs unchanged; it passes on the fix and fails on the original."""
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    original = textwrap.dedent(NANOGPT_ATTENTION).lstrip()
    (root / "model.py").write_text(original)
    diagnosis = {"root_causes": [{"rank": 1, "cause": "label_leakage", "confidence": 0.9, "expected_outcome": [],
                                  "fix": {"summary": "causal", "changes": []}}],
                 "run": {"paths": [], "code_files": [], "step_range": [0, 100]}}
    (tmp_path / "diagnosis.json").write_text(json.dumps(diagnosis))
    plan = build_plan(diagnosis, str(tmp_path / "diagnosis.json"), root=str(root))
    assert apply_plan(plan, plan["plan_id"]).report["status"] == "applied"
    test = root / "tests" / "test_traindoc_causal_mask.py"
    assert "def test_fixed_forward_behaves" in test.read_text()
    test.write_text(test.read_text().replace("def _source_check():", "def _source_check():\n    raise AssertionError("
                                             "'fell back')\n\n\ndef _unused():", 1))

    def outcome() -> str:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], cwd=root,
                              capture_output=True, text=True)
        return proc.stdout

    assert outcome().strip().splitlines()[-1].startswith("1 passed")
    (root / "model.py").write_text(original)
    failed = outcome()
    assert failed.strip().splitlines()[-1].startswith("1 failed") and "not causal" in failed, failed[-2000:]
