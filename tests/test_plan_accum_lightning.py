"""grad_accum_bug in a LightningModule under manual optimisation (plan/fix_accum.py, plan/lightning_probe.py):
`self.manual_backward(loss)` on every batch and `opt.step()` every N-th, the loss undivided. The plan divides it once
in the call, leaves a divided loss and a module that steps every batch alone, and adds a regression test that trains
the fixed module with a real Lightning Trainer at accumulation 1 and 4: on the Lightning-in-code layout (its faulty
run trained once, tests/userproj_cache.py) the test passes on the fixed code with its source fallback made to fail
and fails on the unfixed code at 4.00x (docs/plan-apply-verify.md, "grad_accum_bug").
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from test_plan_accum_entry import TEST, _fixed_and_original, _plan_for, _run_tests
from traindoc.apply.run import apply_plan
from traindoc.plan.fix_accum import find_sites
from userproj.layouts import tool_env

MODULE = '''
    import pytorch_lightning as pl
    import torch
    from torch.utils.data import DataLoader


    class Model(pl.LightningModule):
        def __init__(self, lr: float = 0.1, grad_accum_steps: int = 1):
            super().__init__()
            self.save_hyperparameters()
            self.automatic_optimization = False
            self.net = torch.nn.Linear(3, 1)

        def training_step(self, batch, batch_idx):
            opt = self.optimizers()
            loss = self.net(batch).pow(2).mean()
            self.manual_backward({loss})
            if (batch_idx + 1) % {gate} == 0:
                opt.step()
                opt.zero_grad()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


    def {data}():
        return DataLoader(torch.randn(64, 3), batch_size=8)
    '''
N = "self.hparams.grad_accum_steps"


def _module(loss: str = "loss", gate: str = N, data: str = "loader") -> str:
    return textwrap.dedent(MODULE.format(loss=loss, gate=gate, data=data)).lstrip()


def test_manual_backward_undivided_is_found_where_it_is() -> None:
    text = _module()
    sites = find_sites("model.py", text)
    assert [(s.line, s.loss, s.divisor, s.manual) for s in sites] == [(16, "loss", N, True)], sites
    assert text.splitlines()[15].strip() == "self.manual_backward(loss)"
    keyed = text.replace("self.manual_backward(loss)", "self.manual_backward(loss, retain_graph=True)")
    assert [(s.line, s.loss) for s in find_sites("model.py", keyed)] == [(16, "loss")]


@pytest.mark.parametrize("text", [
    _module(loss=f"loss / {N}"),  # already divided in the call
    _module(gate="1"),  # steps on every batch: nothing accumulates
    _module().replace("        loss = self.net(batch).pow(2).mean()\n",
                      f"        loss = self.net(batch).pow(2).mean() / {N}\n"),  # divided where it is computed
    _module().replace("opt.step()", "pass"),  # no optimizer step under the gate
])
def test_manual_backward_left_alone(text: str) -> None:
    assert find_sites("model.py", text) == []


def test_plan_divides_the_manual_backward_once(tmp_path: Path) -> None:
    plan = _plan_for(tmp_path / "proj", {"model.py": _module()})
    edit = next(c for c in plan["changes"] if c["file"] == "model.py")
    assert f"self.manual_backward(loss / {N})" in str(edit), edit
    assert not [n for n in plan["notes"] if n.startswith("grad_accum_bug: the regression test")], plan["notes"]
    test = next(c for c in plan["changes"] if c["file"] == TEST)
    assert "lightning.Trainer(" in str(test) and "def test_fixed_training_step_behaves" in str(test)
    # applied once: the fixed file holds one division and is no site any more
    assert apply_plan(plan, plan["plan_id"], run_the_tests=False).report["status"] == "applied"
    fixed = (tmp_path / "proj" / "model.py").read_text()
    assert fixed.count(f"self.manual_backward(loss / {N})") == 1, fixed
    assert find_sites("model.py", fixed) == []


def test_plan_says_why_the_test_reads_the_source(tmp_path: Path) -> None:
    """No data the test can build (the loader needs an argument): the test reads the division, the notes say why."""
    text = _module().replace("def loader():", "def loader(path):")
    plan = _plan_for(tmp_path / "proj", {"model.py": text})
    notes = [n for n in plan["notes"] if n.startswith("grad_accum_bug: the regression test")]
    assert len(notes) == 1 and "no train_dataloader, LightningDataModule or DataLoader function" in notes[0], notes
    test = next(c for c in plan["changes"] if c["file"] == TEST)
    assert "def test_accumulated_loss_is_divided_once" in str(test) and "lightning.Trainer(" not in str(test)


@pytest.mark.slow
def test_lightning_regression_test_trains_the_module(tmp_path: Path) -> None:
    root, original, plan = _fixed_and_original("lightning_code", tmp_path)
    assert f"self.manual_backward(loss / {N})" in (root / "train.py").read_text()
    assert not [n for n in plan["notes"] if n.startswith("grad_accum_bug: the regression test")], plan["notes"]
    got = _run_tests(tmp_path, [root / TEST, original / TEST], tool_env(tmp_path))
    fixed, unfixed = got[root / TEST], got[original / TEST]
    assert fixed == "passed", fixed
    assert unfixed.startswith("failed") and "is not divided by the accumulation steps" in unfixed, unfixed
    ratio = float(re.search(r"gradient ([0-9.]+)x the mean", unfixed).group(1))
    assert 3.9 < ratio < 4.1, unfixed
