"""Float16 training read from the run's code: a cast or a setting that makes the tensors float16 on every run.

A run folder often holds its training script (`diagnose --code DIR`, or .py files beside the logs) while its logs
state no precision. The script then says what the logs do not: `model.half()`, `.to(torch.float16)`,
`torch_dtype=torch.float16` in `from_pretrained`, `torch.autocast(dtype=torch.float16)`, a `GradScaler()` (a dynamic
loss scaler exists only for float16: its job is to keep float16 gradients inside 6e-5..65504, which bf16 and fp32,
with fp32's exponent range, never leave; Micikevicius et al. 2018 §3.2, Kalamkar et al. 2019), or a framework's
setting written as a literal (`Trainer(precision="16-mixed")`, `TrainingArguments(fp16=True)`,
`Accelerator(mixed_precision="fp16")`).

This is context for a NaN or an overflow, never a cause on its own: healthy float16 runs are common, and
evidence/precision.py only feeds the readings that start from a non-finite value or a scaler's message
(detectors/numerics.py). So only code that settles the question counts:
- the construct runs on every run: not under an `if` or a conditional expression, no `enabled=` other than a literal
  True (`GradScaler(enabled=args.amp)` is a switch, not a setting), its dtype or value a literal, not a variable;
- no bfloat16 or float32 setting of the same kinds anywhere in the code (two precisions in one code base is a
  choice made at run time, which the code alone cannot read);
- torch's and JAX's spellings only (`np.float16` is a storage format for data, not the model's arithmetic).
"""

from __future__ import annotations

import ast
import os
import re

from traindoc.evidence import code_files, code_sites, stats
from traindoc.evidence.code_sites import _call_name, _kw, _receiver, _Source
from traindoc.ingest.model import Run

_HALF_DTYPES = ("torch.float16", "torch.half", "jnp.float16", "jax.numpy.float16")
_FULL_DTYPES = ("torch.bfloat16", "torch.float32", "torch.float", "jnp.bfloat16", "jnp.float32",
                "jax.numpy.bfloat16", "jax.numpy.float32")
_DTYPE_KWARGS = ("dtype", "torch_dtype", "param_dtype")
# framework settings passed as keywords: (keyword, literal value) -> half (True) / full range (False)
_HALF_SETTING = {"16", "16-mixed", "16-true", "fp16", "float16"}
_FULL_SETTING = {"bf16", "bf16-mixed", "bf16-true", "32", "32-true", "64", "64-true", "no", "fp32", "bfloat16"}
_SETTING_KWARGS = ("precision", "mixed_precision")
_FLAG_KWARGS = {"fp16": True, "bf16": False}


def _literal(node: ast.AST | None) -> object:
    """The node's Python literal, or a sentinel when it is not one."""
    if node is None:
        return _NONE
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return _NONE


_NONE = object()


# where a float16 cast is not the training's arithmetic: a function that saves, exports or serves the model (a half
# checkpoint written to save disk, an fp16 inference path), a `torch.save(...)` argument, a no-grad block (evaluation)
_NOT_TRAINING_DEF = re.compile(r"save|export|infer|predict|generat|convert|quantiz|serve|deploy|sample|eval", re.I)
_NOT_TRAINING_CALL = ("save", "save_file", "save_pretrained", "no_grad", "inference_mode")


def _unconditional(src: _Source, node: ast.AST) -> bool:
    """The node runs on every run, in the training's arithmetic: no `if`, conditional expression or `try` handler
    above it (the function it sits in may still be called conditionally; a training script's functions are its
    steps), and nowhere a cast serves saving, export, inference or evaluation (_NOT_TRAINING_*)."""
    child, parent = node, src.parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.If | ast.IfExp) and child is not parent.test:
            return False
        if isinstance(parent, ast.ExceptHandler):
            return False
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and _NOT_TRAINING_DEF.search(parent.name):
            return False
        if isinstance(parent, ast.Call) and _call_name(parent) in _NOT_TRAINING_CALL:
            return False
        if isinstance(parent, ast.With | ast.AsyncWith) and any(
                isinstance(i.context_expr, ast.Call) and _call_name(i.context_expr) in _NOT_TRAINING_CALL
                for i in parent.items):
            return False
        child, parent = parent, src.parents.get(parent)
    return True


