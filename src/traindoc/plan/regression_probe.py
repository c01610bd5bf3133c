"""How a regression test can run the fixed code: which function to call and what to pass it.

A regression test that only reads the source passes as long as the text of the fix is there, even when the fix does
nothing. So the test the plan adds calls the fixed function when it can build its arguments from the function's
own signature (templates/fixes/regression_test.py.j2): attention taking (q, k, v), a loss taking (logits, targets),
a function of plain tensors with a guarded log/sqrt, a training loop taking (model, optimizer, loader), a schedule
taking an optimizer. The function must be a module-level `def` (a method needs its object) in a module that can
be imported without running anything but definitions (no training at import time). When that is not so, the test
checks the fixed construct in the source, and says why.

Decided by reading the code (ast), never by running it; the generated test runs it, as the project's own tests do.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_expression, parse_python

# top-level calls an importable module may make while defining things (a logger, a device, dataclass helpers)
SAFE_TOP_CALLS = {"getLogger", "device", "field", "TypeVar", "namedtuple", "compile", "dataclass", "NewType"}
MODEL = re.compile(r"^(model|net|module|network)$")
# parameters that are not tensors: a plain-tensor probe would only test that the call fails
NOT_TENSOR = re.compile(r"^(self|cls|cfg|config|conf|args|opts?|state|model|module|.*_(cfg|config|state))$")
LOADER_ITER = (ast.Name,)


def required(fn: ast.FunctionDef) -> list[str] | None:
    """Positional parameters without a default (None when it needs keyword-only or *args values)."""
    a = fn.args
    if any(d is None for d in a.kw_defaults) or a.posonlyargs:
        return None
    pos = a.args[:len(a.args) - len(a.defaults)] if a.defaults else a.args
    return [p.arg for p in pos]


def importable(tree: ast.Module) -> bool:
    """Importing the module only defines things: imports, defs, classes, constant-ish assignments, a main guard."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign):
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
            if all((getattr(c.func, "attr", None) or getattr(c.func, "id", None)) in SAFE_TOP_CALLS for c in calls):
                continue
        return False
    return True


def _call_args(text: str) -> list[str]:
    """The plain names passed positionally to the call in `text` (`F.sdpa(q, k, v)` -> [q, k, v])."""
    node = parse_expression(text.strip())
    return [a.id for a in node.args if isinstance(a, ast.Name)] if isinstance(node, ast.Call) else []


def _loop(fn: ast.FunctionDef) -> ast.For | None:
    return next((n for n in ast.walk(fn) if isinstance(n, ast.For) and isinstance(n.iter, LOADER_ITER)), None)


def import_name(path: Path, root: Path) -> tuple[str, str]:
    """(folder to put on sys.path, relative to the root; dotted module name) for importing `path` as its package
    does, so its relative imports work (`phase1/optim.py` -> (".", "phase1.optim"))."""
    path, root = path.resolve(), root.resolve()
    top = path.parent
    while (top / "__init__.py").exists() and top != root and top.parent.is_relative_to(root):
        top = top.parent
    return str(top.relative_to(root)) or ".", ".".join(path.relative_to(top).with_suffix("").parts)


WIDTH_FIELDS = ("d_model", "n_embd", "hidden_size", "embed_dim", "dim")  # a config's model width, by its usual names


def _module_probe(tree: ast.Module, template: str, function: str | None, line: int) -> dict[str, Any] | None:
    """A causal-attention fix inside `forward(self, x)` of an nn.Module built from one config object the module
    names (a dataclass with defaults, as nanoGPT's GPTConfig): the test builds it and feeds it random activations."""
    if template != "causal_mask" or function != "forward":
        return None
    cls = next((c for c in tree.body if isinstance(c, ast.ClassDef) and c.lineno <= line <= (c.end_lineno or 0)), None)
    methods = {f.name: f for f in (cls.body if cls else []) if isinstance(f, ast.FunctionDef)}
    init, fwd = methods.get("__init__"), methods.get("forward")
    if cls is None or init is None or fwd is None or required(fwd) != ["self", fwd.args.args[1].arg]:
        return None
    init_args = required(init)
    if init_args is None or len(init_args) != 2 or not isinstance(init.args.args[1].annotation, ast.Name):
        return None
    return {"probe": "module", "cls": cls.name, "config": init.args.args[1].annotation.id, "widths": WIDTH_FIELDS}


