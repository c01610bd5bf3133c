"""Locate the places in a run's Python files where a code fix for a cause would go.

Each locator is one rule (smdebug style): it parses a file with `ast`, looks for one construct that is known to
produce a cause (an attention call without a causal mask, a Grokfast filter in its high-pass form, a training loop
without `zero_grad`...), and returns `CodeSite`s: file, 1-based line span, the exact text of those lines, the id of
the fix template that repairs it (src/traindoc/templates/fixes/<template>.py.j2) and the parameters that template
needs (the optimiser's expression, the argument to guard...). Which rules serve which cause, and which templates
fix it in what order, is each cause's `locators` / `templates` in src/traindoc/causes/<id>.py.

The rules look at the *shape* of user code, not at our bundled trainer's names, so they work on any training script
of the same shape. They only read files; they never import the code they inspect. This module is evidence-stage
code: it must not import traindoc.plan / apply / verify.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from traindoc.causes import CAUSES
from traindoc.ingest.budget import DEFAULT_LIMITS


@dataclass
class CodeSite:
    """One place in one file where a code fix applies."""

    cause: str  # a cause id (src/traindoc/causes/, docs/causes.md)
    template: str  # fix template id (templates/fixes/<template>.py.j2)
    file: str
    line: int  # 1-based first line of `snippet`
    end_line: int  # 1-based last line of `snippet`
    snippet: str  # exact text of lines line..end_line, without the final newline
    description: str
    function: str | None = None  # enclosing function, when there is one
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def to_change(self) -> dict[str, Any]:
        """The diagnosis schema's `change` object for this site (`after` is rendered later by `traindoc plan`)."""
        return {"target": "code", "file": self.file, "line": self.line, "key": None, "before": self.snippet,
                "after": None, "template": self.template, "params": dict(self.params),
                "description": self.description}


class _Source:
    """A parsed file: its text, lines and tree, plus helpers every locator needs."""

    def __init__(self, path: str, text: str, tree: ast.Module):
        self.path, self.text, self.tree = path, text, tree
        self.lines = text.splitlines()
        # every node once, in ast.walk's order: the rules below each scan the whole tree, and a cached list makes a
        # scan a list iteration instead of a fresh walk (a 30 kB file: ~20 walks, 2.2 of its 2.9 CPU-s diagnose)
        self.nodes: list[ast.AST] = list(ast.walk(tree))
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in self.nodes:
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def span(self, first: int, last: int) -> str:
        return "\n".join(self.lines[first - 1:last])

    def statement(self, node: ast.AST) -> ast.stmt:
        """The statement that contains `node`."""
        while not isinstance(node, ast.stmt):
            node = self.parents[node]
        return node

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def site(self, node: ast.AST, cause: str, template: str, description: str, **params: Any) -> CodeSite:
        stmt = self.statement(node)
        first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
        func = self.function_of(node)
        indent = re.match(r"\s*", self.lines[first - 1]).group(0)
        return CodeSite(cause, template, self.path, first, last, self.span(first, last), description,
                        func.name if func else None, {"indent": indent, **params})


def _call_name(call: ast.Call) -> str:
    """`torch.nn.functional.scaled_dot_product_attention(...)` -> "scaled_dot_product_attention"."""
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def _receiver(call: ast.Call) -> ast.expr | None:
    return call.func.value if isinstance(call.func, ast.Attribute) else None


