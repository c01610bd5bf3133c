"""What the run's code rules out: a cause the code plainly makes impossible is not confirmed from the log's shape.

A log's shape is shared by several causes (docs/causes.md, "tell apart"): a grad norm that climbs step after step
is what never-cleared gradients leave, and also what an accumulation loop stepping on undivided losses leaves. When
the run's code is given (`diagnose --code DIR`, .py files in the run folder, a notebook's code cells) and it
settles the question — the one training loop clears its gradients before every optimiser step — the cause the shape
pointed to is ruled out, and the diagnosis says so with the line that rules it out.

Each reader here is one cause's (its `ruled_out_by` in src/traindoc/causes/<id>.py): it reads the parsed files
(code_sites.parsed_source; never runs them) and returns the evidence that rules the cause out, or None when the
code does not settle it. Only unambiguous code rules anything out: exactly one training loop in the code given
(a hand-written loop that calls `.backward()` and an optimiser's `.step()`, or a loop the framework owns), every
step of it covered. Anything else (no loop found, two loops, a clear that runs less often than the step) says
nothing, and the log decides as before. diagnosis/ranking.py applies the reading as a cap below 0.5.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from traindoc.evidence import code_files, code_sites, stats
from traindoc.evidence.code_sites import _call_name, _calls, _optimizer_text, _receiver, _Source, _training_loops
from traindoc.ingest.model import Run

_CLEARS = ("zero_grad", "clear_grad")  # torch / paddle: clear every gradient the receiver holds


def _sources(run: Run) -> list[_Source]:
    """The run's parsed code files (code_files: no test files, bounded size; a notebook's code cells), unparseable
    files skipped."""
    out = []
    for path, text in code_files.file_texts(run).items():
        if (src := code_sites.parsed_source(path, text)) is not None:
            out.append(src)
    return out


def _where(src: _Source, node: ast.AST) -> str:
    line = getattr(node, "lineno", 1)
    return f"`{src.lines[line - 1].strip()[:100]}` [{code_files.where(src.path, line)}]"


def _gates(src: _Source, node: ast.AST, loop: ast.AST) -> list[tuple[ast.If, bool]]:
    """The `if`s between `node` and `loop`, each with the branch `node` is in (True: the body)."""
    out = []
    child, parent = node, src.parents.get(node)
    while parent is not None and parent is not loop:
        if isinstance(parent, ast.If) and child is not parent.test:
            out.append((parent, child in parent.body))
        child, parent = parent, src.parents.get(parent)
    return out


def _covers(src: _Source, clear: ast.AST, step: ast.AST, loop: ast.AST) -> bool:
    """The clear runs whenever the step does: every `if` it sits under also holds the step, in the same branch (an
    accumulation loop that clears right after its gated step covers it; a clear gated on `% N` while the step runs
    every micro-batch does not)."""
    return set(_gates(src, clear, loop)) <= set(_gates(src, step, loop))


def _clears(src: _Source, loop: ast.For | ast.While) -> list[tuple[ast.AST, str | None]]:
    """The loop's gradient clears: (node, the cleared optimiser's text, or None for a clear of every parameter the
    code names: `model.zero_grad()`, `p.grad = None`, `p.grad.zero_()`)."""
    out: list[tuple[ast.AST, str | None]] = []
    for c in _calls(loop.body):
        name, recv = _call_name(c), _receiver(c)
        if name in _CLEARS and recv is not None:
            text = src.segment(recv)
            out.append((c, text if "optim" in text.lower() or text == "opt" else None))
        elif name == "zero_" and isinstance(recv, ast.Attribute) and recv.attr == "grad":
            out.append((c, None))
    for n in code_sites._walk_no_defs(loop.body):
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "grad" for t in n.targets):
            out.append((n, None))
    return out


def _framework_loops(sources: list[_Source]) -> list[tuple[_Source, ast.AST, str]]:
    """Training loops a framework owns, found by what starts them: `Trainer(...)` then `.train()` (HF Trainer clears
    the gradients after every optimiser step of its inner loop), a LightningModule's `training_step` under automatic
    optimisation (Lightning calls `optimizer.zero_grad()` around every step it takes). A class that takes over the
    step (`automatic_optimization = False`, an override of `optimizer_zero_grad`, `optimizer_step` or
    `_inner_training_loop`) is no framework loop: the code, not the framework, decides."""
    out = []
    for src in sources:
        names = {n.id for n in src.nodes if isinstance(n, ast.Name)}
        attrs = {n.attr for n in src.nodes if isinstance(n, ast.Attribute)}
        defs = {n.name for n in src.nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        if (defs & {"optimizer_zero_grad", "optimizer_step", "_inner_training_loop"}
                or "automatic_optimization" in attrs | names):
            return []  # the step is the code's own: not the framework's loop
        for node in src.nodes:
            if isinstance(node, ast.ClassDef) and "training_step" in {
                    f.name for f in node.body if isinstance(f, ast.FunctionDef)} and any(
                    ast.unparse(b).endswith("LightningModule") for b in node.bases):
                out.append((src, node, "Lightning's automatic optimisation"))
        if "lightning" in src.text:
            continue  # Lightning's Trainer is started by .fit(): its loop is the LightningModule's, read above
        trainers = {t.id for n in src.nodes if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                    and _call_name(n.value).endswith("Trainer") for t in n.targets if isinstance(t, ast.Name)}
        call = next((c for c in src.nodes if isinstance(c, ast.Call) and _call_name(c) == "train"
                     and isinstance(_receiver(c), ast.Name) and _receiver(c).id in trainers), None)  # type: ignore[union-attr]
        if call is not None:
            out.append((src, call, "the HF Trainer's loop"))
    return out


def _one_loop(sources: list[_Source]) -> tuple[_Source, ast.AST, ast.Call, ast.Call, ast.AST] | None:
    """The code's one hand-written training loop (src, loop, backward, step, a clear that covers the step), when it
    has exactly one training loop, no framework loop, and that loop clears its gradients whenever it steps."""
    loops = [(src, lp, back, step) for src in sources for lp, back, step in _training_loops(src)]
    if len(loops) != 1 or _framework_loops(sources):
        return None
    src, loop, back, step = loops[0]
    stepped = {_optimizer_text(src, c) for c in _calls(loop.body) if code_sites._is_optimizer_step(c)}
    clears = [(n, opt) for n, opt in _clears(src, loop) if _covers(src, n, step, loop)]
    if not clears:
        return None
    named = {opt for _n, opt in clears}
    if len(stepped) > 1 and None not in named and not stepped <= named:
        return None  # two optimisers, one of them never cleared
    return src, loop, back, step, clears[0][0]


def code_clears_gradients(sources: list[_Source]) -> list[str] | None:
    """zero_grad_missing is ruled out when the code's one training loop clears the gradients whenever it steps."""
    owned = _framework_loops(sources)
    if owned:
        if len(owned) > 1 or any(True for src in sources for _ in _training_loops(src)):
            return None  # several loops: which one ran is not for the code to say
        src, node, who = owned[0]
        return [f"the code clears the gradients every step: {_where(src, node)} trains in {who}, which calls "
                f"zero_grad before every optimiser step"]
    one = _one_loop(sources)
    if one is None:
        return None  # no loop found, several, or one that does not clear every step
    src, _loop, _back, step, clear = one
    return [f"the code clears the gradients every step: {_where(src, clear)} in the training loop that steps "
            f"{_where(src, step)}"]


