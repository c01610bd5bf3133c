"""no_warmup in a Lightning project that has no warmup setting: its `configure_optimizers` returns a bare
optimizer, so the LR is full from the first step. The fix wraps that optimizer with a per-step linear warmup
(templates/fixes/lightning_warmup.py.j2: a LambdaLR that Lightning steps after every optimiser step, "interval":
"step"). Only a method that returns an optimizer constructor call and names no scheduler is rewritten; anything
else (a scheduler already configured, several optimizers) is left to the person.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from traindoc.evidence.code_sites import parse_python
from traindoc.plan.code_fix import add_import, render_template
from traindoc.plan.fix_schedule import warmup_steps
from traindoc.plan.workspace import Context, Edit, code_texts, level, rel

LIGHTNING_BASES = ("LightningModule",)


def _is_lightning(cls: ast.ClassDef) -> bool:
    return any((getattr(b, "attr", None) or getattr(b, "id", None)) in LIGHTNING_BASES for b in cls.bases)


def _site(tree: ast.Module) -> ast.Return | None:
    """The `return torch.optim.X(...)` of a LightningModule's configure_optimizers that sets up no scheduler."""
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and _is_lightning(n)):
        for fn in cls.body:
            if not (isinstance(fn, ast.FunctionDef) and fn.name == "configure_optimizers"):
                continue
            if any(isinstance(n, ast.Name | ast.Attribute) and "sched" in (getattr(n, "id", "") or
                                                                           getattr(n, "attr", "")).lower()
                   for n in ast.walk(fn)):
                return None
            last = fn.body[-1]
            if isinstance(last, ast.Return) and isinstance(last.value, ast.Call) and last.lineno == \
                    last.end_lineno:
                return last
    return None


def lightning_warmup(ctx: Context, rc: dict[str, Any]) -> bool:
    for path, text in code_texts(ctx).items():
        tree = parse_python(text)
        if tree is None:
            continue
        ret = _site(tree)
        if ret is None or ret.value is None:
            continue
        lines = text.splitlines(keepends=True)
        old = lines[ret.lineno - 1]
        indent = re.match(r"[ \t]*", old).group(0)
        n = warmup_steps(ctx, None)
        block = render_template("lightning_warmup", indent=indent, optimizer=ast.get_source_segment(text, ret.value),
                                warmup=n)
        new = "".join(lines[:ret.lineno - 1]) + block + ("\n" if old.endswith("\n") else "") + \
            "".join(lines[ret.lineno:])
        if not re.search(r"^\s*import torch\b", new, re.M):
            new = add_import(new, "import torch")
        if parse_python(new) is None:
            continue
        ctx.ws.set_text(path, new, Edit(path, rc["cause"], "code",
                                        f"configure_optimizers in {rel(ctx, path)}: a linear LR warmup over the first "
                                        f"{n} steps (~5% of the run), stepped by Lightning after every optimiser step",
                                        level(rc, "impact", "high"), level(rc, "effort", "low"),
                                        level(rc, "risk", "low"), block.splitlines(), [old.rstrip("\n")],
                                        "lightning_warmup"))
        return True
    return False
