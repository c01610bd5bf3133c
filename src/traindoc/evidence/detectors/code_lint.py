"""Code evidence: the AST locators of evidence/code_sites.py, read as findings (NeuraLint / DeepFD style: evidence
from the code found with the run). There is one mechanism: a locator finds an anti-pattern and the place its fix
goes; the detectors here only weigh what it found and cite file:line. Code evidence alone is kept moderate: a
pattern can be intended (an encoder is legitimately non-causal); the metrics decide the rank."""

from __future__ import annotations

import ast
import os
import re

import numpy as np

from traindoc.evidence import code_sites, stats
from traindoc.evidence.context import BLOW_UP, cite_series, divergence, loss_series, progress
from traindoc.evidence.detectors import accumulation
from traindoc.evidence.detectors.not_learning import detect_label_prior_plateau, never_learned
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run

_MAX_BYTES = 2_000_000  # a training script is far below this; bigger .py files are generated or vendored
_MAX_FILES = 400


def _files(run: Run) -> list[str]:
    """The run's code files a lint may read: no test files (a fix belongs in the code under test), bounded size."""
    out = []
    for path in run.code_files[:_MAX_FILES]:
        base = os.path.basename(path)
        if base.startswith("test_") or "/tests/" in path.replace(os.sep, "/"):
            continue
        try:
            if os.path.getsize(path) <= _MAX_BYTES:
                out.append(path)
        except OSError:
            continue
    return out


def _sites(run: Run, cause: str) -> list[code_sites.CodeSite]:
    every = stats.cached(run, "code_sites", lambda: code_sites.locate(_files(run)))
    return [s for s in every if s.cause == cause]


def _text(run: Run) -> str:
    def load() -> str:
        parts = []
        for path in _files(run):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    parts.append(f.read())
            except OSError:
                continue
        return "\n".join(parts)
    return stats.cached(run, "code_text", load)


def _cite(site: code_sites.CodeSite) -> str:
    return f"`{site.snippet.strip().splitlines()[0][:100]}` [{os.path.basename(site.file)}:{site.line}]"


def _fix_site(site: code_sites.CodeSite) -> dict:
    """Where the fix goes, with a template id that exists (templates/fixes/) and the parameters it needs."""
    return {"file": site.file, "line": site.line, "template": site.template, "before": site.snippet, "after": None,
            "params": dict(site.params)}


def detect_code_noncausal_attention(run: Run) -> list[Finding]:
    """`scaled_dot_product_attention(..., is_causal=False)` in code that generates text. Only the explicit flag
    counts as evidence: a call with neither flag nor mask may be an encoder's (the locator still offers its fix)."""
    hits = [s for s in _sites(run, "label_leakage") if s.template == "causal_mask" and s.params.get("causal_text")]
    if not hits or not re.search(r"def generate|causal|next.token|lm_head", _text(run)):
        return []
    s = hits[0]
    return [Finding("detect_code_noncausal_attention", "label_leakage", 0.45,
                    "attention is not causal in a model trained to predict the next token",
                    [f"{_cite(s)}: every position attends to future tokens"], None, {}, [_fix_site(s)])]


def detect_code_inverted_grokfast(run: Run) -> list[Finding]:
    """Grokfast adds the slow EMA component (g + lambda*ema); `g.add_(g - ema, alpha=lambda)` adds the *fast*
    component instead (a high-pass filter: the inverted form of the original code, Lee et al. 2024)."""
    hits = _sites(run, "optimizer_misconfig")
    if not hits:
        return []
    s = hits[0]
    return [Finding("detect_code_inverted_grokfast", "optimizer_misconfig", 0.6,
                    "the Grokfast filter amplifies the fast gradient component instead of the slow one",
                    [f"{_cite(s)}: adds (grad - ema), a high-pass filter; Grokfast adds lambda*ema"], None, {},
                    [_fix_site(s)])]


