"""Code evidence: the AST locators of evidence/code_sites.py, read as findings (NeuraLint / DeepFD style: evidence
from the code found with the run). There is one mechanism: a locator finds an anti-pattern and the place its fix
goes; the detectors here only weigh what it found and cite file:line. Code evidence alone is kept moderate: a
pattern can be intended (an encoder is legitimately non-causal); the metrics decide the rank."""

from __future__ import annotations

import ast
import math
import re

import numpy as np

from traindoc.evidence import code_files, code_sites, heldout, stats
from traindoc.evidence.context import BLOW_UP, cite_series, divergence, loss_series, progress
from traindoc.evidence.detectors import accumulation
from traindoc.evidence.detectors.not_learning import detect_label_prior_plateau, never_learned
from traindoc.evidence.finding import Finding
from traindoc.evidence.grad_total import total_grad_norm
from traindoc.ingest.model import Run


def _sites(run: Run, cause: str) -> list[code_sites.CodeSite]:
    every = stats.cached(run, "code_sites", lambda: code_sites.locate_in_texts(code_files.file_texts(run)))
    return [s for s in every if s.cause == cause]


def _text(run: Run) -> str:
    return stats.cached(run, "code_text", lambda: "\n".join(code_files.file_texts(run).values()))


def _scope_bodies(tree: ast.Module) -> list[list[ast.stmt]]:
    """The module's body and every function's: each a scope a rule reads on its own."""
    return [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _cite(site: code_sites.CodeSite) -> str:
    return f"`{site.snippet.strip().splitlines()[0][:100]}` [{code_files.where(site.file, site.line)}]"


def _fix_site(site: code_sites.CodeSite) -> list[dict]:
    """Where the fix goes, with a template id that exists (templates/fixes/) and the parameters it needs; none in a
    notebook's code (its lines are the joined cells, not the file's: a plan edits text files)."""
    if code_files.is_notebook(site.file):
        return []
    return [{"file": site.file, "line": site.line, "template": site.template, "before": site.snippet, "after": None,
             "params": dict(site.params)}]


def detect_code_noncausal_attention(run: Run) -> list[Finding]:
    """`scaled_dot_product_attention(..., is_causal=False)` in code that generates text. Only the explicit flag
    counts as evidence: a call with neither flag nor mask may be an encoder's (the locator still offers its fix)."""
    hits = [s for s in _sites(run, "label_leakage") if s.template == "causal_mask" and s.params.get("causal_text")]
    if not hits or not re.search(r"def generate|causal|next.token|lm_head", _text(run)):
        return []
    s = hits[0]
    return [Finding("detect_code_noncausal_attention", "label_leakage", 0.45,
                    "attention is not causal in a model trained to predict the next token",
                    [f"{_cite(s)}: every position attends to future tokens"], None, {}, _fix_site(s))]


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
                    _fix_site(s))]


def detect_code_dead_schedule_key(run: Run) -> list[Finding]:
    """The schedule writes an LR key into param groups that nothing reads (the optimiser reads group['lr'])."""
    hits = _sites(run, "scheduler_misuse")
    if not hits:
        return []
    s = hits[0]
    key = s.params.get("key", "?")
    return [Finding("detect_code_dead_schedule_key", "scheduler_misuse", 0.5,
                    f"the schedule writes group['{key}'], which the optimiser never reads",
                    [f"{_cite(s)}: '{key}' is written but never read"], None, {}, _fix_site(s))]


# Code + the harm it predicts, where no grad norm is logged: a loop that never clears its gradients steps along
# the sum of every gradient so far, so its updates keep growing and, once past the minimum, make the run worse.
# A loss that ends >= DEGRADED x its minimum (the same 1.5x accumulation.detect_grad_norm_running_sum reads as
# "ever larger steps make the run worse"), or turns non-finite, is that harm; with the code site showing the missing
# zero_grad, it is what an engineer reads as confirmed. A loss that merely stalls is not: 0.5 stays.
CODE_ZERO_GRAD_WITH_LOSS = 0.7
DEGRADED = 1.5
MIN_LOSS_POINTS = 5
# The same harm seen on held-out data: the held-out loss turns up >= HELDOUT_TURN above its best (detect_overfitting's
# 10 % turn, past eval-to-eval noise) at the last evaluation, with >= MIN_HELDOUT_POINTS evaluations (that rule's 4).
# A loop whose code sums the pass's gradients into every step explains that turn (overfitting's explained_by reads
# the same): the code site plus the run made worse by it, on either set, is the confirmation. A held-out loss that
# keeps improving, or stalls, is no harm: 0.5 stays.
HELDOUT_TURN = 1.1
MIN_HELDOUT_POINTS = 4
# The harm at its extreme: a loss that sits at its chance level ln(k) from the first logged point to the last
# (not_learning.never_learned, the reading that makes the verdict "does not learn"). Steps along a sum of gradients
# that grows with every batch overshoot as an LR too large does, and a step too large that saturates the network in
# its first updates leaves the loss at chance (the flat row of the differential lists the LR first for that reason,
# docs/diagnose.md, "The differential"); here the code shows where the oversized steps come from, and the run shows
# that nothing was learned. A loss that falls from chance and then stalls is still no harm (it learned): 0.5 stays.