def _loop_roles(fn: ast.FunctionDef, args: list[str], params: dict[str, Any]) -> dict[str, Any] | None:
    """A training loop function whose every parameter the test can build: the model (one of MODEL's names), the
    optimizer the fix names, the loader its `for` iterates, and optionally an LR scheduler."""
    loop = _loop(fn)
    opt = params.get("optimizer")
    if loop is None or opt not in args or not isinstance(loop.iter, ast.Name) or loop.iter.id not in args:
        return None
    model = [a for a in args if MODEL.match(a)]
    sched = [a for a in args if re.search(r"sched", a)]
    if len(model) != 1 or len(sched) > 1 or len(args) != 3 + len(sched):
        return None
    width = len(loop.target.elts) if isinstance(loop.target, ast.Tuple) else 0
    return {"model": model[0], "optimizer": opt, "loader": loop.iter.id, "scheduler": sched[0] if sched else "",
            "width": width}


def _loader_of(loop: ast.For) -> tuple[str, int] | None:
    """(loader name, items per batch) of `for x, y in loader` or `for i, (x, y) in enumerate(loader)`."""
    it, target = loop.iter, loop.target
    if isinstance(it, ast.Call) and getattr(it.func, "id", "") == "enumerate" and it.args and \
            isinstance(target, ast.Tuple) and len(target.elts) == 2:
        it, target = it.args[0], target.elts[1]
    if not isinstance(it, ast.Name):
        return None
    return it.id, len(target.elts) if isinstance(target, ast.Tuple) else 0


def function_at(text: str, line: int) -> tuple[ast.Module, ast.FunctionDef] | None:
    """(module, the module-level `def` around `line`) when the module parses and imports without running anything
    but definitions; None otherwise."""
    tree = parse_python(text)
    if tree is None:
        return None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.lineno <= line <= (n.end_lineno or 0)),
              None)
    return (tree, fn) if fn is not None and importable(tree) else None


def runnable_function(text: str, line: int) -> tuple[ast.Module, ast.FunctionDef, list[str]] | None:
    """(module, function, its required parameters) for the module-level `def` around `line` of an importable
    module, when it has required parameters a test can fill; None otherwise."""
    found = function_at(text, line)
    args = required(found[1]) if found is not None else None
    return (*found, args) if found is not None and args else None


def tensor_function(text: str, line: int, most: int, least: int = 1) -> dict[str, Any] | None:
    """{"args", "function"} when the function around `line` takes only plain tensors (least..most of them)."""
    found = runnable_function(text, line)
    if found is None or not least <= len(found[2]) <= most or any(NOT_TENSOR.match(a) for a in found[2]):
        return None
    return {"args": found[2], "function": found[1].name}


def accum_probe(text: str, line: int, divisor: str) -> dict[str, Any] | None:
    """The accumulation loop around `line` as a module-level function the test can run twice, once with N=1 on the
    whole batch and once with N=2 on its halves: (model, optimizer, loader, N), N a parameter or a module-level
    name the test sets. None: the test reads the source."""
    found = runnable_function(text, line)
    if found is None:
        return None
    tree, fn, args = found
    loop = next((n for n in ast.walk(fn) if isinstance(n, ast.For) and n.lineno <= line <= (n.end_lineno or 0)),
                None)
    loader = _loader_of(loop) if loop is not None else None
    if loader is None or loader[0] not in args or loader[1] > 3:
        return None
    model = [a for a in args if MODEL.match(a)]
    opt = [a for a in args if re.search(r"opt", a)]
    module_level = any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == divisor
                                                         for t in n.targets) for n in tree.body)
    by_arg = divisor in args
    if len(model) != 1 or len(opt) != 1 or not (by_arg or module_level) or len(args) != 3 + by_arg:
        return None
    return {"probe": "accum", "args": args, "model": model[0], "optimizer": opt[0], "loader": loader[0],
            "width": loader[1], "divisor": divisor, "divisor_arg": by_arg, "function": fn.name}


