"""How the probes call the user's model: the batch's layout, the forward call, the loss, the logits, and where a
module or parameter is defined (file:line, for the evidence).

Batch conventions (override with `forward=` / `loss_fn=` when a model differs):
  * a dict            -> model(**batch)            (Hugging Face style; `labels` is the target)
  * a tuple/list      -> model(batch[0])           (the (inputs, targets) pair of a DataLoader)
  * a tensor          -> model(batch)
  * `forward(model, batch)` replaces the call, `loss_fn(output, batch)` the loss.
The default loss is `output.loss` when the output carries one, else cross-entropy for integer targets and MSE for
float targets.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from traindoc.probe import ProbeError  # noqa: F401 - re-exported for the probes


def logits_of(output: Any) -> torch.Tensor | None:
    """The prediction tensor of a forward output: the tensor itself, `.logits`, or the first tensor of a tuple."""
    if isinstance(output, torch.Tensor):
        return output
    lg = getattr(output, "logits", None)
    if isinstance(lg, torch.Tensor):
        return lg
    if isinstance(output, dict) and isinstance(output.get("logits"), torch.Tensor):
        return output["logits"]
    if isinstance(output, (tuple, list)):
        for x in output:
            if isinstance(x, torch.Tensor) and x.is_floating_point():
                return x
    return None


@dataclass
class ModelCall:
    """The user's model, batch and loss, with the defaults above resolved."""

    batch: Any
    forward_fn: Callable[[nn.Module, Any], Any] | None = None
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None

    def forward(self, model: nn.Module, batch: Any | None = None) -> Any:
        b = self.batch if batch is None else batch
        if self.forward_fn is not None:
            return self.forward_fn(model, b)
        if isinstance(b, dict):
            return model(**b)
        if isinstance(b, (tuple, list)):
            return model(b[0])
        return model(b)

    def loss(self, model: nn.Module, batch: Any | None = None) -> tuple[torch.Tensor, Any]:
        """(scalar loss, raw output) of one forward pass."""
        b = self.batch if batch is None else batch
        out = self.forward(model, b)
        if self.loss_fn is not None:
            loss = self.loss_fn(out, b)
        elif isinstance(getattr(out, "loss", None), torch.Tensor):
            loss = out.loss
        elif isinstance(out, dict) and isinstance(out.get("loss"), torch.Tensor):
            loss = out["loss"]
        else:
            logits, y = logits_of(out), self.targets(b)
            if logits is None or y is None:
                raise ProbeError("cannot tell the loss: the output has no .loss and the batch no targets; "
                                 "pass loss_fn=(output, batch) -> loss")
            if not y.is_floating_point() and logits.dim() >= 2 and logits.shape[:-1] == y.shape:
                loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1), ignore_index=-100)
            else:
                loss = F.mse_loss(logits.float(), y.float().reshape(logits.shape))
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ProbeError("the loss must be a scalar tensor")
        return loss.reshape(()), out

    def inputs(self, batch: Any | None = None) -> torch.Tensor | None:
        """The model's main input tensor (token ids for a language model)."""
        b = self.batch if batch is None else batch
        if isinstance(b, torch.Tensor):
            return b
        if isinstance(b, dict):
            for k in ("input_ids", "x", "inputs", "input"):
                if isinstance(b.get(k), torch.Tensor):
                    return b[k]
            return next((v for v in b.values() if isinstance(v, torch.Tensor)), None)
        if isinstance(b, (tuple, list)) and b and isinstance(b[0], torch.Tensor):
            return b[0]
        return None

    def with_inputs(self, new: torch.Tensor) -> Any:
        """The batch with its main input tensor replaced (everything else, targets included, kept)."""
        b = self.batch
        if isinstance(b, torch.Tensor):
            return new
        if isinstance(b, dict):
            key = next(k for k, v in b.items() if v is self.inputs())
            return {**b, key: new}
        return type(b)([new, *b[1:]]) if isinstance(b, tuple) else [new, *b[1:]]

    def rows(self, n: int) -> ModelCall:
        """The same call on the first n examples of the batch (every tensor whose first dim is the batch size):
        probes that only need a few examples stay cheap on big models."""
        x = self.inputs()
        if x is None or x.dim() == 0 or x.shape[0] <= n:
            return self
        B = x.shape[0]

        def cut(v: Any) -> Any:
            return v[:n] if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == B else v

        b = self.batch
        if isinstance(b, dict):
            new: Any = {k: cut(v) for k, v in b.items()}
        elif isinstance(b, (tuple, list)):
            new = type(b)(cut(v) for v in b)
        else:
            new = cut(b)
        return ModelCall(new, self.forward_fn, self.loss_fn)

    def targets(self, batch: Any | None = None) -> torch.Tensor | None:
        b = self.batch if batch is None else batch
        if isinstance(b, dict):
            for k in ("labels", "label", "targets", "target", "y"):
                if isinstance(b.get(k), torch.Tensor):
                    return b[k]
            return None
        if isinstance(b, (tuple, list)) and len(b) >= 2 and isinstance(b[1], torch.Tensor):
            return b[1]
        return None


def where(obj: Any) -> str:
    """'path:line' of the class (or function) that defines obj, relative to the working directory when inside it."""
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    try:
        path = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return f"{target.__module__}.{target.__qualname__}"
    if path is None:
        return f"{target.__module__}.{target.__qualname__}"
    rel = os.path.relpath(path)
    return f"{path if rel.startswith('..') else rel}:{line}"


def _is_library(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.split(".")[0] in ("torch", "transformers", "lightning", "pytorch_lightning", "timm")


def _assignment_line(cls: type, attr: str) -> int | None:
    """The line of `self.<attr> =` in cls's source (where a sub-module is created), when there is one."""
    try:
        lines, start = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    for i, text in enumerate(lines):
        stripped = text.strip()
        if stripped.startswith(f"self.{attr} =") or stripped.startswith(f"self.{attr}:"):
            return start + i
    return None


def site(model: nn.Module, name: str) -> dict[str, Any]:
    """Where a module or parameter is defined, in the user's code: the nearest enclosing module whose class is not
    a library's (torch.nn.Linear's file says nothing), at the line that creates the named child when found."""
    modules = dict(model.named_modules())
    owner = name
    while owner and owner not in modules:
        owner = owner.rpartition(".")[0]
    mod_name = owner
    while mod_name and _is_library(modules[mod_name]):
        mod_name = mod_name.rpartition(".")[0]
    mod = modules.get(mod_name, model)
    loc = where(mod)
    path, _, line = loc.rpartition(":")
    child = name[len(mod_name) + 1:].split(".")[0] if mod_name else name.split(".")[0]
    at = _assignment_line(type(mod), child) if child else None
    if at is not None and path:
        line, loc = str(at), f"{path}:{at}"
    owner_mod = modules.get(owner, model)
    return {"module": owner or type(model).__name__, "class": type(owner_mod).__name__, "where": loc,
            "file": path or None, "line": int(line) if line.isdigit() else None}


def named(model: nn.Module, name: str) -> str:
    """'name (Class, file:line)' for evidence strings."""
    s = site(model, name)
    return f"{name} ({s['class']}, {s['where']})"


def fmt(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return str(x)
    return f"{x:.3g}"