def _loss_degrades(run: Run) -> str | None:
    """Evidence that the training loss ends >= DEGRADED x its minimum, or goes non-finite after one; else None."""
    loss = loss_series(run)
    if loss is None or len(loss) < MIN_LOSS_POINTS:
        return None
    st, v = loss.steps, loss.values
    ok = np.isfinite(v)
    if int(ok.sum()) < MIN_LOSS_POINTS:
        return None
    fin_st, fin_v = st[ok], v[ok]
    i = int(np.argmin(fin_v))
    low = float(fin_v[i])
    bad = np.flatnonzero(~ok & (st > fin_st[i]))
    if bad.size:
        return (f"the loss reached {low:.4g} at step {int(fin_st[i])} and went non-finite at step {int(st[bad[0]])}: "
                f"ever larger steps along the summed gradients {cite_series(loss)}")
    end = float(np.median(fin_v[-3:]))
    if low > 0 and end >= DEGRADED * low and i < fin_v.size - 3:
        return (f"the loss ends at {end:.4g}, {end / low:.1f}x its minimum {low:.4g} (step {int(fin_st[i])}): ever "
                f"larger steps along the summed gradients make the run worse {cite_series(loss)}")
    return None


def _heldout_degrades(run: Run) -> str | None:
    """Evidence that the held-out loss ends >= HELDOUT_TURN x its best, reached before the last evaluation; else
    None."""
    ev_s = run.series("eval_loss")
    if ev_s is None:
        return None
    st, v = ev_s.finite()
    if v.size < MIN_HELDOUT_POINTS:
        return None
    i = int(np.argmin(v))
    low, end = float(v[i]), float(v[-1])
    if low <= 0 or i >= v.size - 1 or end < HELDOUT_TURN * low:
        return None
    return (f"the held-out loss reached {low:.4g} at step {int(st[i])} and ends at {end:.4g} ({end / low:.2f}x): "
            f"ever larger steps along the summed gradients make the model worse on held-out data {cite_series(ev_s)}")


def _never_learns(run: Run) -> str | None:
    """Evidence that the loss sat at its chance level from start to end (never_learned); else None."""
    got = never_learned(run)
    if got is None:
        return None
    loss = loss_series(run)
    return (f"the loss sits at its chance level ln({got.k}) = {math.log(got.k):.3g} from step {got.first_step} to "
            f"{got.last_step} (late median {got.level:.4g}): the run never learned; steps along the summed gradients "
            f"overshoot as an LR too high does and leave the network saturated at chance"
            + (f" {cite_series(loss)}" if loss is not None else ""))