def _switched_off(call: ast.Call) -> bool:
    """`enabled=` anything but a literal True: the construct is a switch the run's arguments decide."""
    kw = _kw(call, "enabled")
    return kw is not None and _literal(kw.value) is not True


def _dtype_text(src: _Source, node: ast.AST) -> str:
    return src.segment(node).replace(" ", "")


def _imported_from_cuda_amp(src: _Source, name: str) -> bool:
    """`name` is torch.cuda.amp's (float16 by default), by a `from torch.cuda.amp import ...` in the file."""
    return any(isinstance(n, ast.ImportFrom) and n.module == "torch.cuda.amp"
               and any((a.asname or a.name) == name for a in n.names) for n in src.nodes)


def _reading(src: _Source, call: ast.Call) -> bool | None:
    """What one call says about the training precision: True float16, False bf16/fp32, None nothing."""
    name, recv = _call_name(call), _receiver(call)
    if name == "half" and recv is not None and not call.args and not call.keywords:
        return True  # torch's Module.half() / Tensor.half(): numpy and JAX arrays have no .half()
    if name in ("to", "type", "astype") and recv is not None:
        for a in [*call.args, *(k.value for k in call.keywords if k.arg == "dtype")]:
            t = _dtype_text(src, a)
            if t in _HALF_DTYPES or t == "torch.HalfTensor":
                return True
            if "bfloat16" in t:
                return False
            # a cast to float32 is the upcast a float16 script makes for its loss or softmax: no setting
    if name == "GradScaler" and not _switched_off(call):
        return True  # a dynamic loss scaler exists for float16 only (module docstring)
    if name == "autocast":
        if _switched_off(call):
            return None
        kw = _kw(call, "dtype")
        if kw is not None:
            t = _dtype_text(src, kw.value)
            return True if t in _HALF_DTYPES else False if t in _FULL_DTYPES else None
        # no dtype: torch.cuda.amp.autocast() and torch.autocast("cuda") default to float16; torch.autocast("cpu")
        # to bfloat16
        if isinstance(call.func, ast.Attribute) and "cuda.amp" in _dtype_text(src, call.func):
            return True
        if isinstance(call.func, ast.Name) and _imported_from_cuda_amp(src, call.func.id):
            return True  # `from torch.cuda.amp import autocast` then `with autocast():`
        dev = call.args[0] if call.args else (_kw(call, "device_type").value if _kw(call, "device_type") else None)
        device = _literal(dev)
        return True if device == "cuda" else False if device == "cpu" else None
    for kw in call.keywords:
        if kw.arg in _DTYPE_KWARGS:
            t = _dtype_text(src, kw.value)
            if t in _HALF_DTYPES:
                return True
            if t in _FULL_DTYPES and kw.arg != "dtype":  # a bare dtype=float32 is a buffer's, not the model's
                return False
        if kw.arg in _SETTING_KWARGS:
            v = _literal(kw.value)
            if v is not _NONE and str(v).strip().lower() in _HALF_SETTING:
                return True
            if v is not _NONE and str(v).strip().lower() in _FULL_SETTING:
                return False
        if kw.arg in _FLAG_KWARGS and _literal(kw.value) is True:
            return _FLAG_KWARGS[kw.arg]
    return None


def code_half_precision(run: Run) -> str:
    """Why the run's code trains in float16 on every run (module docstring), or ''."""
    return stats.cached(run, "code_half_precision", lambda: _code_half_precision(run))


def _code_half_precision(run: Run) -> str:
    half: list[tuple[_Source, ast.Call]] = []
    for path, text in code_files.file_texts(run).items():
        if not path.endswith(".py") or (src := code_sites.parsed_source(path, text)) is None:
            continue
        for node in src.nodes:
            if not isinstance(node, ast.Call):
                continue
            said = _reading(src, node)
            if said is False:
                return ""  # a full-range setting too: the code alone does not settle the precision
            if said and _unconditional(src, node):
                half.append((src, node))
    if not half:
        return ""
    src, node = half[0]
    line = node.lineno
    return (f"the training code makes it float16 on every run: `{src.lines[line - 1].strip()[:100]}` "
            f"[{os.path.basename(src.path)}:{line}]" + (f" and {len(half) - 1} more such line(s)" if len(half) > 1
                                                         else ""))
