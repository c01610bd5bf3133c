"""The probes never change the user's objects: forward-only probes run under torch.no_grad on the user's model
(restoring its train/eval flags); anything that calls backward() or step() runs on a deep copy of model,
optimiser and scheduler taken together (one deepcopy, so the copied optimiser holds the copied parameters and the
copied scheduler the copied optimiser). A GPU is used only when the user names it."""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn as nn

from traindoc.probe import ProbeError


def check_device(model: nn.Module, batch: Any, device: str | None) -> None:
    """Refuse to run on an accelerator the user did not name (a probe must never grab someone's training GPU)."""
    used = {p.device.type for p in model.parameters()} | {b.device.type for b in model.buffers()}
    for t in _tensors(batch):
        used.add(t.device.type)
    used.discard("cpu")
    if used and (device is None or torch.device(device).type not in used):
        raise ProbeError(f"the model or batch is on {', '.join(sorted(used))}: probes run on CPU unless you name the "
                         f"device (device='cuda' or --device cuda)")


def _tensors(batch: Any) -> list[torch.Tensor]:
    if isinstance(batch, torch.Tensor):
        return [batch]
    if isinstance(batch, dict):
        return [v for v in batch.values() if isinstance(v, torch.Tensor)]
    if isinstance(batch, (tuple, list)):
        return [v for v in batch if isinstance(v, torch.Tensor)]
    return []


def copies(model: nn.Module, optimizer: Any = None, scheduler: Any = None) -> tuple[nn.Module, Any, Any]:
    """Independent copies of (model, optimizer, scheduler), still wired to each other."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return copy.deepcopy((model, optimizer, scheduler))


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """model.eval() for deterministic forwards (no dropout), every module's own flag restored afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, t in flags:
            m.training = t


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Library warnings (scheduler order, var() of one element ...) say nothing about the probe's result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
