"""Parameter counts that trainers print, read from any text log into run.meta["param_summary"].

Lightning's model summary ("1.2 M     Trainable params", or the rich "Trainable params: 1.2 M"), Keras'
model.summary() ("Trainable params: 1,234 (4.82 KB)"), PEFT ("trainable params: 294,912 || all params:
124,734,720"), HF Trainer's banner ("Number of trainable parameters = N"), timm's train.py ("param count:
25557032"), nanoGPT ("number of parameters: 10.65M"). They give totals, not roles: the trainable share is what
frozen_params reads from them. Lightning also prints the parameters' size ("Total estimated model params size (MB)"),
which it computes at the trainer's precision: with the total count it gives the bytes per parameter
(evidence/precision.py: sixteen_bit_weights).
"""

from __future__ import annotations

import re

from traindoc.ingest.model import Run

_N = r"([\d.,]+\s*[KMBT]?)"
# Keras 3 follows a count with its size in bytes: "(4.82 KB)"
_SIZE = r"(?:\s*\([\d.,]+\s*[KMGT]?B\))?"
_PARAM_LINES = [
    (re.compile(rf"^{_N}\s+Trainable params$"), "trainable"),
    (re.compile(rf"^{_N}\s+Non-trainable params$"), "non_trainable"),
    (re.compile(rf"^{_N}\s+Total params$"), "total"),
    (re.compile(rf"^Trainable params: {_N}{_SIZE}$"), "trainable"),
    (re.compile(rf"^Non-trainable params: {_N}{_SIZE}$"), "non_trainable"),
    (re.compile(rf"^Total params: {_N}{_SIZE}$"), "total"),
    (re.compile(r"trainable params: ([\d,]+) \|\| all params: ([\d,]+)"), "peft"),
    (re.compile(r"Number of trainable parameters = ([\d,]+)"), "trainable"),
    (re.compile(r"\bparam count:\s*([\d.,]+[KMB]?)$"), "total"),
    (re.compile(r"^number of parameters: ([\d.]+[KMB]?)$"), "total"),
    # Lightning's summary sizes the parameters at the trainer's precision: total x bits / 8 / 1e6
    (re.compile(r"^([\d.,]+)\s+Total estimated model params size \(MB\)$"), "size_mb"),
    (re.compile(r"^Total estimated model params size \(MB\):\s*([\d.,]+)$"), "size_mb"),
]
_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def _count(text: str) -> int | None:
    t = text.replace(",", "").replace(" ", "")
    mult = _SCALE.get(t[-1:], 1.0)
    try:
        return int(round(float(t.rstrip("KMBT")) * mult))
    except ValueError:
        return None


def param_line(text: str, run: Run, path: str) -> bool:
    """Record a printed parameter count from one log line; True when the line was one."""
    if "params" not in text and "parameters" not in text and "param count" not in text:
        return False
    text = text.strip()
    for rx, field in _PARAM_LINES:
        m = rx.search(text)
        if not m:
            continue
        summary = run.meta.setdefault("param_summary", {})
        if field == "peft":
            summary["trainable"], summary["total"] = _count(m.group(1)), _count(m.group(2))
            summary["adapter"] = True  # an adapter trains a small share by design
        elif field == "size_mb":
            try:
                summary[field] = float(m.group(1).replace(",", ""))
            except ValueError:
                return False
        else:
            summary[field] = _count(m.group(1))
        summary["source"] = path  # "0 Trainable params" itself is a catalogue event (no_trainable_params)
        return True
    return False