def detect_code_zero_grad_missing(run: Run) -> list[Finding]:
    """A training loop that calls .backward() and optimizer.step() with no zero_grad (or grad = None)."""
    hits = _sites(run, "zero_grad_missing")
    if not hits:
        return []
    s = hits[0]
    ev = [f"{_cite(s)}: the loop steps the optimiser after .backward() but never clears the gradients"
          + (" inside it (only once before it, so each step re-applies every gradient of the pass so far)"
             if s.params.get("cleared_before_loop") else "")]
    strength = 0.5
    # the symptom it predicts: a grad norm that keeps growing (linearly with plain SGD/Adam, geometrically when
    # a filter such as Grokfast feeds the accumulated buffer back). Code + symptom together are decisive. The logged
    # total, or the L2 total of per-parameter norms (Lightning's grad_2.0_norm/<param>): the same buffer summed.
    g = total_grad_norm(run)
    if g is not None:
        vals = g.values[np.isfinite(g.values)]
        if vals.size >= 10:
            k = max(2, vals.size // 10)
            early, late = float(np.median(vals[:k])), float(np.median(vals[-k:]))
            if early > 0 and late / early >= 10:
                ev.append(f"grad_norm grew {late / early:.3g}x over the run ({early:.3g} -> {late:.3g}): the "
                          f"gradients of every step are summed")
                strength = 0.8
    if strength < CODE_ZERO_GRAD_WITH_LOSS:
        harm = _loss_degrades(run) or _heldout_degrades(run) or _never_learns(run)
        if harm is not None:
            ev.append(harm)
            strength = CODE_ZERO_GRAD_WITH_LOSS
    return [Finding("detect_code_zero_grad_missing", "zero_grad_missing", strength,
                    "the training loop never clears gradients", ev, None, {}, _fix_site(s))]


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
                    [f"{_cite(s)}: log without a clamp/eps guard"], None, {"sites": len(hits)}, _fix_site(s))]


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
    for path, text in code_files.file_texts(run).items():
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
    ev = [f"`{snippet}` [{code_files.where(path, line)}]" + (f" and {len(found) - 1} more freeze statement(s)"
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
        scopes = [n for n in src.nodes if isinstance(n, ast.For | ast.While | ast.AsyncFor)]
        # Lightning's manual optimisation: the framework's loop calls the method once per micro-batch
        scopes += [n for n in src.nodes if isinstance(n, ast.FunctionDef)
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
        for path, text in code_files.file_texts(run).items():
            src = code_sites.parsed_source(path, text)
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
    where = f"`{snippet[:100]}` [{code_files.where(path, line)}]"
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


# The label column among the inputs: `y = df["label"]` beside `X = df` (or `df.values`, `df.to_numpy()`, or
# `df.drop(columns=[...])` whose literal list leaves "label" in) in the same scope, with nothing removing the column
# from `df` there (`df.pop("label")`, `del df["label"]`, an in-place drop naming it). The model is then handed its
# target as a feature: it reaches a near-perfect fit at once and the held-out numbers say nothing (a leak an engineer
# names on sight; Kaufman et al. 2012, "Leakage in data mining", the target among the predictors). Only literal
# column names are read: a drop list held in a variable cannot be judged from the source, so it stays silent.
# Listed on the code alone (0.45, as detect_code_noncausal_attention: the file found with the run may not be the one
# that ran); 0.6 beside the symptom the leak produces: a training loss that collapsed below 2 % of its start
# (detect_label_leakage's collapse floor) or a held-out task metric ending at >= 99 % of its scale; 0.3 when a logged
# training loss did not collapse: a model given its target as a feature fits it at once, so a curve that does not
# is evidence against the code found being the code that ran.
LABEL_IN_FEATURES = 0.45
LABEL_IN_FEATURES_SEEN = 0.6
LABEL_IN_FEATURES_UNSEEN = 0.3
_TARGET_NAME = re.compile(r"^(?:y|Y|targets?|labels?)(?:_\w+)?$")
_FEATURE_NAME = re.compile(r"^(?:X|x|features?|inputs?)(?:_\w+)?$")
_WHOLE_FRAME = ("values", "to_numpy", "copy", "astype", "fillna")


def _frame_column(node: ast.expr) -> tuple[str, str] | None:
    """(frame, column) of `df["col"]`, optionally followed by `.values` / `.to_numpy()` / `.astype(...)`."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        elif isinstance(node, ast.Attribute) and node.attr in _WHOLE_FRAME:
            node = node.value
        else:
            break
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)):
        return node.value.id, node.slice.value
    return None


def _literal_strings(node: ast.expr) -> set[str] | None:
    """The strings of a literal str or list/tuple of strs; None for anything else (a variable: unknowable)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                                       for e in node.elts):
        return {e.value for e in node.elts}  # type: ignore[attr-defined]
    return None


def _features_keep(node: ast.expr, frame: str, col: str) -> bool:
    """True when `node` is the whole frame, or the frame minus a literal drop list that leaves `col` in."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _WHOLE_FRAME:
        node = node.func.value
    while isinstance(node, ast.Attribute) and node.attr in _WHOLE_FRAME:
        node = node.value
    if isinstance(node, ast.Name):
        return node.id == frame
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "drop":
        base = node.func.value
        if not (isinstance(base, ast.Name) and base.id == frame):
            return False
        dropped = [_literal_strings(k.value) for k in node.keywords if k.arg in ("columns", "labels")]
        dropped += [_literal_strings(a) for a in node.args[:1]]
        if not dropped or any(d is None for d in dropped):
            return False
        return col not in set().union(*[d for d in dropped if d is not None])
    return False


def _removes_column(stmt: ast.AST, frame: str, col: str) -> bool:
    """`frame.pop(col)`, `del frame[col]` or a `frame.drop(...)` naming `col` anywhere in the statement."""
    for n in ast.walk(stmt):
        if isinstance(n, ast.Delete):
            if any(_frame_column(t) == (frame, col) for t in n.targets):
                return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("pop", "drop"):
            base = n.func.value
            if isinstance(base, ast.Name) and base.id == frame:
                named = [_literal_strings(a) for a in n.args[:1]]
                named += [_literal_strings(k.value) for k in n.keywords if k.arg in ("columns", "labels")]
                if any(x is None or col in x for x in named):
                    return True
    return False


def _label_in_features(body: list[ast.stmt]) -> tuple[int, int, str, str] | None:
    """(target line, features line, frame, column) for a scope whose statements take the target column out as `y` and
    hand the same frame, column included, over as `X`; None otherwise."""
    targets: dict[str, tuple[int, str]] = {}  # frame -> (line, column) of `y = frame["col"]`
    feats: list[tuple[ast.expr, int]] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            names = stmt.targets[0].elts if isinstance(stmt.targets[0], ast.Tuple) else [stmt.targets[0]]
            values = stmt.value.elts if isinstance(stmt.value, ast.Tuple) and len(stmt.value.elts) == len(names) \
                else [stmt.value] if len(names) == 1 else []
            for t, v in zip(names, values, strict=False):  # a mismatched unpacking gives no values
                if not isinstance(t, ast.Name):
                    continue
                fc = _frame_column(v) if _TARGET_NAME.match(t.id) else None
                if fc is not None:
                    targets[fc[0]] = (stmt.lineno, fc[1])
                elif _FEATURE_NAME.match(t.id):
                    feats.append((v, stmt.lineno))
    for frame, (tline, col) in targets.items():
        if any(_removes_column(s, frame, col) for s in body):
            continue
        for v, fline in feats:
            if _features_keep(v, frame, col):
                return tline, fline, frame, col
    return None


def code_label_in_features(run: Run) -> tuple[str, int, int, str, str] | None:
    """(file, target line, features line, frame, column) of the first label-among-the-inputs in the run's code."""
    for path, text in code_files.file_texts(run).items():
        if not re.search(r"\b(?:y|Y|targets?|labels?)\w*\s*=\s*\w+\[", text):
            continue  # parse only the files that take a column out as the target
        src = code_sites.parsed_source(path, text)
        if src is None:
            continue
        for body in _scope_bodies(src.tree):
            hit = _label_in_features(body)
            if hit is not None:
                return (path, *hit)
    return None


def detect_code_label_in_features(run: Run) -> list[Finding]:
    """The target column is also among the features (LABEL_IN_FEATURES above)."""
    hit = stats.cached(run, "code_label_in_features", lambda: code_label_in_features(run))
    if hit is None:
        return []
    path, tline, fline, frame, col = hit
    ev = [f"the target is taken from `{frame}[{col!r}]` [{code_files.where(path, tline)}] while the features are "
          f"`{frame}` with that column still in it [{code_files.where(path, fline)}]: the model is given its label as "
          "an input"]
    strength = LABEL_IN_FEATURES
    loss = loss_series(run)
    if loss is not None:
        _, v = loss.finite()
        if v.size >= 3 and float(v[0]) > 0 and float(np.median(v[-max(1, v.size // 10):])) < 0.02 * float(v[0]):
            ev.append(f"and the training loss collapsed from {stats.fmt(float(v[0]))} to "
                      f"{stats.fmt(float(v[-1]))}: the fit a feature equal to the target gives")
            strength = LABEL_IN_FEATURES_SEEN
    if strength < LABEL_IN_FEATURES_SEEN:
        for m in heldout.task_metrics(run):
            if m.top is not None and m.value(float(m.error[-1])) >= 0.99 * m.top:
                ev.append(f"and {m.name} ends at {stats.fmt(m.value(float(m.error[-1])))}: the near-perfect score "
                          "a feature equal to the target gives")
                strength = LABEL_IN_FEATURES_SEEN
                break
    if strength < LABEL_IN_FEATURES_SEEN and loss is not None and len(loss.finite()[1]) >= 3:
        ev.append("but the training loss did not collapse as a feature equal to the target makes it: the code found "
                  "with the run may not be the code that ran")
        strength = LABEL_IN_FEATURES_UNSEEN
    return [Finding("detect_code_label_in_features", "label_leakage", strength,
                    "the label is among the model's inputs", ev, None, {"target_line": tline, "features_line": fline})]


# Preprocessing fitted on every row before the split: `X = scaler.fit_transform(X)` (or `scaler.fit(X)`) and, later in
# the same scope, `train_test_split(X, ...)` on that same array. The held-out rows' statistics (their mean and scale,
# a vocabulary that includes their words) shape the training inputs: a leak of the held-out set into training
# (Kaufman et al. 2012, "Leakage in data mining"), which flatters the held-out score a little but rarely explains a
# failing run by itself. Listed (0.3), never a verdict: an engineer fixes it on sight, the metrics decide the rank.
FIT_BEFORE_SPLIT = 0.3
_PREPROCESSOR = re.compile(r"(?i)scaler|normali[sz]er|standardi[sz]|tfidf|vectori[sz]er|tokeni[sz]er|pca|imputer")


def _walk_scope(node: ast.AST) -> list[ast.AST]:
    """ast.walk without descending into nested functions, lambdas or classes: their statements are another scope."""
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out.append(n)
        todo += [c for c in ast.iter_child_nodes(n)
                 if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))]
    return out


def _preprocess_fit(node: ast.AST, src: str) -> str | None:
    """The array name a preprocessor is fitted on in `node` (`scaler.fit(X)`, `StandardScaler().fit_transform(X)`)."""
    for n in _walk_scope(node):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("fit", "fit_transform")
                and n.args and isinstance(n.args[0], ast.Name)
                and _PREPROCESSOR.search(ast.get_source_segment(src, n.func.value) or "")):
            return n.args[0].id
    return None


def _fit_before_split(body: list[ast.stmt], src: str) -> tuple[int, int, str] | None:
    """(fit line, split line, array) when a preprocessor is fitted on an array that a later statement of the same
    scope splits into training and held-out parts."""
    fitted: dict[str, int] = {}  # array names carrying every row's statistics -> line of the fit
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # another scope, read on its own
        for n in _walk_scope(stmt):
            if (isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)) and n.args
                    and (n.func.id if isinstance(n.func, ast.Name) else n.func.attr) == "train_test_split"
                    and isinstance(n.args[0], ast.Name) and n.args[0].id in fitted):
                return fitted[n.args[0].id], stmt.lineno, n.args[0].id
        name = _preprocess_fit(stmt, src)
        if name is not None:
            fitted[name] = stmt.lineno
            if isinstance(stmt, ast.Assign):  # X_scaled = scaler.fit_transform(X): the result carries them too
                fitted.update({t.id: stmt.lineno for t in stmt.targets if isinstance(t, ast.Name)})
    return None


def code_fit_before_split(run: Run) -> tuple[str, int, int, str] | None:
    """(file, fit line, split line, array) of the first preprocessor fitted before the split in the run's code."""
    for path, text in code_files.file_texts(run).items():
        if "train_test_split" not in text or not _PREPROCESSOR.search(text):
            continue  # parse only the files that could hold both halves
        src = code_sites.parsed_source(path, text)
        if src is None:
            continue
        for body in _scope_bodies(src.tree):
            hit = _fit_before_split(body, text)
            if hit is not None:
                return (path, *hit)
    return None


def detect_code_fit_before_split(run: Run) -> list[Finding]:
    """A preprocessor fitted on every row before the train/held-out split (FIT_BEFORE_SPLIT above)."""
    hit = stats.cached(run, "code_fit_before_split", lambda: code_fit_before_split(run))
    if hit is None:
        return []
    path, fline, sline, name = hit
    return [Finding("detect_code_fit_before_split", "label_leakage", FIT_BEFORE_SPLIT,
                    "preprocessing is fitted on the held-out rows too",
                    [f"a preprocessor is fitted on `{name}` [{code_files.where(path, fline)}] before `{name}` is split "
                     f"into training and held-out parts [{code_files.where(path, sline)}]: the held-out rows' "
                     "statistics shape the training inputs; fit it on the training part only"], None,
                    {"fit_line": fline, "split_line": sline})]


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
        for path, text in code_files.file_texts(run).items():
            if "perm" not in text:
                continue  # parse only the files that could hold a draw
            src = code_sites.parsed_source(path, text)
            if src is None:
                continue
            lines = text.splitlines()
            for node in src.nodes:
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
    ev = [f"`{snippet}` [{code_files.where(path, line)}]: two arrays reindexed by two separate random permutations, "
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
             detect_code_accumulation_defect, detect_code_label_in_features, detect_code_fit_before_split,
             detect_code_separate_permutations]