def autocast_probe(text: str, line: int) -> dict[str, Any] | None:
    """The module-level function holding the autocast at `line`, when it takes only plain tensors (at most 4): the
    test calls it on 4x4 tensors of 300 (products of 360000 overflow float16's 65504, not bfloat16's range)."""
    found = tensor_function(text, line, most=4)
    return {"probe": "autocast", **found} if found else None


def set_epoch_probe(text: str, line: int) -> dict[str, Any] | None:
    """The module-level function holding the epoch loop at `line`, in an importable module, when it takes nothing
    required (its own defaults build the sampler, as a script's `train()` or `main()` does): the test calls it with
    every DistributedSampler's order recorded and each epoch cut to one index (three epochs at most), and checks that
    the epochs draw different orders. A function that needs arguments or a process group: the test reads the
    source."""
    found = function_at(text, line)
    if found is None or required(found[1]) != []:
        return None
    return {"probe": "set_epoch", "function": found[1].name}


def probe(template: str, params: dict[str, Any], text: str, function: str | None, line: int = 0
          ) -> dict[str, Any] | None:
    """{"probe": kind, "args": [...], ...} for the fixed module's text, or None (the test reads the source)."""
    tree = parse_python(text)
    if tree is None:
        return None
    if not importable(tree):
        return None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None)
    if fn is None:
        return _module_probe(tree, template, function, line)
    args = required(fn)
    if not args:
        return None
    if template in ("causal_mask", "qk_norm"):
        qkv = _call_args(params.get("call_text", ""))[:3] if template == "causal_mask" else [params.get("q"),
                                                                                              params.get("k")]
        if len(args) != 3 or not all(n in args for n in qkv) or len(set(qkv)) != len(qkv) or len(qkv) < 2:
            return None
        roles = ["q" if a == qkv[0] else "k" if a == qkv[1] else "v" for a in args]
        return {"probe": "attention", "args": args, "roles": roles} if sorted(roles) == ["k", "q", "v"] else None
    if template == "z_loss" and len(args) == 2 and args[0] in params.get("logits", ""):
        return {"probe": "z_loss", "args": args}
    if template == "nan_guard" and len(args) <= 4 and not any(NOT_TENSOR.match(a) for a in args):
        return {"probe": "finite", "args": args, "edge": [0.0, -1.0] if params.get("op") == "sqrt" else [0.0, 1.0]}
    loop_probe = {"zero_grad": "zero_grad", "clip_grad_norm": "clip", "warmup_cosine": "warmup"}.get(template)
    if loop_probe and (roles := _loop_roles(fn, args, params)) is not None:
        if template == "zero_grad" and params.get("mode") != "before":
            return None  # cleared after an accumulated step: one batch's gradient is not what it leaves
        if template == "warmup_cosine" and int(params.get("warmup", 0)) < 2:
            return None  # a 1-step warmup leaves the LR at its base after the first step: nothing to observe
        if template == "clip_grad_norm" and params.get("scaler"):
            return None  # the loop takes a grad scaler the test does not build
        return {"probe": loop_probe, "args": args, **roles, "max_norm": params.get("max_norm", 1.0)}
    if template == "lr_key":
        opt = [a for a in args if re.search(r"opt", a)]
        if len(opt) == 1:
            return {"probe": "lr_key", "args": args, "optimizer": opt[0]}
    return None