def detect_code_dead_schedule_key(run: Run) -> list[Finding]:
    """The schedule writes an LR key into param groups that nothing reads (the optimiser reads group['lr'])."""
    hits = _sites(run, "scheduler_misuse")
    if not hits:
        return []
    s = hits[0]
    key = s.params.get("key", "?")
    return [Finding("detect_code_dead_schedule_key", "scheduler_misuse", 0.5,
                    f"the schedule writes group['{key}'], which the optimiser never reads",
                    [f"{_cite(s)}: '{key}' is written but never read"], None, {}, [_fix_site(s)])]


def detect_code_zero_grad_missing(run: Run) -> list[Finding]:
    """A training loop that calls .backward() and optimizer.step() with no zero_grad (or grad = None)."""
    hits = _sites(run, "zero_grad_missing")
    if not hits:
        return []
    s = hits[0]
    ev = [f"{_cite(s)}: the loop steps the optimiser after .backward() but never clears the gradients"]
    strength = 0.5
    # the symptom it predicts: a grad norm that keeps growing (linearly with plain SGD/Adam, geometrically when
    # a filter such as Grokfast feeds the accumulated buffer back). Code + symptom together are decisive.
    g = run.series("grad_norm")
    if g is not None:
        vals = g.values[np.isfinite(g.values)]
        if vals.size >= 10:
            k = max(2, vals.size // 10)
            early, late = float(np.median(vals[:k])), float(np.median(vals[-k:]))
            if early > 0 and late / early >= 10:
                ev.append(f"grad_norm grew {late / early:.3g}x over the run ({early:.3g} -> {late:.3g}): the "
                          f"gradients of every step are summed")
                strength = 0.8
    return [Finding("detect_code_zero_grad_missing", "zero_grad_missing", strength,
                    "the training loop never clears gradients", ev, None, {}, [_fix_site(s)])]


def detect_code_unguarded_log(run: Run) -> list[Finding]:
    """`torch.log(x)` / `x.log()` with no clamp/eps: log(0) = -inf, its gradient NaN (weak alone; NaN in the
    metrics makes it stronger). Unguarded sqrt sites get a fix from the locator but are not counted here: a
    negative argument is rarer than a zero one, and the NaN detectors weigh the metrics."""
    hits = [s for s in _sites(run, "nan_inf") if s.params.get("op", "").startswith("log")]
    if not hits:
        return []
    s = hits[0]
    nan_seen = any(not np.isfinite(x.values).all() for x in (run.series("loss"), run.series("grad_norm"))
                   if x is not None)
    return [Finding("detect_code_unguarded_log", "nan_inf", 0.35 if nan_seen else 0.15,
                    "an unguarded torch.log can produce -inf/NaN",
                    [f"{_cite(s)}: log without a clamp/eps guard"], None, {"sites": len(hits)}, [_fix_site(s)])]


# ------------------------------------------------------------------------------------------------- frozen_params

# A freeze in the code, the trace every framework leaves: `p.requires_grad = False` / `p.requires_grad_(False)`
# (PyTorch), `layer.trainable = False` (Keras), `p.stop_gradient = True` (Paddle), `optax.set_to_zero()` (the optax
# label that leaves a subtree unchanged), skorch's `Freezer`. Freezing is also a design: a head fine-tuned on a
# frozen backbone learns, and so it is read as a fault only beside a run that does not learn (the loss at chance, or
# under FLAT_PROGRESS progress), as an explicit `freeze_backbone` flag is (detect_frozen_params: 0.5, +0.1 for a
# loss that never left chance or fell < 15 %). Set back anywhere in the code (`requires_grad = True`,
# `trainable = True`, ...), it is a schedule (gradual unfreezing, a GAN toggling its discriminator): silent.
# Copies that are frozen by design and never meant to train are left out by their receiver's name: an EMA or
# teacher model, an RL target network, an RLHF reference model. A freeze behind a switch (`if cfg.freeze_backbone:`,
# an `if` whose test reads no variable of a loop around it) may not have run: the configured flag says whether it
# did, and detect_frozen_params reads that; an `if` inside the loop that picks what to freeze (`if layer.name !=
# 'head'`) is no switch.
_FREEZE_VALUE = {"requires_grad": False, "trainable": False, "stop_gradient": True}
_BY_DESIGN = re.compile(r"ema|teacher|target|\bref|reference|frozen|old_|averaged|momentum|swa", re.IGNORECASE)
_FREEZE_WORDS = re.compile(r"requires_grad|trainable|stop_gradient|set_to_zero|Freezer")
FLAT_PROGRESS = 0.15
CODE_FREEZE_NOT_LEARNING = 0.6
CODE_FREEZE_LEARNS = 0.25


def _freeze_statements(tree: ast.Module, src: str) -> tuple[list[ast.AST], bool]:
    """(freeze statements, whether anything is set back to trainable) in one parsed file."""
    freezes: list[ast.AST] = []
    unfreezes = False
    loops = {}  # loop variable -> the loop's iterable, as text (what a `p.requires_grad = False` freezes)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name | ast.Tuple):
            for n in _loop_names(node):
                loops[n] = ast.get_source_segment(src, node.iter) or ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            t = node.targets[0]
            if t.attr in _FREEZE_VALUE and isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
                if node.value.value != _FREEZE_VALUE[t.attr]:
                    unfreezes = True
                elif not _BY_DESIGN.search(_owner(t.value, loops, src)) and not _switched(node, parents):
                    freezes.append(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name == "requires_grad_":
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and arg.value is False:
                    if not _BY_DESIGN.search(_owner(node.func.value, loops, src)) and not _switched(node, parents):
                        freezes.append(node)
                else:
                    unfreezes = True
            elif (name == "set_to_zero" and ast.get_source_segment(src, node.func.value) == "optax"
                  and not _switched(node, parents)):
                freezes.append(node)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Freezer"
              and not _switched(node, parents)):
            freezes.append(node)
    return freezes, unfreezes


def _loop_names(loop: ast.For) -> list[str]:
    return [n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)]


