"""data_pipeline_bug as a code edit, where the standard switch exists (found by reading the code, ast):

- a training DataLoader that does not shuffle (`shuffle=False`, or no `shuffle` at all, the default False) feeds
  every epoch in the same order, often sorted by class or source: the loss swings with the position in the epoch
  and the model forgets the early part. The fix is `shuffle=True`. A loader is a training one when its dataset or
  the name it is assigned to says "train" (not "val", "test", "eval"); one with a `sampler` / `batch_sampler`
  (which exclude `shuffle`) or an iterable dataset (`Iterable`, `stream` in its name: shuffling is its own code)
  is left alone;
- inputs and labels permuted by two different draws (`x = x[torch.randperm(n)]` then `y = y[torch.randperm(n)]`,
  or a second fresh draw beside a saved index) no longer match: every label belongs to another example. The fix
  draws the permutation once and indexes both with it.

Anything else (`random.shuffle` on the two lists separately, a loader whose dataset we cannot tell) is a manual
step naming the exact file and line. Each edit adds a regression test that runs the fixed code
(templates/fixes/regression_test.py.j2: the loader's settings build a DataLoader whose epoch is not in order; the
function that permutes is called on matched inputs and labels, which must stay matched).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_python
from traindoc.plan import regression_probe
from traindoc.plan.code_fix import add_test_file, render_template
from traindoc.plan.workspace import Context, Edit, char_at, code_texts, code_trees, level, line_starts, rel

TRAIN = re.compile(r"train", re.I)
NOT_TRAIN = re.compile(r"val|test|eval|dev|holdout|iter|stream", re.I)
PERM_CALLS = ("randperm", "permutation")  # torch.randperm(n), np.random.permutation(n)
SEPARATE_SHUFFLE = ("shuffle",)  # random.shuffle(x) / np.random.shuffle(x): in place, one draw per call


def _name(call: ast.Call) -> str:
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None) or ""


def _targets(tree: ast.Module) -> dict[int, str]:
    """id(call) -> the names it is assigned to (`train_loader = DataLoader(...)`)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            out[id(node.value)] = " ".join(ast.unparse(t) for t in node.targets)
    return out


def loader_sites(text: str) -> list[tuple[ast.Call, ast.keyword | None]]:
    """Training DataLoader calls that do not shuffle: (call, its `shuffle=False` keyword or None when absent)."""
    tree = parse_python(text)
    if tree is None:
        return []
    named = _targets(tree)
    out = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n) == "DataLoader"):
        kws = {k.arg: k for k in call.keywords}
        if None in kws or "sampler" in kws or "batch_sampler" in kws:
            continue  # **kwargs we cannot see into, or a sampler that decides the order
        dataset = call.args[0] if call.args else kws["dataset"].value if "dataset" in kws else None
        if dataset is None:
            continue
        what = ast.unparse(dataset) + " " + named.get(id(call), "")
        if not TRAIN.search(what) or NOT_TRAIN.search(what):
            continue
        shuffle = kws.get("shuffle")
        if shuffle is None or (isinstance(shuffle.value, ast.Constant) and shuffle.value.value is False):
            out.append((call, shuffle))
    return out