def _kw(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _walk_no_defs(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    """ast.walk over statements, not descending into nested function or class definitions."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                stack.append(child)


def _calls(nodes: Iterable[ast.AST]) -> list[ast.Call]:
    return [n for n in _walk_no_defs(nodes) if isinstance(n, ast.Call)]


# ---------------------------------------------------------------------------------------------------- label_leakage
def locate_noncausal_attention(src: _Source) -> list[CodeSite]:
    """`scaled_dot_product_attention` with `is_causal=False` (or neither is_causal nor a mask) in a language model,
    and hand-written attention that takes a softmax of q·kᵀ scores without any masking in the function."""
    sites = []
    for call in (n for n in src.nodes if isinstance(n, ast.Call)):
        name = _call_name(call)
        if name == "scaled_dot_product_attention":
            causal = _kw(call, "is_causal")
            has_mask = _kw(call, "attn_mask") is not None or len(call.args) >= 4
            if causal is not None and isinstance(causal.value, ast.Constant) and causal.value.value is False:
                sites.append(src.site(call, "label_leakage", "causal_mask",
                                      "scaled_dot_product_attention is called with is_causal=False: every position "
                                      "attends to the future tokens it must predict",
                                      call_text=src.segment(call), causal_text=src.segment(causal)))
            elif causal is None and not has_mask:
                sites.append(src.site(call, "label_leakage", "causal_mask",
                                      "scaled_dot_product_attention is called without is_causal or a mask: "
                                      "attention is bidirectional", call_text=src.segment(call), causal_text=""))
        elif name == "softmax":
            # manual attention: softmax(scores) where scores came from q @ k.transpose(...) in the same function
            func = src.function_of(call)
            arg = call.args[0] if call.args else (call.func.value if isinstance(call.func, ast.Attribute) else None)
            if func is None or not isinstance(arg, ast.Name):
                continue
            body = src.segment(func)
            if re.search(r"mask|tril|triu|is_causal|masked_fill", body):
                continue
            made_from_qk = any(
                isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id for t in n.targets)
                and re.search(r"(@|matmul|einsum|bmm).*(transpose|\.T\b|mT)|(transpose|\.T\b|mT).*(@|matmul)",
                              src.segment(n.value))
                for n in ast.walk(func))
            if made_from_qk:
                sites.append(src.site(call, "label_leakage", "causal_mask_manual",
                                      f"attention scores `{arg.id}` go through softmax with no causal mask",
                                      scores=arg.id))
    return sites


# ----------------------------------------------------------------------------------------------- optimizer_misconfig
def locate_grokfast_highpass(src: _Source) -> list[CodeSite]:
    """`grad.add_(grad - ema, alpha=lamb)`: g + λ(g − ema) is a high-pass filter; Grokfast adds the slow
    component (g + λ·ema, Lee et al. 2024)."""
    sites = []
    for call in (n for n in src.nodes if isinstance(n, ast.Call)):
        recv = _receiver(call)
        if _call_name(call) not in ("add_", "add") or recv is None or not call.args:
            continue
        arg = call.args[0]
        if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Sub) and ast.dump(arg.left) == ast.dump(recv):
            sites.append(src.site(call, "optimizer_misconfig", "grokfast_lowpass",
                                  f"`{src.segment(call)}` adds λ·(g − ema), a high-pass filter; Grokfast amplifies "
                                  "the slow component: g + λ·ema",
                                  arg_text=src.segment(arg), ema_text=src.segment(arg.right)))
    return sites


# -------------------------------------------------------------------------------------------------- scheduler_misuse
def _string_keys_read(sources: list[_Source]) -> set[str]:
    """Every string used as a subscript in a Load, as a .get()/.setdefault() key or in a comparison, in any file."""
    keys: set[str] = set()
    for s in sources:
        for n in s.nodes:
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load | ast.Del):
                if isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str):
                    keys.add(n.slice.value)
            elif isinstance(n, ast.Call) and _call_name(n) in ("get", "setdefault", "pop") and n.args:
                if isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                    keys.add(n.args[0].value)
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Subscript):
                if isinstance(n.target.slice, ast.Constant) and isinstance(n.target.slice.value, str):
                    keys.add(n.target.slice.value)
    return keys


# param-group keys torch itself reads: the optimiser's step reads "lr", torch.optim.lr_scheduler's schedulers read
# "initial_lr" (and set it on their first step), so a write to either is never dead
_READ_BY_TORCH = {"lr", "initial_lr"}


def locate_unread_lr_key(src: _Source, all_sources: list[_Source], memo: dict[str, Any]) -> list[CodeSite]:
    """A schedule that writes `group["<something>_lr"] = ...` into a param group under a key that no code ever
    reads: the optimiser's step reads `group["lr"]`, so the schedule silently does nothing."""
    if "read_keys" not in memo:
        memo["read_keys"] = _string_keys_read(all_sources)
    read = memo["read_keys"]
    sites = []
    for n in src.nodes:
        if not isinstance(n, ast.Assign):
            continue
        for t in n.targets:
            if not (isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant)):
                continue
            key = t.slice.value
            if not isinstance(key, str) or key in _READ_BY_TORCH or "lr" not in key.lower() or key in read:
                continue
            if "lr" not in src.segment(n.value):
                continue
            func = src.function_of(n)
            scope = src.segment(func) if func else src.text
            if "param_groups" not in scope and "group" not in ast.unparse(t.value).lower():
                continue  # only a write into an optimiser's param group can be a schedule's LR
            sites.append(src.site(n, "scheduler_misuse", "lr_key",
                                  f'the schedule writes param_group["{key}"], which nothing reads; the optimiser '
                                  'steps with param_group["lr"], so the LR never changes',
                                  key=key, key_text=src.segment(t.slice)))
    return sites


# ------------------------------------------------------------------------------------------------- training loops
def _is_optimizer_step(call: ast.Call) -> bool:
    recv = _receiver(call)
    if _call_name(call) != "step" or recv is None:
        return False
    text = ast.unparse(recv).lower()
    return "sched" not in text and "lr" != text.rsplit(".", 1)[-1]


def _optimizer_text(src: _Source, call: ast.Call) -> str:
    """`optimizer.step()` -> "optimizer"; `scaler.step(optimizer)` -> "optimizer"."""
    recv = _receiver(call)
    if "scaler" in ast.unparse(recv).lower() and call.args:
        return src.segment(call.args[0])
    return src.segment(recv)


def _training_loops(src: _Source) -> list[tuple[ast.For | ast.While, ast.Call, ast.Call]]:
    """Innermost loops whose body (without nested defs) calls `.backward()` and an optimiser's `.step()`."""
    found = []
    for loop in (n for n in src.nodes if isinstance(n, ast.For | ast.While | ast.AsyncFor)):
        calls = _calls(loop.body)
        backward = next((c for c in calls if _call_name(c) == "backward"), None)
        step = next((c for c in calls if _is_optimizer_step(c)), None)
        if backward is None or step is None:
            continue
        inner = [lp for lp in ast.walk(loop) if lp is not loop and isinstance(lp, ast.For | ast.While)
                 and any(_call_name(c) == "backward" for c in _calls(lp.body))
                 and any(_is_optimizer_step(c) for c in _calls(lp.body))]
        if not inner:
            found.append((loop, backward, step))
    return found


def locate_missing_zero_grad(src: _Source) -> list[CodeSite]:
    """A loop that calls `.backward()` and `optimizer.step()` but never clears the gradients: they accumulate
    across steps and the grad norm grows step after step."""
    sites = []
    for loop, backward, step in _training_loops(src):
        calls = _calls(loop.body)
        if any(_call_name(c) in ("zero_grad", "clear_grad", "zero_") for c in calls):
            continue
        if any(isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(src.parents.get(n), ast.Assign)
               for n in _walk_no_defs(loop.body)):  # p.grad = None done by hand
            continue
        opt = _optimizer_text(src, step)
        back_stmt, step_stmt = src.statement(backward), src.statement(step)
        # Backward and step in the same block: clear just before backward (the usual place). Step inside an `if`
        # (gradient accumulation): clear right after the step, so the accumulated micro-batches are kept.
        same_block = src.parents.get(back_stmt) is src.parents.get(step_stmt)
        anchor, mode = (backward, "before") if same_block else (step, "after")
        # A clear before the loop in the same function (`zero_grad()` once per epoch, then the batch loop) is the
        # same fault said differently: every step inside re-applies the gradients of every earlier batch.
        func = src.function_of(loop)
        outer = [c for c in _calls(func.body if func else src.tree.body)
                 if _call_name(c) in ("zero_grad", "clear_grad") and c.lineno < loop.lineno]
        what = (f"clears them only before the loop (line {outer[-1].lineno}), once per pass: each step re-applies "
                "every gradient since" if outer else f"never {opt}.zero_grad(): gradients accumulate across steps")
        sites.append(src.site(anchor, "zero_grad_missing", "zero_grad",
                              f"the training loop calls backward() and {opt}.step() but {what}",
                              optimizer=opt, mode=mode, cleared_before_loop=bool(outer)))
    return sites


def locate_step_without_clip(src: _Source) -> list[CodeSite]:
    """An optimiser step with no gradient clipping anywhere in its function: nothing bounds an exploding step."""
    sites = []
    for loop, _backward, step in _training_loops(src):
        func = src.function_of(loop)
        scope = func.body if func else loop.body
        if any("clip_grad" in _call_name(c) or "clip" in _call_name(c).lower() for c in _calls(scope)):
            continue
        opt = _optimizer_text(src, step)
        scaler = _receiver(step)
        scaler_text = src.segment(scaler) if scaler is not None and "scaler" in ast.unparse(scaler).lower() else ""
        sites.append(src.site(step, "grad_explosion", "clip_grad_norm",
                              f"{opt}.step() runs with no gradient clipping", optimizer=opt, scaler=scaler_text,
                              max_norm=1.0))
    return sites


def locate_constant_lr_loop(src: _Source) -> list[CodeSite]:
    """An optimiser step with no LR schedule anywhere in the file (no scheduler, no param-group LR writes): the
    site where a warmup + cosine schedule goes (no_warmup)."""
    if re.search(r"lr_scheduler|scheduler|set_lr|\[[\"']lr[\"']\]\s*=|warmup", src.text):
        return []
    sites = []
    for _loop, _backward, step in _training_loops(src):
        opt = _optimizer_text(src, step)
        sites.append(src.site(step, "no_warmup", "warmup_cosine",
                              f"{opt}.step() runs at the full LR from step 0, with no warmup or decay",
                              optimizer=opt))
    return sites


# ---------------------------------------------------------------------------------------------------------- nan_inf
_GUARD = re.compile(r"clamp|clip|eps|\+\s*1e-|max\(|maximum|softmax|sigmoid|exp\(|abs\(\)\s*\+")


def locate_unguarded_log(src: _Source) -> list[CodeSite]:
    """`torch.log(x)` / `x.log()` / `torch.sqrt(x)` whose argument is not clamped or offset by an eps: log(0) = -inf
    and sqrt(<0) = nan then flow into the loss."""
    sites = []
    for call in (n for n in src.nodes if isinstance(n, ast.Call)):
        name, recv = _call_name(call), _receiver(call)
        if name not in ("log", "log2", "log10", "sqrt"):
            continue
        recv_text = ast.unparse(recv) if recv is not None else ""
        if recv_text in ("torch", "th") and len(call.args) == 1:
            arg = call.args[0]
        elif recv is not None and not call.args and recv_text not in ("math", "np", "numpy", "logging", "logger",
                                                                      "self", "log"):
            arg = recv  # x.log()
        else:
            continue
        arg_text = src.segment(arg)
        if _GUARD.search(arg_text):
            continue
        sites.append(src.site(call, "nan_inf", "nan_guard",
                              f"`{src.segment(call)}` is unguarded: a zero (or negative) argument gives -inf/nan",
                              call_text=src.segment(call), arg_text=arg_text, op=name,
                              method_form=recv_text not in ("torch", "th"), eps=1e-8))
    return sites


# ------------------------------------------------------------------------------------------- act_variance_collapse
_NON_DIFF_CALLS = {"item", "detach", "long", "int", "round", "argmax", "argmin", "floor", "ceil", "no_grad", "bool",
                   "nonzero", "tolist"}
_DIVERSITY = re.compile(r"divers|^kl$|_kl|kl_|entropy|prior|variance", re.I)


def _code_nodes(func: ast.FunctionDef) -> list[ast.AST]:
    """The function's body without its docstring."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return list(_walk_no_defs(body))


def _detached_fields(sources: list[_Source]) -> set[str]:
    """Keyword arguments passed as `x.detach()` (or `.item()`) to any constructor call: fields without gradient,
    e.g. `ActState(n_updates=n_updates.detach(), ...)`."""
    out: set[str] = set()
    for s in sources:
        for n in s.nodes:
            if isinstance(n, ast.Call):
                for k in n.keywords:
                    if k.arg and isinstance(k.value, ast.Call) and _call_name(k.value) in ("detach", "item"):
                        out.add(k.arg)
    return out


def locate_act_loss(src: _Source, all_sources: list[_Source], memo: dict[str, Any]) -> list[CodeSite]:
    """An ACT / ponder loss function (`compute_act_loss`, `*ponder*loss*`, `*halt*loss*`) with no gradient path
    (built only from fields stored detached, or through .item() / thresholds / argmax), without a diversity term,
    or with a variance over a size-1 dim: the halting head then gets no gradient and every token halts alike."""
    sites = []
    if "detached" not in memo:
        memo["detached"] = _detached_fields(all_sources)
    detached = memo["detached"]
    for func in (n for n in src.nodes if isinstance(n, ast.FunctionDef)):
        name = func.name.lower()
        if not re.search(r"(act|ponder|halt)\w*loss$|^loss\w*(act|ponder|halt)", name):
            continue
        nodes = _code_nodes(func)
        non_diff = sorted({_call_name(n) + "()" for n in nodes if isinstance(n, ast.Call)
                           and _call_name(n) in _NON_DIFF_CALLS}
                          | {"a comparison" for n in nodes if isinstance(n, ast.Compare)})
        state = func.args.args[0].arg if func.args.args and func.args.args[0].arg != "self" else None
        used = {n.attr for n in nodes if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                and n.value.id == state}
        if used and used <= detached:
            non_diff.append(f"only gradient-free fields ({', '.join(sorted(used))})")
        words = {n.id for n in nodes if isinstance(n, ast.Name)} | {n.attr for n in nodes
                                                                    if isinstance(n, ast.Attribute)}
        singleton_var = any(isinstance(n, ast.Call) and _call_name(n) in ("var", "std")
                            and _singleton_dim(_receiver(n) or n) is not None for n in nodes) or bool(
            [s for s in locate_variance_over_singleton(src) if func.lineno <= s.line <= (func.end_lineno or 0)])
        has_diversity = (any(_DIVERSITY.search(w) for w in words) or any(
            isinstance(n, ast.Call) and _call_name(n) in ("var", "std") for n in nodes)) and not singleton_var
        if has_diversity and not non_diff:
            continue
        args = [a.arg for a in func.args.args if a.arg != "self"]
        first, last = func.lineno, func.end_lineno or func.lineno
        if func.decorator_list:
            first = min(d.lineno for d in func.decorator_list)
        indent = re.match(r"\s*", src.lines[func.lineno - 1]).group(0)
        why = []
        if non_diff:
            why.append(f"the loss goes through non-differentiable ops ({', '.join(non_diff[:4])})")
        if not has_diversity:
            why.append("there is no working diversity term")
        sites.append(CodeSite("act_variance_collapse", "act_loss", src.path, first, last, src.span(first, last),
                              f"{func.name}(): " + " and ".join(why) + ", so the halting head cannot learn to "
                              "halt tokens differently", func.name,
                              {"indent": indent, "function": func.name, "args": args,
                               "is_method": bool(func.args.args and func.args.args[0].arg == "self")}))
    return sites


def _int(node: ast.AST | None) -> int | None:
    """An int literal, negative ones included (`-1` is a UnaryOp in the AST)."""
    if node is None:
        return None
    try:
        v = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _singleton_dim(expr: ast.expr) -> int | None:
    """The dim of size 1 that `expr` visibly creates: x.reshape(-1, 1) / x.view(n, 1) -> 1, x.unsqueeze(d) -> d,
    x[:, None] -> 1, x.mean(d, keepdim=True) -> d. None when nothing visible."""
    if isinstance(expr, ast.Call):
        name = _call_name(expr)
        if name in ("reshape", "view") and expr.args and _int(expr.args[-1]) == 1:
            return len(expr.args) - 1
        if name == "unsqueeze" and expr.args and _int(expr.args[0]) is not None:
            return _int(expr.args[0])
        keep = _kw(expr, "keepdim")
        if keep is not None and isinstance(keep.value, ast.Constant) and keep.value.value is True:
            d = _kw(expr, "dim")
            node = d.value if d is not None else (expr.args[0] if expr.args else None)
            if _int(node) is not None:
                return _int(node)
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Tuple):
        for i, el in enumerate(expr.slice.elts):
            if isinstance(el, ast.Constant) and el.value is None:
                return i
    return None


def locate_variance_over_singleton(src: _Source) -> list[CodeSite]:
    """`x.reshape(-1, 1).var(dim=1)` and the like: a variance over a dim of size 1 is NaN and warns
    "var(): degrees of freedom is <= 0", so the logged halting variance says nothing (act_variance_collapse)."""
    sites = []
    for call in (n for n in src.nodes if isinstance(n, ast.Call)):
        if _call_name(call) not in ("var", "std") or _receiver(call) is None:
            continue
        recv = _receiver(call)
        d = _kw(call, "dim")
        dim_node = d.value if d is not None else (call.args[0] if call.args else None)
        want = _int(dim_node)
        if want is None:
            continue
        origin = recv
        if isinstance(recv, ast.Name):  # one step back: halt = x.reshape(-1, 1); halt.var(dim=1)
            func = src.function_of(call)
            for n in ast.walk(func) if func else []:
                if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == recv.id for t in n.targets) \
                        and n.lineno < call.lineno:
                    origin = n.value
        sdim = _singleton_dim(origin)
        if sdim is None:
            continue
        if want != sdim and not (want == -1 and isinstance(origin, ast.Call) and _call_name(origin) in (
                "reshape", "view")):
            continue
        sites.append(src.site(call, "act_variance_collapse", "var_over_all",
                              f"`{src.segment(call)}` takes a variance over a dim of size 1: NaN plus the warning "
                              "'var(): degrees of freedom is <= 0'", call_text=src.segment(call),
                              base=src.segment(recv), op=_call_name(call)))
    return sites


_HALT_NAME = re.compile(r"halt|ponder|act_head|q_head", re.I)


def locate_constant_halting_init(src: _Source) -> list[CodeSite]:
    """A halting head whose *weight* is initialised to a constant (`nn.init.zeros_(halt_head.weight)`,
    `.weight.data.zero_()`): every token then gets the same halting probability at the start, and with a weak
    gradient it stays that way. The fix drops the line so the layer keeps its random init."""
    sites = []
    for call in (n for n in src.nodes if isinstance(n, ast.Call)):
        name = _call_name(call)
        target = None
        if name in ("zeros_", "constant_", "ones_") and call.args:
            target = call.args[0]
        elif name in ("zero_", "fill_") and _receiver(call) is not None:
            target = _receiver(call)
            if isinstance(target, ast.Attribute) and target.attr == "data":
                target = target.value
        if not (isinstance(target, ast.Attribute) and target.attr == "weight"):
            continue
        if not _HALT_NAME.search(ast.unparse(target.value)):
            continue
        stmt = src.statement(call)
        if not isinstance(stmt, ast.Expr):
            continue
        sites.append(src.site(call, "act_variance_collapse", "drop_line",
                              f"`{src.segment(call)}` initialises the halting head's weight to a constant: every "
                              "token starts with the same halting decision"))
    return sites


def locate_unweighted_act_output(src: _Source) -> list[CodeSite]:
    """An ACT loop that computes per-step halting weights (appended to a list) but overwrites its output
    accumulator with the last state (`out = h`) instead of mixing `out = out + w * h`: the LM loss then gives the
    halting head no gradient."""
    sites = []
    for loop in (n for n in src.nodes if isinstance(n, ast.For)):
        func = src.function_of(loop)
        if func is None:
            continue
        appended = [c.args[0].id for c in _calls(loop.body) if _call_name(c) == "append" and c.args
                    and isinstance(c.args[0], ast.Name)]
        if not appended or not _HALT_NAME.search(src.segment(func)):
            continue
        zero_init = {t.id for n in func.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                     and _call_name(n.value) in ("zeros_like", "zeros") for t in n.targets if isinstance(t, ast.Name)}
        for n in loop.body:
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                    and n.targets[0].id in zero_init and isinstance(n.value, ast.Name):
                acc, state, weight = n.targets[0].id, n.value.id, appended[0]
                sites.append(src.site(n, "act_variance_collapse", "act_weighted_output",
                                      f"`{src.segment(n)}` keeps only the last refinement state; the halting "
                                      f"weights `{weight}` never mix the output, so the LM loss cannot teach "
                                      "the halting head", acc=acc, state=state, weight=weight))
    return sites


# ----------------------------------------------------------------------------- output logits / attention logits
def locate_cross_entropy(src: _Source) -> list[CodeSite]:
    """`loss = F.cross_entropy(logits, ...)`: where a z-loss on the log-partition function goes
    (output_logit_divergence)."""
    sites = []
    for n in src.nodes:
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)):
            continue
        call = n.value
        if not (isinstance(call, ast.Call) and _call_name(call) == "cross_entropy" and call.args):
            continue
        logits = call.args[0]
        base = logits
        while isinstance(base, ast.Call) and _call_name(base) in ("view", "reshape", "flatten", "float"):
            base = _receiver(base) or base
            if not isinstance(base, ast.Call):
                break
        sites.append(src.site(n, "output_logit_divergence", "z_loss",
                              "cross-entropy on the output logits without a z-loss term",
                              loss=n.targets[0].id, logits=src.segment(logits), weight=1e-4))
    return sites


def locate_attention_qk(src: _Source) -> list[CodeSite]:
    """`scaled_dot_product_attention(q, k, v, ...)` with plain names for q and k: where QK-norm goes
    (attention_logit_growth)."""
    sites = []
    for call in (n for n in src.nodes if isinstance(n, ast.Call)):
        if _call_name(call) != "scaled_dot_product_attention" or len(call.args) < 2:
            continue
        q, k = call.args[0], call.args[1]
        if isinstance(q, ast.Name) and isinstance(k, ast.Name):
            body = src.segment(src.function_of(call)) if src.function_of(call) else ""
            if re.search(r"q_norm|qk_norm|layer_norm\(\s*" + q.id, body):
                continue
            sites.append(src.site(call, "attention_logit_growth", "qk_norm",
                                  "attention logits q·kᵀ are unnormalised", q=q.id, k=k.id))
    return sites


# ------------------------------------------------------------------------------------------------------ registry
_LOCAL: list[Callable[[_Source], list[CodeSite]]] = [
    locate_noncausal_attention, locate_grokfast_highpass, locate_missing_zero_grad, locate_step_without_clip,
    locate_constant_lr_loop, locate_unguarded_log, locate_variance_over_singleton, locate_constant_halting_init,
    locate_unweighted_act_output, locate_cross_entropy, locate_attention_qk,
]
_GLOBAL: list[Callable[[_Source, list[_Source], dict[str, Any]], list[CodeSite]]] = [
    locate_unread_lr_key, locate_act_loss]
# which causes each rule can report (so a request for one cause runs only its rules): each cause's `locators`
_RULE_CAUSES: dict[str, set[str]] = {rule.__name__: {c.id for c in CAUSES.values() if rule.__name__ in c.locators}
                                      for rule in [*_LOCAL, *_GLOBAL]}
_PARSED: dict[tuple[str, int], _Source] = {}  # (path, hash of text) -> parsed file: plans re-locate after each edit


def python_files(paths: Iterable[str]) -> list[str]:
    """Expand folders to the .py files under them (skipping virtualenvs, caches and run outputs)."""
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*.py")):
                parts = set(f.parts)
                if parts & {".venv", "venv", "site-packages", "__pycache__", ".git", ".traindoc"}:
                    continue
                out.append(str(f))
        elif path.suffix == ".py" and path.is_file():
            out.append(str(path))
    return list(dict.fromkeys(out))


# An AST costs up to ~500 bytes per byte of source (ingest/budget.py, `code_file_bytes`): a file over this is not a
# training script (those are tens of KB) and is not parsed, so a generated or hostile file cannot take gigabytes.
MAX_PARSE_CHARS = DEFAULT_LIMITS.code_file_bytes


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module | None:
    """`ast.parse`, or None for text Python cannot parse: a syntax error, a null byte, nesting deep enough to
    exhaust the parser's recursion or memory (RecursionError / MemoryError, not SyntaxError: a hostile or generated
    file must not end the run in a traceback), or a file over MAX_PARSE_CHARS. Every parse of a user's file goes
    through here. Memoised on the text (a plan's fixers read each file once per cause and key; a file that takes the
    parser to its recursion limit costs ~0.4 s a try): callers only read the tree, never change it."""
    key = (len(text), hash(text), filename)
    if key in _TREES:
        return _TREES[key]
    tree = None
    if len(text) <= MAX_PARSE_CHARS:
        try:
            tree = ast.parse(text, filename=filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    _TREES[key] = tree
    global _TREE_CHARS
    _TREE_CHARS += len(text) if tree is not None else 0
    while _TREE_CHARS > _TREE_CACHE_CHARS or len(_TREES) > 1024:  # oldest first: a bounded cache, whatever the input
        (n, _h, _f), old = next(iter(_TREES.items()))
        del _TREES[(n, _h, _f)]
        _TREE_CHARS -= n if old is not None else 0
    return tree


# The memo's bound: source characters whose trees it keeps (~100 bytes of AST a character: ~200 MB at most).
_TREE_CACHE_CHARS = 2 * MAX_PARSE_CHARS
_TREES: dict[tuple[int, int, str], ast.Module | None] = {}
_TREE_CHARS = 0


def parse_expression(text: str) -> ast.expr | None:
    """One Python expression's node (`args.grad_accum_steps`, `loss / 8`), or None when the text is not one."""
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def parsed_source(path: str, text: str) -> _Source | None:
    """The parsed file (memoised on path and text), or None for a file Python cannot parse: a syntax error, or
    nesting deep enough to exhaust the parser's recursion or memory (a hostile or generated file is skipped, and
    the other files are still read)."""
    key = (path, hash(text))
    if key not in _PARSED:
        tree = parse_python(text, filename=path)
        if tree is None:
            return None
        _PARSED[key] = _Source(path, text, tree)
        if len(_PARSED) > 512:
            _PARSED.pop(next(iter(_PARSED)))
    return _PARSED[key]


