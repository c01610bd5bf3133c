"""distributed_desync as a code edit, where the standard one exists (found by reading the code, ast):

A `DistributedSampler` shuffles with a seed plus its epoch, and its epoch only changes when the loop calls
`sampler.set_epoch(epoch)` (PyTorch's DistributedSampler documentation says to call it at the start of every
epoch). Without it every epoch hands every rank the same shard in the same order. The fix inserts
`<sampler>.set_epoch(<epoch>)` as the first statement of the epoch loop: the outer `for <epoch> in ...` loop around
the loop over the loader that uses the sampler (by name, or `<loader>.sampler` when the sampler is built inside
the DataLoader call).

A seed that depends on the rank (`torch.manual_seed(seed + rank)`) gives each rank other initial weights unless
DDP broadcasts rank 0's at wrap time, and other dropout masks by design; whether that is the desync is the
person's call, so it is a manual step naming the line. Everything else is a manual step too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_python
from traindoc.plan import regression_probe
from traindoc.plan.code_fix import add_test_file, render_template
from traindoc.plan.workspace import Context, Edit, code_texts, code_trees, level, rel

RANK = re.compile(r"rank", re.I)


def _name(call: ast.Call) -> str:
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None) or ""


def _sampler_exprs(tree: ast.AST) -> dict[str, str]:
    """loader name -> the expression of its DistributedSampler (`sampler` or `train_loader.sampler`)."""
    samplers: set[str] = set()
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and _name(node.value) == "DistributedSampler":
            samplers.add(node.targets[0].id)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _name(node.value) ==
                "DataLoader" and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        kw = next((k.value for k in node.value.keywords if k.arg == "sampler"), None)
        if isinstance(kw, ast.Name) and kw.id in samplers:
            out[node.targets[0].id] = kw.id
        elif isinstance(kw, ast.Call) and _name(kw) == "DistributedSampler":
            out[node.targets[0].id] = f"{node.targets[0].id}.sampler"
    return out


def set_epoch_sites(text: str) -> list[tuple[ast.For, str]]:
    """(epoch loop, sampler expression) for each epoch loop over a DistributedSampler's loader without set_epoch."""
    tree = parse_python(text)
    if tree is None:
        return []
    if "set_epoch" in text:
        return []  # the project calls it somewhere: not this bug
    loaders = _sampler_exprs(tree)
    out = []
    for outer in (n for n in ast.walk(tree) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
                  and n.target.id != "_"):
        for inner in (n for n in ast.walk(outer) if isinstance(n, ast.For) and n is not outer):
            used = {n.id for n in ast.walk(inner.iter) if isinstance(n, ast.Name)}
            hit = next((loaders[name] for name in used if name in loaders), None)
            if hit:
                out.append((outer, hit))
                break
    # the innermost epoch loop only (an outer loop over runs must not be taken for the epochs)
    return [(o, s) for o, s in out if not any(o is not p and p in list(ast.walk(o)) for p, _ in out)]


def rank_seeds(ctx: Context) -> list[str]:
    out = []
    for path, tree in code_trees(ctx):
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n) in ("manual_seed", "seed")):
            if call.args and RANK.search(ast.unparse(call.args[0])):
                out.append(f"{rel(ctx, path)}:{call.lineno}: {ast.unparse(call)} seeds each rank differently: the "
                           "ranks start from other weights unless DDP broadcasts rank 0's; use one seed for the "
                           "model and a per-rank seed only for what must differ (data augmentation)")
    return out


def add_set_epoch(ctx: Context, rc: dict[str, Any]) -> bool:
    done = False
    for path in code_texts(ctx):
        text = ctx.ws.text(path)
        sites = set_epoch_sites(text)
        lines = text.splitlines(keepends=True)
        for loop, sampler in sorted(sites, key=lambda s: s[0].lineno, reverse=True):  # bottom up: lines stay valid
            first = loop.body[0]
            indent = lines[first.lineno - 1][:first.col_offset]
            assert isinstance(loop.target, ast.Name)
            stmt = f"{indent}{sampler}.set_epoch({loop.target.id})  # a new shuffle per epoch, the same on every rank\n"
            lines = lines[:first.lineno - 1] + [stmt] + lines[first.lineno - 1:]
        edits = [Edit(path, rc["cause"], "code", f"{rel(ctx, path)}:{loop.lineno}: {sampler}.set_epoch(...) at the "
                      "start of every epoch: without it the DistributedSampler repeats one order",
                      level(rc, "impact", "high"), level(rc, "effort", "low"), level(rc, "risk", "low"),
                      [f"{sampler}.set_epoch(...)"], [], "set_epoch") for loop, sampler in sites]
        if not sites or not ctx.ws.set_lines(path, lines, edits):
            continue
        # the test runs the fixed epoch loop when its function takes nothing required (the first loop: the ones
        # below it moved down by the lines inserted above them), else it reads the source
        probe = regression_probe.set_epoch_probe(ctx.ws.text(path), min(loop.lineno for loop, _ in sites))
        if probe is not None:
            probe["import_root"], probe["module"] = regression_probe.import_name(Path(path), ctx.ws.root)
        content = render_template("regression_test", cause=rc["cause"], template="set_epoch", depth=1,
                                  description="the DistributedSampler's epoch is set every epoch",
                                  rel_file=rel(ctx, path), probe=probe, function=probe["function"] if probe else "")
        add_test_file(ctx, rc["cause"], "test_traindoc_set_epoch", content,
                      f"regression test: set_epoch in every epoch loop of {rel(ctx, path)}", "set_epoch")
        done = True
    return done


def fix_distributed(ctx: Context, rc: dict[str, Any]) -> bool:
    done = add_set_epoch(ctx, rc)
    for note in rank_seeds(ctx):
        ctx.ws.notes.append(f"distributed_desync: {note}")
    return done
