"""grad_accum_bug as a code edit: a loop that accumulates gradients over N micro-batches (`optimizer.step()` only
every N-th iteration) but back-propagates each micro-batch's mean loss undivided, so every update is N times the
gradient of the mean over the accumulated batch (as if the LR were N times higher).

The standard fix: divide the loss by the accumulation steps exactly once, `(loss / N).backward()`. A loop whose
loss is already divided by N (in the backward call, an assignment or `/=`) is left alone. A summed loss
(`reduction="sum"`) is normalised by the number of target tokens in the whole accumulated batch instead (the
Hugging Face `num_items_in_batch` way); that needs the token count of every micro-batch before the first backward,
so it is a manual step, said in the plan's notes.

nanoGPT's form: an inner `for micro_step in range(N):` that back-propagates every micro-batch, the optimizer stepped
once after it. nanoGPT divides with its own statement, `loss = loss / gradient_accumulation_steps`, and logs
`loss.item() * gradient_accumulation_steps`; the fix puts that statement back before the backward (wrapping the
backward's receiver instead would leave the logged loss N times the micro-batch's).

The Lightning form (manual optimisation, `self.automatic_optimization = False`): a method, `training_step` as
Lightning's manual-optimisation docs write it, that calls `self.manual_backward(loss)` on every micro-batch and
`opt.step()` under `if (batch_idx + 1) % N == 0:`. Lightning's own loop runs it once per batch and divides nothing
(it divides by `accumulate_grad_batches` only under automatic optimisation), so the fix is the same division once,
in the call: `self.manual_backward(loss / N)` (docs/plan-apply-verify.md, "grad_accum_bug"). Its regression test
imports the fixed LightningModule and trains it with a real Lightning Trainer (plan/lightning_probe.py).

The Hugging Face Trainer form of the bug: a Trainer subclass whose `compute_loss` accepts `num_items_in_batch` but
returns its own mean loss without using it. The Trainer then takes the loss as already normalised over the
accumulated batch (the model accepts loss kwargs) and does not divide it by the accumulation steps. The fix sets
the class attribute the Trainer reads for exactly this case, `loss_is_scaled_for_ga = False`
(templates/fixes/hf_loss_scaled.py.j2), so the Trainer divides once; on a transformers release without that
attribute the note says to divide by `num_items_in_batch` instead.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_expression, parse_python
from traindoc.plan import entry_probe, lightning_probe, regression_probe
from traindoc.plan.code_fix import add_test_file, render_template
from traindoc.plan.workspace import Context, Edit, char_at, code_texts, level, line_starts, rel


@dataclass
class AccumSite:
    file: str
    start: int  # character offsets of the backward call's receiver (the loss expression)
    end: int
    line: int
    loss: str
    divisor: str
    summed: bool  # the loss is a sum (reduction="sum"): divide by the token count, not by N
    manual: bool = False  # Lightning's `self.manual_backward(loss)`: the loss is the call's argument
    # nanoGPT's inner micro-step loop: the division goes back as its own statement, `loss = loss / N` before the
    # backward, so that a later `loss.item() * N` (nanoGPT's logged loss) is the micro-batch's mean again
    assign: bool = False


def _divisor(test: ast.expr) -> ast.expr | None:
    """N in an `if (i + 1) % N == 0:` test (a name, an attribute or an integer above 1)."""
    for n in ast.walk(test):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod):
            r = n.right
            if isinstance(r, ast.Name | ast.Attribute) or (isinstance(r, ast.Constant) and isinstance(r.value, int)
                                                            and not isinstance(r.value, bool) and r.value > 1):
                return r
    return None


def _calls(node: ast.AST, attr: str) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == attr]


def _divided(loop: ast.AST, loss: ast.expr, n: ast.expr) -> bool:
    """The loss is already divided by N somewhere in the loop."""
    want = ast.dump(n)

    def by_n(e: ast.AST) -> bool:
        return any(isinstance(b, ast.BinOp) and isinstance(b.op, ast.Div) and ast.dump(b.right) == want
                   for b in ast.walk(e))

    if by_n(loss):
        return True
    name = loss.id if isinstance(loss, ast.Name) else None
    for s in ast.walk(loop):
        if isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Div) and ast.dump(s.value) == want:
            return True
        if isinstance(s, ast.Assign) and name and any(isinstance(t, ast.Name) and t.id == name for t in s.targets) \
                and by_n(s.value):
            return True
    return False


def _gate(scope: ast.AST) -> ast.expr | None:
    """N of the first `if ... % N == 0:` in `scope` whose body steps an optimizer, or None."""
    gated = [i for i in ast.walk(scope) if isinstance(i, ast.If) and _divisor(i.test) is not None
             and any(_calls(s, "step") for s in i.body)]
    return _divisor(gated[0].test) if gated else None


def _summed(scope: ast.AST) -> bool:
    return any(k.arg == "reduction" and isinstance(k.value, ast.Constant) and k.value.value == "sum"
               for c in ast.walk(scope) if isinstance(c, ast.Call) for k in c.keywords)


def _manual_sites(path: str, text: str, tree: ast.Module, starts: list[int]) -> list[AccumSite]:
    """Lightning's manual optimisation: a method whose `self.manual_backward(loss)` runs on every call and whose
    optimizer steps under `if ... % N == 0:` (the framework's loop calls it once per micro-batch)."""
    out = []
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        n = _gate(fn)
        if n is None:
            continue
        for call in _calls(fn, "manual_backward"):
            if not call.args:  # `manual_backward(loss, retain_graph=True)`: the loss is the first argument
                continue
            loss = call.args[0]
            if _divided(fn, loss, n) or loss.end_lineno is None or loss.end_col_offset is None:
                continue
            s = char_at(text, starts, loss.lineno, loss.col_offset)
            e = char_at(text, starts, loss.end_lineno, loss.end_col_offset)
            out.append(AccumSite(path, s, e, loss.lineno, text[s:e], ast.unparse(n), _summed(fn), manual=True))
    return out


def _range_count(loop: ast.For) -> ast.expr | None:
    """N of a `for _ in range(N):` loop (a name, an attribute or an integer above 1), or None."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and len(it.args) == 1 and not it.keywords):
        return None
    n = it.args[0]
    if isinstance(n, ast.Name | ast.Attribute) or (isinstance(n, ast.Constant) and isinstance(n.value, int)
                                                   and not isinstance(n.value, bool) and n.value > 1):
        return n
    return None


def _micro_step_sites(path: str, text: str, tree: ast.Module, starts: list[int]) -> list[AccumSite]:
    """nanoGPT's form: an inner `for micro_step in range(N):` that back-propagates every micro-batch and steps no
    optimizer, inside a loop that steps one after it (`scaler.step(optimizer)` / `optimizer.step()`)."""
    out = []
    for outer in (n for n in ast.walk(tree) if isinstance(n, ast.For | ast.While)):
        for inner in (n for n in ast.walk(outer) if isinstance(n, ast.For) and n is not outer):
            n = _range_count(inner)
            if n is None or _calls(inner, "step"):
                continue
            inside = {id(c) for c in _calls(inner, "step")}
            if not [c for c in _calls(outer, "step") if id(c) not in inside]:
                continue
            for call in _calls(inner, "backward"):
                if call.args or call.keywords or not isinstance(call.func.value, ast.Name):  # type: ignore[attr-defined]
                    continue
                loss = call.func.value  # type: ignore[attr-defined]
                if _divided(inner, loss, n):
                    continue
                s = char_at(text, starts, loss.lineno, loss.col_offset)
                out.append(AccumSite(path, s, s + len(loss.id), loss.lineno, loss.id, ast.unparse(n),
                                     _summed(inner), assign=True))
    return out


def find_sites(path: str, text: str) -> list[AccumSite]:
    tree = parse_python(text)
    if tree is None:
        return []
    starts = line_starts(text)
    seen: set[int] = set()
    out = _manual_sites(path, text, tree, starts) + _micro_step_sites(path, text, tree, starts)
    for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For | ast.While)):
        n = _gate(loop)
        if n is None:
            continue
        summed = _summed(loop)
        for call in _calls(loop, "backward"):
            if id(call) in seen or call.args or call.keywords:
                continue
            seen.add(id(call))
            loss = call.func.value  # type: ignore[attr-defined]
            if _divided(loop, loss, n) or loss.end_lineno is None or loss.end_col_offset is None:
                continue
            s = char_at(text, starts, loss.lineno, loss.col_offset)
            e = char_at(text, starts, loss.end_lineno, loss.end_col_offset)
            out.append(AccumSite(path, s, e, loss.lineno, text[s:e], ast.unparse(n), summed))
    return out


def scale_accum_loss(ctx: Context, rc: dict[str, Any]) -> bool:
    done = _hf_loss_scaled(ctx, rc)
    for path in code_texts(ctx):
        for _ in range(10):  # one edit at a time: offsets move
            sites = find_sites(path, ctx.ws.text(path))
            todo = [s for s in sites if not s.summed]
            for s in sites:
                if s.summed:
                    note = (f"{rel(ctx, path)}:{s.line}: the summed loss is back-propagated every micro-batch: divide "
                            "it once by the number of target tokens in the whole accumulated batch (HF's "
                            "num_items_in_batch)")
                    if note not in ctx.ws.notes:
                        ctx.ws.notes.append(note)
            if not todo:
                break
            s = todo[0]
            text = ctx.ws.text(path)
            simple = isinstance(parse_expression(s.loss), ast.Name | ast.Attribute | ast.Subscript)
            divisor = s.divisor if isinstance(parse_expression(s.divisor),
                                              ast.Name | ast.Attribute | ast.Constant) else f"({s.divisor})"
            new_loss = f"{s.loss if simple else f'({s.loss})'} / {divisor}"
            if s.assign:  # its own statement before the backward's line, at that line's indentation
                at = text.rfind("\n", 0, s.start) + 1
                indent = text[at:s.start]
                if indent.strip():  # the backward is not the line's first statement: wrap it in place instead
                    s.assign = False
                else:
                    new = (text[:at] + f"{indent}{s.loss} = {new_loss}  # each micro-batch adds 1/{s.divisor} of "
                           "the accumulated batch's gradient\n" + text[at:])
            if not s.assign:
                new_loss = new_loss if s.manual else f"({new_loss})"  # a call's argument needs no parentheses
                new = text[:s.start] + new_loss + text[s.end:]
            if parse_python(new) is None:
                break
            line = s.line - 1
            old_line, new_line = text.splitlines()[line], new.splitlines()[line]
            what = (f"self.manual_backward({s.loss}) -> self.manual_backward({new_loss})" if s.manual else
                    f"{s.loss} = {new_loss} before {s.loss}.backward()" if s.assign else
                    f"{s.loss}.backward() -> {new_loss}.backward()")
            ctx.ws.set_text(path, new, Edit(path, rc["cause"], "code",
                                            f"{what}: each of the {s.divisor} "
                                            "accumulated micro-batches adds 1/N of the gradient, so the update is the "
                                            f"mean over the accumulated batch, not {s.divisor} times it",
                                            level(rc, "impact", "high"), level(rc, "effort", "low"),
                                            level(rc, "risk", "low"),
                                            [new_line, old_line] if s.assign else [new_line], [old_line],
                                            "accum_scale"))
            _add_test(ctx, rc, path, s)
            done = True
    return done


def _add_test(ctx: Context, rc: dict[str, Any], path: str, s: AccumSite) -> None:
    """The regression test runs the fixed loop: a module-level loop function on a tiny model, where two accumulated
    halves of a batch must make the whole batch's update (plan/regression_probe.accum_probe); else the project's
    entry script to its first optimizer step with the accumulation setting at 1 and 4 (plan/entry_probe.py); for
    Lightning's manual optimisation, the fixed LightningModule trained by a real Lightning Trainer at 1 and 4
    (plan/lightning_probe.py). Where none can be built it reads the division in the source, and the plan's notes
    say why."""
    text = ctx.ws.text(path)
    if s.manual:
        probe, why = lightning_probe.manual_accum_probe(ctx, path, s.line, s.divisor)
        if probe is None:
            ctx.ws.notes.append(f"grad_accum_bug: the regression test for {rel(ctx, path)}:{s.line} checks the "
                                f"division in the source, not by training the module: {why}")
    elif s.assign:
        # the micro-step loop's N is a name the config file or the command line sets before the loop runs (nanoGPT's
        # configurator exec): no single place the entry probe could set it to 1 and 4
        probe = None
        ctx.ws.notes.append(f"grad_accum_bug: the regression test for {rel(ctx, path)}:{s.line} checks the "
                            f"division in the source, not by running the loop: its micro-step count {s.divisor} is "
                            "set by the configuration the script executes")
    elif (probe := regression_probe.accum_probe(text, s.line, s.divisor)) is not None:
        probe["import_root"], probe["module"] = regression_probe.import_name(Path(path), ctx.ws.root)
    else:
        probe, why = entry_probe.accum_entry_probe(ctx, path, s.line, s.divisor)
        if probe is None:
            ctx.ws.notes.append(f"grad_accum_bug: the regression test for {rel(ctx, path)}:{s.line} checks the "
                                f"division in the source, not by running the loop: {why}")
    tree = parse_python(text) or ast.Module(body=[], type_ignores=[])
    fn = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
               and n.lineno <= s.line <= (n.end_lineno or 0)), None)
    description = f"the loss back-propagated every micro-batch is divided by {s.divisor}"
    content = render_template("regression_test", cause=rc["cause"], template="accum_scale", depth=1,
                              description=description, rel_file=rel(ctx, path), probe=probe,
                              function=fn.name if fn else "", divisor=s.divisor)
    add_test_file(ctx, rc["cause"], "test_traindoc_accum_scale", content,
                  f"regression test for the accumulation loss scaling in {rel(ctx, path)}", "accum_scale")


def _uses(fn: ast.FunctionDef, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(fn))


def hf_trainer_sites(tree: ast.Module) -> list[ast.ClassDef]:
    """Trainer subclasses whose compute_loss takes num_items_in_batch (by name or **kwargs) and never uses it."""
    out = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if not any(str(getattr(b, "attr", None) or getattr(b, "id", "")).endswith("Trainer") for b in cls.bases):
            continue
        if any(isinstance(s, ast.Assign | ast.AnnAssign) and "loss_is_scaled_for_ga" in ast.unparse(s)
               for s in cls.body):
            continue
        for fn in cls.body:
            if not (isinstance(fn, ast.FunctionDef) and fn.name == "compute_loss"):
                continue
            names = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
            takes = "num_items_in_batch" in names or fn.args.kwarg is not None
            used = _uses(fn, "num_items_in_batch") or (fn.args.kwarg is not None and _uses(fn, fn.args.kwarg.arg))
            if takes and not used and not _uses(fn, "gradient_accumulation_steps") and \
                    "gradient_accumulation_steps" not in ast.unparse(fn):
                out.append(cls)
    return out


def _hf_loss_scaled(ctx: Context, rc: dict[str, Any]) -> bool:
    done = False
    for path in code_texts(ctx):
        text = ctx.ws.text(path)
        tree = parse_python(text)
        if tree is None:
            continue
        sites = hf_trainer_sites(tree)
        lines = text.splitlines(keepends=True)
        for cls in sorted(sites, key=lambda c: c.lineno, reverse=True):  # bottom up: line numbers stay valid
            first = cls.body[0]
            doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                first.value.value, str)
            at = (first.end_lineno or first.lineno) if doc else first.lineno - 1  # insert after this many lines
            anchor = cls.body[1] if doc and len(cls.body) > 1 else first
            indent = lines[anchor.lineno - 1][:anchor.col_offset]
            block = render_template("hf_loss_scaled", indent=indent) + ("\n" if doc else "\n\n")
            lines = lines[:at] + [block] + lines[at:]
        edits = [Edit(path, rc["cause"], "code", f"{cls.name}.compute_loss in {rel(ctx, path)} returns a mean that "
                      "ignores num_items_in_batch: loss_is_scaled_for_ga = False makes the Trainer divide it by the "
                      "gradient accumulation steps once", level(rc, "impact", "high"), level(rc, "effort", "low"),
                      level(rc, "risk", "low"), ["loss_is_scaled_for_ga = False"], []) for cls in sites]
        if not sites or not ctx.ws.set_lines(path, lines, edits):
            continue
        for cls in sites:
            _add_hf_test(ctx, rc, path, cls.name, cls.lineno)
        ctx.ws.notes.append(f"grad_accum_bug: loss_is_scaled_for_ga is read by the Trainer of recent transformers "
                            f"releases; on one without it, divide {sites[0].name}.compute_loss's loss by "
                            "num_items_in_batch (a summed loss) instead")
        done = True
    return done


def _add_hf_test(ctx: Context, rc: dict[str, Any], path: str, cls: str, line: int) -> None:
    """The regression test runs the project's entry script to its first optimizer steps with the Trainer's
    gradient_accumulation_steps at 1 and 4, set where the next run reads it (a launch flag, the JSON the command
    hands HfArgumentParser; plan/entry_probe.py), and compares the gradients. Where that run cannot be built (the
    setting a keyword of the script's own TrainingArguments call, no launch command), it imports the fixed Trainer
    subclass and checks the attribute the Trainer reads, or reads the class body where the module does not import
    without running more than definitions."""
    text = ctx.ws.text(path)
    probe, why = entry_probe.accum_entry_probe(ctx, path, line, "args.gradient_accumulation_steps")
    if probe is None:
        ctx.ws.notes.append(f"grad_accum_bug: the regression test for {cls} in {rel(ctx, path)} checks the attribute "
                            f"the Trainer reads, not by running the training: {why}")
        tree = parse_python(text)
        if tree is not None and regression_probe.importable(tree):
            probe = {"probe": "hf_class"}
            probe["import_root"], probe["module"] = regression_probe.import_name(Path(path), ctx.ws.root)
    content = render_template("regression_test", cause=rc["cause"], template="hf_loss_scaled", depth=1,
                              description=f"{cls} says its loss is not yet divided by the accumulation steps",
                              rel_file=rel(ctx, path), probe=probe, function=cls)
    add_test_file(ctx, rc["cause"], "test_traindoc_hf_loss_scaled", content,
                  f"regression test for {cls}'s loss scaling in {rel(ctx, path)}", "hf_loss_scaled")