def _switched(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether `node` runs only behind an `if` that reads no variable of a loop around that `if` (a switch)."""
    chain = []
    while node in parents:
        node = parents[node]
        chain.append(node)
    for i, anc in enumerate(chain):
        if isinstance(anc, ast.If):
            outer = {n for a in chain[i + 1:] if isinstance(a, ast.For) for n in _loop_names(a)}
            if not {n.id for n in ast.walk(anc.test) if isinstance(n, ast.Name)} & outer:
                return True
    return False


def _owner(expr: ast.expr, loops: dict[str, str], src: str) -> str:
    """What a frozen attribute belongs to, as text: the loop's iterable for a loop variable (`model.parameters()`),
    else the expression itself (`ema_model.encoder`)."""
    text = ast.get_source_segment(src, expr) or ""
    return loops.get(text, text)


def code_freezes(run: Run) -> list[tuple[str, int, str]]:
    """(file, line, statement) of every freeze in the run's code (module notes above); none when the code also sets
    parameters back to trainable. Memoised: not_learning reads it too, as a freeze flag's trace."""
    return stats.cached(run, "code_freezes", lambda: _code_freezes(run))


def _code_freezes(run: Run) -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for path in _files(run):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        if not _FREEZE_WORDS.search(text):
            continue  # parse only the files that could hold a freeze (a project's code can be large)
        src = code_sites.parsed_source(path, text)  # shared with the code-site locators: parsed once
        if src is None:
            continue
        freezes, unfreezes = _freeze_statements(src.tree, text)
        if unfreezes:
            return []
        lines = text.splitlines()
        found += [(path, n.lineno, lines[n.lineno - 1].strip()[:100]) for n in freezes]
    return found


def detect_code_freeze(run: Run) -> list[Finding]:
    """A freeze statement in the run's code beside a run that does not learn (0.6), or that the loss learns past
    (0.25, a design); silent when the code also sets parameters back to trainable (module notes above)."""
    found = code_freezes(run)
    if not found:
        return []
    path, line, snippet = found[0]
    ev = [f"`{snippet}` [{os.path.basename(path)}:{line}]" + (f" and {len(found) - 1} more freeze statement(s)"
                                                              if len(found) > 1 else "")
          + ": parameters are frozen here and nothing sets them trainable again"]
    nl = never_learned(run)
    prog = progress(run, "loss")
    if nl is not None:
        ev += nl.evidence
        strength = CODE_FREEZE_NOT_LEARNING
    elif prog is not None and prog < FLAT_PROGRESS:
        ev.append(f"the loss decreased only {max(prog, 0):.1%} over the run: what the freeze leaves trainable does "
                  "not learn")
        strength = CODE_FREEZE_NOT_LEARNING
    elif prog is not None:
        ev.append(f"the loss decreased {prog:.1%}: a head fine-tuned on a frozen backbone is a design, and it learns")
        strength = CODE_FREEZE_LEARNS
    else:
        strength = CODE_FREEZE_LEARNS  # no loss to tell a failed freeze from a designed one
    return [Finding("detect_code_freeze", "frozen_params", strength,
                    "the code freezes parameters", ev, None, {"freeze_statements": len(found), "loss_progress": prog})]


# ------------------------------------------------------------------------------------------- gradient accumulation
# The two ways a hand-written accumulation loop goes wrong (docs/causes.md, grad_accum_bug; plan/fix_accum.py fixes
# the first), read from the loop's shape, never by running it:
#   undivided: `optimizer.step()` only under `if (i + 1) % N == 0:` while every micro-batch's mean loss is
#     back-propagated as it is: the step applies the sum of N mean gradients, N times the accumulated batch's mean
#     gradient (with SGD exactly an LR N times the configured one). The HF, Lightning and Accelerate docs all divide
#     the loss by N once; a loop that divides nothing (no `/` or `*` on the loss in the loop) has not.
#   stale: `optimizer.step()` on every micro-batch while `zero_grad()` runs only under `if ... % N == 0:`: each step
#     re-applies every gradient since the last clear, 1..N of them (the grad-norm sawtooth of
#     detect_accumulation_sawtooth / detect_grad_norm_phase_locked).
# Either is a defect in the code alone, but code can be meant (an LR tuned for the summed gradient), so the code
# alone lists the cause (CODE_ACCUM); the log's own picture of the same mechanism confirms it (CODE_ACCUM_SEEN):
# a blow-up for the undivided loss (the LR-too-high picture the log alone cannot tell from it), a sawtooth or a
# phase-locked grad norm for the stale one.
CODE_ACCUM = 0.45
CODE_ACCUM_SEEN = 0.7
# loss.backward(), accelerator.backward(loss), self.manual_backward(loss)
_BACKWARD_FNS = {"backward", "manual_backward"}


def _mod_gate(test: ast.expr) -> ast.expr | None:
    """N in an `if ... % N == 0:` test (N a name, an attribute or an int above 1)."""
    for n in ast.walk(test):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod):
            r = n.right
            if isinstance(r, ast.Name | ast.Attribute) or (isinstance(r, ast.Constant) and type(r.value) is int
                                                            and r.value > 1):
                return r
    return None