def locate(code_paths: Iterable[str], causes: Iterable[str] | None = None) -> list[CodeSite]:
    """All code sites in the given files/folders, optionally only those for `causes`. Test files are skipped:
    a fix belongs in the code under test, not in its tests."""
    files = [f for f in python_files(code_paths) if not Path(f).name.startswith("test_")]
    texts: dict[str, str] = {}
    for f in files:
        try:
            if Path(f).stat().st_size > MAX_PARSE_CHARS * 4:  # UTF-8: at most 4 bytes a character
                continue  # not parsed anyway (parse_python): not read either
            texts[f] = Path(f).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return locate_in_texts(texts, causes)


def locate_in_texts(texts: dict[str, str], causes: Iterable[str] | None = None) -> list[CodeSite]:
    """Like `locate`, on file texts held in memory (path -> text), e.g. files a plan is still editing."""
    wanted = set(causes) if causes is not None else None
    sources = []
    for path, text in texts.items():
        src = parsed_source(path, text)
        if src is not None:
            sources.append(src)
    sites: list[CodeSite] = []
    memo: dict[str, Any] = {}
    local = [r for r in _LOCAL if wanted is None or _RULE_CAUSES[r.__name__] & wanted]
    global_ = [r for r in _GLOBAL if wanted is None or _RULE_CAUSES[r.__name__] & wanted]
    for src in sources:
        for rule in local:  # a local rule's result depends on the file alone: cached with the parse
            cached = src.__dict__.setdefault("_rule_results", {})
            if rule.__name__ not in cached:
                cached[rule.__name__] = rule(src)
            sites.extend(cached[rule.__name__])
        for grule in global_:
            sites.extend(grule(src, sources, memo))
    if wanted is not None:
        sites = [s for s in sites if s.cause in wanted]
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for s in sites:
        if (s.file, s.line, s.template) not in seen:
            seen.add((s.file, s.line, s.template))
            unique.append(s)
    return unique


def locate_for_cause(code_paths: Iterable[str], cause: str) -> list[CodeSite]:
    """Sites for one cause (what the diagnosis calls to put file:line into a root cause's fix)."""
    return locate(code_paths, [cause])