def _plain_block(src: _Source, stmt: ast.stmt, loop: ast.AST) -> bool:
    """Between `stmt` and `loop` sit only `with` / `try` blocks: no `if` that could gate it, no inner loop that
    could repeat it."""
    parent = src.parents.get(stmt)
    while parent is not None and parent is not loop:
        if not isinstance(parent, ast.With | ast.AsyncWith | ast.Try | ast.ExceptHandler):
            return False
        parent = src.parents.get(parent)
    return parent is loop


def code_does_not_accumulate(sources: list[_Source]) -> list[str] | None:
    """grad_accum_bug is ruled out when the code's one training loop does not accumulate at all: a hand-written loop
    (a framework's loop may accumulate on a setting: HF's gradient_accumulation_steps, Lightning's
    accumulate_grad_batches) whose `.backward()` and optimiser `.step()` run together on every micro-batch, neither
    under an `if` nor an inner loop, and whose gradients are cleared every step. Every accumulation fault (undivided
    losses, a stale clear, a partial cycle at the epoch's end, a per-micro-batch token mean) needs micro-batches
    whose gradients are summed before a step; this loop sums none (its clear covers every step: _one_loop). A loop
    that does accumulate, even one that divides its loss, says nothing: the division is one of several ways
    accumulation goes wrong."""
    one = _one_loop(sources)
    if one is None:
        return None
    src, loop, back, step, clear = one
    back_stmt, step_stmt = src.statement(back), src.statement(step)
    if not (_plain_block(src, back_stmt, loop) and _plain_block(src, step_stmt, loop)):
        return None  # the step under an `if`, or backward in an inner loop: micro-batches summed before a step
    return [f"the code does not accumulate gradients: the training loop steps {_where(src, step)} after every "
            f"{_where(src, back)} and clears them every step {_where(src, clear)}"]


READERS: dict[str, Callable[[list[_Source]], list[str] | None]] = {"code_clears_gradients": code_clears_gradients,
                                                                   "code_does_not_accumulate": code_does_not_accumulate}


def ruled_out(run: Run) -> dict[str, list[str]]:
    """cause -> the evidence that the run's code rules it out; empty when no code is given or none settles one."""
    from traindoc.causes import CAUSES

    def compute() -> dict[str, list[str]]:
        sources = _sources(run)
        if not sources:
            return {}
        out: dict[str, list[str]] = {}
        for cid, cause in CAUSES.items():
            for name in cause.ruled_out_by:
                try:
                    ev = READERS[name](sources)
                except (RecursionError, ValueError):  # a hostile file settles nothing
                    ev = None
                if ev:
                    out[cid] = ev
                    break
        return out
    return stats.cached(run, "ruled_out_by_code", compute)