def _own_nodes(nodes: list[ast.stmt]) -> list[ast.AST]:
    """Every node under `nodes`, without nested function or class bodies (another scope's code)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(nodes)
    while stack:
        n = stack.pop()
        out.append(n)
        if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(n))
    return out


def _attr_calls(nodes: list[ast.AST], names: set[str]) -> list[ast.Call]:
    return [n for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in names]


def _loss_of(call: ast.Call) -> ast.expr | None:
    """The back-propagated expression: `loss` in loss.backward(), scaler.scale(loss).backward(),
    accelerator.backward(loss), self.manual_backward(loss)."""
    if call.args:
        return call.args[0]
    recv = call.func.value  # type: ignore[attr-defined]
    if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Attribute) and recv.func.attr == "scale" and recv.args:
        return recv.args[0]
    return recv


def _scaled(scope: list[ast.AST], loss: ast.expr) -> bool:
    """The loss is divided or multiplied somewhere in the scope (in the backward call itself, or an assignment or
    augmented assignment to its name): any scaling counts, the rule only reads loops that scale nothing."""
    if any(isinstance(b, ast.BinOp) and isinstance(b.op, ast.Div | ast.Mult) for b in ast.walk(loss)):
        return True
    name = loss.id if isinstance(loss, ast.Name) else None
    if name is None:
        return not isinstance(loss, ast.Attribute | ast.Subscript | ast.Call)
    for s in scope:
        if isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name) and s.target.id == name \
                and isinstance(s.op, ast.Div | ast.Mult):
            return True
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in s.targets) \
                and any(isinstance(b, ast.BinOp) and isinstance(b.op, ast.Div | ast.Mult) for b in ast.walk(s.value)):
            return True
    return False


def _gated(node: ast.AST, gates: list[ast.If], parents: dict[ast.AST, ast.AST]) -> ast.If | None:
    """The `if ... % N == 0:` among `gates` whose body holds `node`, or None."""
    p = parents.get(node)
    while p is not None:
        if isinstance(p, ast.If) and p in gates:
            return p
        p = parents.get(p)
    return None


def accumulation_defects(sources: list[code_sites._Source]) -> list[tuple[str, str, int, str, str]]:
    """(kind, file, line, snippet, N) for each accumulation loop of the undivided or stale kind (see above)."""
    found = []
    for src in sources:
        scopes = [n for n in ast.walk(src.tree) if isinstance(n, ast.For | ast.While | ast.AsyncFor)]
        # Lightning's manual optimisation: the framework's loop calls the method once per micro-batch
        scopes += [n for n in ast.walk(src.tree) if isinstance(n, ast.FunctionDef)
                   and _attr_calls(_own_nodes(n.body), {"manual_backward"})]
        for scope in scopes:
            nodes = _own_nodes(scope.body)
            backs = _attr_calls(nodes, _BACKWARD_FNS)
            steps = [c for c in _attr_calls(nodes, {"step"}) if code_sites._is_optimizer_step(c)]
            if not backs or not steps:
                continue
            gates = [n for n in nodes if isinstance(n, ast.If) and _mod_gate(n.test) is not None]
            if not gates:
                continue
            if any(isinstance(n, ast.For | ast.While) and n is not scope and _attr_calls(_own_nodes(n.body), {"step"})
                   for n in nodes):
                continue  # an outer loop: the inner one is read on its own
            back, step = backs[0], steps[0]
            step_gate, back_gate = _gated(step, gates, src.parents), _gated(back, gates, src.parents)
            loss = _loss_of(back)
            if step_gate is not None and back_gate is None and loss is not None and not _scaled(nodes, loss):
                n = ast.unparse(_mod_gate(step_gate.test))  # type: ignore[arg-type]
                found.append(("undivided", src.path, back.lineno, src.lines[back.lineno - 1].strip(), n))
                continue
            clears = _attr_calls(nodes, {"zero_grad", "clear_grad"})
            clear_gates = [_gated(c, gates, src.parents) for c in clears]
            if step_gate is None and back_gate is None and clears and all(g is not None for g in clear_gates):
                n = ast.unparse(_mod_gate(clear_gates[0].test))  # type: ignore[arg-type, union-attr]
                found.append(("stale", src.path, step.lineno, src.lines[step.lineno - 1].strip(), n))
    return found


def _code_accumulation(run: Run) -> list[tuple[str, str, int, str, str]]:
    def load() -> list[tuple[str, str, int, str, str]]:
        sources = []
        for path in _files(run):
            if not path.endswith(".py"):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    src = code_sites.parsed_source(path, f.read())
            except OSError:
                continue
            if src is not None:
                sources.append(src)
        return accumulation_defects(sources)
    return stats.cached(run, "code_accumulation", load)


def detect_code_accumulation_defect(run: Run) -> list[Finding]:
    """An accumulation loop that steps on the sum of N undivided micro-batch losses, or steps on every micro-batch
    while clearing only every N (see CODE_ACCUM above): listed from the code alone (0.45), confirmed (0.7) when the
    log shows what that loop does (a blow-up; a sawtooth or phase-locked grad norm)."""
    found = _code_accumulation(run)
    if not found:
        return []
    kind, path, line, snippet, n = found[0]
    where = f"`{snippet[:100]}` [{os.path.basename(path)}:{line}]"
    if kind == "undivided":
        ev = [f"{where}: the loss is back-propagated on every micro-batch and never divided by {n}, while the "
              f"optimiser steps only every {n} (`% {n} == 0`): each update is the sum of {n} mean gradients, "
              f"{n} times the accumulated batch's mean (an LR {n} times the configured one in effect)"]
        seen = _blew_up(run)
    else:
        ev = [f"{where}: the optimiser steps on every micro-batch but the gradients are cleared only every {n} "
              f"(`% {n} == 0`): each step re-applies every gradient since the last clear"]
        seen = _stale_seen(run)
    strength = CODE_ACCUM
    if seen:
        ev.append(seen)
        strength = CODE_ACCUM_SEEN
    else:
        ev.append("the log does not show the loop's effect yet: listed from the code alone (an LR tuned for the "
                  "summed gradient would be intended)")
    return [Finding("detect_code_accumulation_defect", "grad_accum_bug", strength,
                    "the accumulation loop scales the update wrongly", ev, None,
                    {"kind": kind, "accumulation": n, "line": line})]


def _blew_up(run: Run) -> str | None:
    loss = loss_series(run)
    if loss is None:
        return None
    d = divergence(run, loss.name)
    if d is None or (d.nonfinite_step is None and d.rise < BLOW_UP - 1):
        return None
    how = (f"goes non-finite at step {d.nonfinite_step}" if d.nonfinite_step is not None else
           f"climbs {d.rise + 1:.3g}x")
    return (f"and the loss fell to {d.min_value:.4g} by step {d.min_step} and then {how}: the oversized step the "
            f"code predicts {cite_series(loss)}")


def _stale_seen(run: Run) -> str | None:
    for f in (*accumulation.detect_accumulation_sawtooth(run), *accumulation.detect_grad_norm_phase_locked(run)):
        return f"and {f.evidence[0]}: the re-applied gradients the code predicts"
    return None


# ------------------------------------------------------------------------------------- inputs and labels apart
# Two arrays reindexed by two different permutation draws (`x = x[torch.randperm(n)]` then `y = y[torch.randperm(n)]`,
# `tx, ty = tx[rng.permutation(n)], ty[rng.permutation(n)]`): each draw is a fresh random order, so after it example i
# of the inputs carries the label of another example. The paired form draws once and indexes both (`p =
# randperm(n); x, y = x[p], y[p]`): that is silent. plan/fix_data.py rewrites it to the paired form. Deliberate
# label shuffles exist (a permutation test's null model), so the code alone is a candidate (CODE_SHUFFLE_ALONE, below
# 0.5, as every code reading here that can be intended), and evidence (CODE_SHUFFLE_NOT_LEARNING) beside a run
# whose curves show labels detached from inputs: a loss that never left chance, or learned only the label prior.
PERM_CALLS = ("randperm", "permutation")  # torch.randperm(n), np.random.permutation(n) / rng.permutation(n)
CODE_SHUFFLE_ALONE = 0.45
CODE_SHUFFLE_NOT_LEARNING = 0.65


def _perm_subscripts(node: ast.AST) -> list[tuple[str, str]]:
    """(indexed array, draw expression) for each `A[<permutation draw>]` or `A[name]` inside `node`."""
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript):
            idx = sub.slice
            if isinstance(idx, ast.Call) and (getattr(idx.func, "attr", None) or getattr(idx.func, "id", None)) \
                    in PERM_CALLS:
                out.append((ast.unparse(sub.value), "call@" + str(id(idx))))  # every call is its own draw
            elif isinstance(idx, ast.Name):
                out.append((ast.unparse(sub.value), idx.id))
    return out


def _is_draw(value: ast.AST) -> bool:
    return isinstance(value, ast.Call) and (getattr(value.func, "attr", None) or getattr(value.func, "id", None)) \
        in PERM_CALLS


def separate_permutations(run: Run) -> list[tuple[str, int, str]]:
    """(file, line, text) of each block where two different arrays are reindexed by two different permutation
    draws (module notes above). Parsed with code_sites.parsed_source; the code is read, never run."""
    def find() -> list[tuple[str, int, str]]:
        found: list[tuple[str, int, str]] = []
        for path in _files(run):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if "perm" not in text:
                continue  # parse only the files that could hold a draw
            src = code_sites.parsed_source(path, text)
            if src is None:
                continue
            lines = text.splitlines()
            for node in ast.walk(src.tree):
                for block in (getattr(node, f, None) for f in ("body", "orelse")):
                    if not isinstance(block, list):
                        continue
                    draws = {st.targets[0].id for st in block if isinstance(st, ast.Assign) and len(st.targets) == 1
                             and isinstance(st.targets[0], ast.Name) and _is_draw(st.value)}
                    seen: list[tuple[str, str, ast.stmt]] = []
                    for st in block:
                        if not isinstance(st, ast.Assign | ast.Expr | ast.Return):
                            continue
                        for arr, draw in _perm_subscripts(st):
                            if draw.startswith("call@") or draw in draws:
                                seen.append((arr, draw, st))
                    # a draw that indexes one array only, beside another such draw indexing a different array: the
                    # two arrays were put in two unrelated orders (a draw indexing both keeps them paired)
                    by_draw: dict[str, set[str]] = {}
                    for arr, draw, _st in seen:
                        by_draw.setdefault(draw, set()).add(arr)
                    singles = [(arr, draw, st) for arr, draw, st in seen if len(by_draw[draw]) == 1]
                    hit = next(((a, b) for a in singles for b in singles if a[0] != b[0] and a[1] != b[1]), None)
                    if hit is not None:
                        first, second = sorted((hit[0][2], hit[1][2]), key=lambda n: n.lineno)
                        end = second.end_lineno or second.lineno
                        found.append((path, first.lineno, " / ".join(ln.strip() for ln in
                                                                       lines[first.lineno - 1:end])[:160]))
        return found
    return stats.cached(run, "separate_permutations", find)


def detect_code_separate_permutations(run: Run) -> list[Finding]:
    """Inputs and labels reindexed by two different permutation draws: the labels no longer belong to their inputs
    (module notes above)."""
    found = separate_permutations(run)
    if not found:
        return []
    path, line, snippet = found[0]
    ev = [f"`{snippet}` [{os.path.basename(path)}:{line}]: two arrays reindexed by two separate random permutations, "
          "so example i of the one is paired with another example of the other (one draw indexing both keeps "
          "them paired)"]
    nl = never_learned(run)
    prior = detect_label_prior_plateau(run) if nl is None else []
    if nl is not None:
        ev += nl.evidence
        strength = CODE_SHUFFLE_NOT_LEARNING
    elif prior:
        ev += prior[0].evidence[:2]
        strength = CODE_SHUFFLE_NOT_LEARNING
    else:
        ev.append("a deliberate label shuffle (a permutation test) is written the same way: the curves do not show "
                  "labels detached from their inputs here")
        strength = CODE_SHUFFLE_ALONE
    return [Finding("detect_code_separate_permutations", "data_pipeline_bug", strength,
                    "inputs and labels are shuffled by separate permutations", ev, None,
                    {"sites": len(found)})]


DETECTORS = [detect_code_noncausal_attention, detect_code_inverted_grokfast, detect_code_dead_schedule_key,
             detect_code_zero_grad_missing, detect_code_unguarded_log, detect_code_freeze,
             detect_code_accumulation_defect, detect_code_separate_permutations]