def _perm_index(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """`X = X[P]` with P a permutation draw or a name: (X, P)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Subscript)):
        return None
    target, sub = stmt.targets[0], stmt.value
    if ast.unparse(target) != ast.unparse(sub.value):
        return None
    return ast.unparse(target), sub.slice


def _is_draw(e: ast.expr) -> bool:
    return isinstance(e, ast.Call) and _name(e) in PERM_CALLS


def paired_sites(text: str) -> list[tuple[ast.stmt, ast.stmt, list[ast.stmt]]]:
    """Blocks where two arrays are reindexed by different permutation draws: (first, second, block)."""
    tree = parse_python(text)
    if tree is None:
        return []
    out = []
    for node in ast.walk(tree):
        for block in (getattr(node, f, None) for f in ("body", "orelse")):
            if not isinstance(block, list):
                continue
            draws = {}  # name -> its draw statement, for `idx = torch.randperm(n)`
            indexed = []
            for st in block:
                if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) \
                        and _is_draw(st.value):
                    draws[st.targets[0].id] = st
                hit = _perm_index(st)
                if hit and (_is_draw(hit[1]) or (isinstance(hit[1], ast.Name) and hit[1].id in draws)):
                    indexed.append((st, hit[1]))
            for (a, pa), (b, pb) in zip(indexed, indexed[1:], strict=False):
                if _is_draw(pb) or ast.unparse(pa) != ast.unparse(pb):
                    out.append((a, b, block))
                    break
    return out


def shuffle_loader(ctx: Context, rc: dict[str, Any]) -> bool:
    done = False
    for path in code_texts(ctx):
        for _ in range(10):  # one edit at a time: offsets move
            text = ctx.ws.text(path)
            sites = loader_sites(text)
            if not sites:
                break
            call, kw = sites[0]
            starts = line_starts(text)
            if kw is not None:
                s = char_at(text, starts, kw.value.lineno, kw.value.col_offset)
                e = char_at(text, starts, kw.value.end_lineno or kw.value.lineno, kw.value.end_col_offset or 0)
                new = text[:s] + "True" + text[e:]
            else:
                last = max(call.args + [k.value for k in call.keywords],
                           key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
                e = char_at(text, starts, last.end_lineno or last.lineno, last.end_col_offset or 0)
                new = text[:e] + ", shuffle=True" + text[e:]
            if parse_python(new) is None:
                break
            line = call.lineno - 1 if kw is None else kw.value.lineno - 1
            end = (call.end_lineno or call.lineno)
            old_lines, new_lines = text.splitlines()[line:end], new.splitlines()[line:end]
            ctx.ws.set_text(path, new, Edit(path, rc["cause"], "code",
                                            f"training DataLoader in {rel(ctx, path)}:{call.lineno}: shuffle=True, so "
                                            "every epoch sees the examples in a new order, not a fixed (often "
                                            "sorted) one", level(rc, "impact", "high"), level(rc, "effort", "low"),
                                            level(rc, "risk", "low"), new_lines, old_lines, "loader_shuffle"))
            _add_loader_test(ctx, rc, path, call.lineno)
            done = True
    return done


def _add_loader_test(ctx: Context, rc: dict[str, Any], path: str, line: int) -> None:
    content = render_template("regression_test", cause=rc["cause"], template="loader_shuffle", depth=1,
                              description="the training DataLoader shuffles", rel_file=rel(ctx, path), probe=None,
                              function="", line=line)
    add_test_file(ctx, rc["cause"], "test_traindoc_loader_shuffle", content,
                  f"regression test: the training DataLoader in {rel(ctx, path)} shuffles", "loader_shuffle")


def pair_permutations(ctx: Context, rc: dict[str, Any]) -> bool:
    done = False
    for path in code_texts(ctx):
        for _ in range(10):
            text = ctx.ws.text(path)
            sites = paired_sites(text)
            if not sites:
                break
            a, b, _block = sites[0]
            assert isinstance(a, ast.Assign) and isinstance(b, ast.Assign) and isinstance(a.value, ast.Subscript)
            xa, xb, pa = ast.unparse(a.targets[0]), ast.unparse(b.targets[0]), a.value.slice
            lines = text.splitlines(keepends=True)
            indent = lines[a.lineno - 1][:a.col_offset]
            if _is_draw(pa):  # draw it once, by name, before the first use
                used = {n.id for n in ast.walk(parse_python(text) or ast.Module(body=[], type_ignores=[]))
                        if isinstance(n, ast.Name)}
                name = next(n for n in ("perm", "perm_idx", "_perm", "_traindoc_perm") if n not in used)
                first = f"{indent}{name} = {ast.unparse(pa)}\n{indent}{xa} = {xa}[{name}]\n"
            else:
                name, first = ast.unparse(pa), "".join(lines[a.lineno - 1:a.end_lineno])
            second = f"{indent}{xb} = {xb}[{name}]\n"
            new = "".join(lines[:a.lineno - 1] + [first] + lines[a.end_lineno:b.lineno - 1] + [second]
                          + lines[b.end_lineno:])
            if parse_python(new) is None:
                break
            ctx.ws.set_text(path, new, Edit(path, rc["cause"], "code",
                                            f"{rel(ctx, path)}:{a.lineno}: {xa} and {xb} are reindexed by one "
                                            "permutation (two draws gave every label another example)",
                                            level(rc, "impact", "critical"), level(rc, "effort", "low"),
                                            level(rc, "risk", "low"), (first + second).splitlines(),
                                            "".join(lines[a.lineno - 1:b.end_lineno]).splitlines(), "paired_perm"))
            _add_pair_test(ctx, rc, path, a.lineno)
            done = True
    return done


def _add_pair_test(ctx: Context, rc: dict[str, Any], path: str, line: int) -> None:
    text = ctx.ws.text(path)
    probe = regression_probe.tensor_function(text, line, most=4, least=2)  # (x, y[, ...]) handed back permuted
    if probe is not None:
        probe["probe"] = "paired"
        probe["import_root"], probe["module"] = regression_probe.import_name(Path(path), ctx.ws.root)
    function = probe["function"] if probe else next(
        (n.name for n in (parse_python(text) or ast.Module(body=[], type_ignores=[])).body
         if isinstance(n, ast.FunctionDef) and n.lineno <= line <=
         (n.end_lineno or 0)), "")
    content = render_template("regression_test", cause=rc["cause"], template="paired_perm", depth=1,
                              description="inputs and labels are permuted together", rel_file=rel(ctx, path),
                              probe=probe, function=function)
    add_test_file(ctx, rc["cause"], "test_traindoc_paired_perm", content,
                  f"regression test: inputs and labels in {rel(ctx, path)} stay paired", "paired_perm")


def separate_shuffles(ctx: Context) -> list[str]:
    """`random.shuffle(x)` and `random.shuffle(y)` in one block: the exact lines, for the manual step."""
    out = []
    for path, tree in code_trees(ctx):
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if not isinstance(body, list):
                continue
            calls = [st for st in body if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call)
                     and _name(st.value) in SEPARATE_SHUFFLE and len(st.value.args) == 1]
            if len(calls) >= 2:
                lines = ", ".join(str(c.lineno) for c in calls)
                out.append(f"{rel(ctx, path)}:{lines}: {' and '.join(ast.unparse(c) for c in calls)} shuffle each "
                           "list with its own draw, so inputs and labels no longer match; shuffle one list of "
                           "(input, label) pairs, or index both with one permutation")
    return out


def fix_data_pipeline(ctx: Context, rc: dict[str, Any]) -> bool:
    """The standard switches above; else the manual step names the exact place (or says none was found)."""
    done = pair_permutations(ctx, rc)
    done |= shuffle_loader(ctx, rc)
    if not done:
        found = separate_shuffles(ctx)
        for note in found:
            ctx.ws.notes.append(f"data_pipeline_bug: {note}")
    return done
