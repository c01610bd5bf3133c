"""grad_accum_bug in nanoGPT's form (plan/fix_accum.py): an inner `for micro_step in range(N):` that back-propagates
every micro-batch, the optimizer stepped once after it, the loss's `loss = loss / N` removed. The plan puts the
division back as its own statement before the backward (so nanoGPT's logged `loss.item() * N` is the micro-batch's
mean again), and leaves a divided loop, an inner loop that steps, and a loop with no step after it alone. The whole
loop on the nanoGPT layout: tests/test_userproj_loop.py (docs/plan-apply-verify.md, "grad_accum_bug")."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from test_plan_accum_entry import _plan_for
from traindoc.apply.run import apply_plan
from traindoc.plan.fix_accum import find_sites

LOOP = '''
    import torch

    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gradient_accumulation_steps = 4
    for it in range(10):
        for micro_step in range({n}):
            loss = model(torch.randn(8, 3)).pow(2).mean()
    {division}        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        lossf = loss.item() * gradient_accumulation_steps
    '''
N = "gradient_accumulation_steps"


def _loop(division: str = "", n: str = N) -> str:
    return textwrap.dedent(LOOP.format(n=n, division=division)).lstrip()


def test_undivided_micro_step_loss_is_found_where_it_is() -> None:
    text = _loop()
    sites = find_sites("train.py", text)
    assert [(s.line, s.loss, s.divisor, s.assign) for s in sites] == [(9, "loss", N, True)], sites
    assert text.splitlines()[8].strip() == "loss.backward()"


@pytest.mark.parametrize("text", [
    _loop(division=f"        loss = loss / {N}\n"),  # nanoGPT as shipped
    _loop(division=f"        loss /= {N}\n"),
    _loop(n="1"),  # one micro-batch per step: nothing accumulates
    _loop().replace("    opt.step()\n", "    pass\n"),  # no optimizer step after the micro-batches
    _loop().replace("        loss.backward()\n", "        loss.backward()\n        opt.step()\n"),  # steps each one
])
def test_micro_step_loop_left_alone(text: str) -> None:
    assert find_sites("train.py", text) == []


def test_plan_puts_the_division_back_before_the_backward(tmp_path: Path) -> None:
    plan = _plan_for(tmp_path / "proj", {"train.py": _loop()})
    edit = next(c for c in plan["changes"] if c["file"] == "train.py")
    assert f"loss = loss / {N}" in str(edit), edit
    fixed = (tmp_path / "proj" / "train.py").read_text()  # the plan does not write: apply does
    assert f"loss = loss / {N}" not in fixed
    assert any("checks the division in the source" in n for n in plan["notes"]), plan["notes"]
    # applying the plan's edit leaves a loop find_sites no longer flags, the division once, before the backward
    assert apply_plan(plan, plan["plan_id"], run_the_tests=False).report["status"] == "applied"
    fixed = (tmp_path / "proj" / "train.py").read_text()
    ast.parse(fixed)
    lines = [s.strip() for s in fixed.splitlines()]
    at = lines.index("loss.backward()")
    assert lines[at - 1].startswith(f"loss = loss / {N}  #"), fixed
    assert find_sites("train.py", fixed) == [] and fixed.count(f"/ {N}") == 1
