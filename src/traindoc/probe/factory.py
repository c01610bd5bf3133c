"""`--factory module:function`: the one place traindoc runs user code, and only the code the user names on the
command line (naming it is the consent; docs/probe.md). The function takes no arguments and returns either a dict
with keys model, batch and optionally loss_fn, optimizer, scheduler, forward, grad_filter, or a tuple
(model, batch[, loss_fn[, optimizer[, scheduler]]])."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

from traindoc.probe import ProbeError

KEYS = ("model", "batch", "loss_fn", "optimizer", "scheduler", "forward", "grad_filter")


def load_factory(spec: str) -> dict[str, Any]:
    """Import `module:function` (a dotted module found from the working directory, or a path/to/file.py), call it."""
    mod_name, sep, fn_name = spec.rpartition(":")
    if not sep or not mod_name or not fn_name.isidentifier():
        raise ProbeError(f"--factory needs module:function (or path/to/file.py:function), got {spec!r}")
    if mod_name.endswith(".py"):
        if not os.path.isfile(mod_name):
            raise ProbeError(f"no such file: {mod_name}")
        loader_spec = importlib.util.spec_from_file_location(
            "traindoc_user_factory_" + os.path.basename(mod_name)[:-3], mod_name)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[loader_spec.name] = module
        sys.path.insert(0, os.path.dirname(os.path.abspath(mod_name)))
        try:
            loader_spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - the user's module failed to import
            raise ProbeError(f"importing {mod_name} raised {type(e).__name__}: {e}") from None
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            raise ProbeError(f"cannot import {mod_name}: {e}") from None
        except Exception as e:  # noqa: BLE001 - the user's module failed to import
            raise ProbeError(f"importing {mod_name} raised {type(e).__name__}: {e}") from None
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise ProbeError(f"{mod_name} has no function {fn_name}")
    try:
        got = fn()
    except Exception as e:  # noqa: BLE001 - the user's code failed: one line naming it, not our traceback
        raise ProbeError(f"the factory {spec} raised {type(e).__name__}: {e}") from None
    if isinstance(got, dict):
        unknown = set(got) - set(KEYS)
        if unknown:
            raise ProbeError(f"the factory returned unknown keys {sorted(unknown)}; known: {', '.join(KEYS)}")
        parts = dict(got)
    elif isinstance(got, (tuple, list)) and 2 <= len(got) <= 5:
        parts = dict(zip(KEYS, got, strict=False))
    else:
        raise ProbeError("the factory must return a dict (model, batch, ...) or a tuple (model, batch[, loss_fn"
                         "[, optimizer[, scheduler]]])")
    if "model" not in parts or "batch" not in parts:
        raise ProbeError("the factory must return at least a model and a batch")
    return parts


def load_checkpoint(model: Any, path: str) -> None:
    """Load weights into the factory's model: tensors only (weights_only=True never unpickles code)."""
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable checkpoint is one line for the user
        raise ProbeError(f"cannot read checkpoint {path}: {type(e).__name__}: {e}") from None
    if isinstance(obj, dict):
        for key in ("model", "state_dict", "model_state_dict", "model_state"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise ProbeError(f"{path} holds no state dict")
    try:
        model.load_state_dict(obj)
    except RuntimeError as e:
        raise ProbeError(f"{path} does not fit the factory's model: {str(e).splitlines()[0]}") from None
