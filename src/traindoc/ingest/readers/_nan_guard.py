"""The lines a trainer prints when it stops on a non-finite loss, read as the loss points they report.

Two shapes, whatever family the rest of the log is (a family parser never sees them as metric lines):

- The guard that prints the loss: "Loss is nan, stopping training" (the `train_one_epoch` loops of torchvision's
  references, DETR, DeiT, MAE and the codebases copied from them), "Loss is inf", NeMo's "Loss is NaN". The value is
  the training loss of the step that failed: one step after the last logged one (the guard checks every step, the
  log prints every few), never on that logged step, whose finite value it would replace. Only non-finite values (a
  finite "loss is 2.3" is a sentence the generic rules read), and only without a step of its own ("loss is inf,
  stopping training at step 48" is the generic rules' too: any digit after it).
- detectron2's anomaly check (`detectron2/engine/train_loop.py: _detect_anomaly`): "FloatingPointError: Loss became
  infinite or NaN at iteration=27!" and, on the next line, the loss dict it summed ("loss_dict = {'loss_cls':
  tensor(nan, device='cuda:0', ...), 'loss_box_reg': tensor(0.2576, ...)}", older versions and derived trainers
  plain floats). Each entry is that iteration's value of the loss term; their sum, the total detectron2 checks, is
  its training loss ("total_loss" in its own event lines), non-finite by the message itself. An excerpt that kept
  only the dict line, with a NaN/Inf entry, is the same check firing: its iteration unknown, it goes one step after
  the last logged one, as the guard above does; a dict of finite values alone is no guard.

Where the guard goes: one step after the last step the log gave, as above; that step may come from a bare counter
line with no metric of its own ("Step: 13550" every few steps, NeMo's `Step: N` above "Finished epoch 250", "Iteration
400", "global_step=1200") when it is newer than the last metric line. Such a line is the trainer's own count of the
updates done (`step_marker`), the only position an excerpt with no metric line gives the NaN; an epoch announcement
after it ("Starting epoch 251") is the NaN's epoch, no step (a coarser clock than the counter before it).

Without these points an excerpt of one finite line and the guard, or of the anomaly message alone, has no NaN in any
series and reads as insufficient data (issue 8).
"""

from __future__ import annotations

import math
import re

from traindoc.ingest.readers.textlog_formats import NUM, POSITION_ONLY, Record, parse_number

_LOSS_GUARD = re.compile(r"^loss (?:is|became) ([-+]?(?:nan|inf|infinity))\b(?!.*\d)", re.IGNORECASE)
_D2_ANOMALY = re.compile(r"Loss became infinite or NaN at iteration=(\d{1,18})")
_D2_DICT = re.compile(r"^loss_dict = \{(.*)\}\s*$")
_D2_ENTRY = re.compile(rf"'([A-Za-z_][\w./-]*)':\s*(?:tensor\(\s*)?({NUM}|[-+]?(?:nan|inf))\b")


def loss_guard(text: str, step: int) -> Record | None:
    """The NaN/Inf loss a guard line prints, at `step`; None for any other line."""
    m = _LOSS_GUARD.match(text) if text[:1] in "Ll" else None
    if m is None:
        return None
    value = parse_number(m.group(1))
    return None if value is None else Record(step, {"loss": value})


def step_marker(text: str) -> tuple[str, int] | None:
    """("step", N) for a bare counter line ("Step: 13550", "Iteration 400", "global_step=1200"), ("epoch", E) for an
    epoch announcement ("Starting epoch 251", "Epoch 3/10"), else None: the textlog_formats rule for lines that
    carry only their position (POSITION_ONLY), shared so both read the same lines."""
    m = POSITION_ONLY.match(text) if any(c.isdigit() for c in text[-24:]) else None
    if m is None:
        return None
    return ("epoch" if m.group(1).lower() == "epoch" else "step", int(m.group(2)))


def anomaly_iteration(text: str) -> int | None:
    """The iteration of detectron2's "Loss became infinite or NaN at iteration=N!" message, else None."""
    m = _D2_ANOMALY.search(text) if "Loss became" in text else None
    return int(m.group(1)) if m else None


def anomaly_loss_dict(text: str, iteration: int, message_seen: bool = True) -> Record | None:
    """The loss dict printed under that message, as the iteration's loss terms and their non-finite total; without
    the message before it, only a dict that holds a NaN/Inf entry."""
    m = _D2_DICT.match(text) if text.startswith("loss_dict") else None
    if m is None:
        return None
    terms: dict[str, float] = {}
    for name, raw in _D2_ENTRY.findall(m.group(1)):
        value = parse_number(raw)
        if value is not None:
            terms[name] = value
    if not terms or (not message_seen and all(math.isfinite(v) for v in terms.values())):
        return None
    total = math.fsum(terms.values()) if all(math.isfinite(v) for v in terms.values()) else sum(terms.values())
    return Record(iteration, {**terms, "loss": total})
