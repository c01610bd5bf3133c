"""How the grad-accumulation regression test runs a LightningModule that accumulates by hand (manual optimisation:
`self.manual_backward(loss)` on every batch, `opt.step()` every N-th; plan/fix_accum.py).

Lightning's own loop calls `training_step`, so there is no loop of the user's to call and no entry script is needed:
the test (templates/fixes/regression_test.py.j2, probe "lightning_manual") imports the fixed module, builds the
LightningModule with its accumulation argument at 1 and at 4 (every other argument at its default) and trains each
with a real Lightning Trainer for 4 batches, the same batch of the project's own training data each time, with every
optimizer step undone at once so that every gradient is taken at the initial weights. At 1 the 4 steps' gradients
are that batch's gradient; at 4 the one step's gradient is the mean of 4 copies of it with the loss divided once
(ratio 1), their sum undivided (ratio 4; docs/plan-apply-verify.md, "grad_accum_bug").

Everything the test needs is read here by ast (never run): the LightningModule class around the call, the setting
(the last name of N, `self.hparams.grad_accum_steps` -> grad_accum_steps) as an argument of its `__init__` that a
test can pass alone (every other argument has a default), and where one batch of training data comes from: the
module's own `train_dataloader`, a LightningDataModule of the same file built with its defaults, or a module-level
function with no required argument that builds a DataLoader (`loader()`). Anything else gives the reason instead,
and the test reads the division in the source; the plan's notes say why.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from traindoc.plan import regression_probe
from traindoc.plan.entry_probe import STEPS, parsed_setting
from traindoc.plan.workspace import Context, rel


def _base_names(cls: ast.ClassDef) -> list[str]:
    return [str(getattr(b, "attr", None) or getattr(b, "id", "")) for b in cls.bases]


def _init_takes_alone(cls: ast.ClassDef, name: str) -> bool:
    """`cls(name=n)` builds it: `__init__` has `name` and a default for every other argument."""
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    if init is None:
        return False
    need = regression_probe.required(init)
    params = [a.arg for a in init.args.args + init.args.kwonlyargs]
    return need is not None and name in params and not [p for p in need if p not in ("self", name)]


def _data(tree: ast.Module, cls: ast.ClassDef) -> dict[str, str] | None:
    """Where the test takes one batch of the project's training data."""
    if any(isinstance(f, ast.FunctionDef) and f.name == "train_dataloader" for f in cls.body):
        return {"kind": "module", "name": cls.name}
    for dm in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        if any(b.endswith("LightningDataModule") for b in _base_names(dm)) and any(
                isinstance(f, ast.FunctionDef) and f.name == "train_dataloader" for f in dm.body):
            init = next((f for f in dm.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
            if init is None or regression_probe.required(init) == ["self"]:
                return {"kind": "datamodule", "name": dm.name}
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        builds = any(isinstance(c, ast.Call) and (getattr(c.func, "id", None) or getattr(c.func, "attr", None))
                     == "DataLoader" for c in ast.walk(fn))
        if builds and regression_probe.required(fn) == [] and not fn.args.kwonlyargs:
            return {"kind": "function", "name": fn.name}
    return None


def manual_accum_probe(ctx: Context, path: str, line: int, divisor: str) -> tuple[dict[str, Any] | None, str]:
    """(the probe for the template, "") or (None, why the test reads the source instead)."""
    parsed = parsed_setting(ctx, path, divisor)
    if isinstance(parsed, str):
        return None, parsed
    name, tree = parsed
    cls = next((c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and c.lineno <= line <= (c.end_lineno or 0)
                and any(b.endswith("LightningModule") for b in _base_names(c))), None)
    if cls is None:
        return None, f"{rel(ctx, path)}:{line} is not in a LightningModule subclass"
    if not regression_probe.importable(tree):
        return None, f"importing {rel(ctx, path)} runs more than definitions"
    if not _init_takes_alone(cls, name):
        return None, f"{cls.name}(...) cannot be built with {name} alone (not an argument, or others are required)"
    data = _data(tree, cls)
    if data is None:
        return None, (f"{rel(ctx, path)} has no train_dataloader, LightningDataModule or DataLoader function the "
                      "test can build with its defaults")
    root, module = regression_probe.import_name(Path(path), ctx.ws.root)
    return {"probe": "lightning_manual", "cls": cls.name, "name": name, "steps": STEPS, "data": data,
            "import_root": root, "module": module}, ""
