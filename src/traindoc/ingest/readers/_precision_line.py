"""The precision a trainer announces in its console, read into run.meta["precision"].

PyTorch Lightning prints its choice when the Trainer starts: "Using 16bit Automatic Mixed Precision (AMP)",
"Using 16bit native Automatic Mixed Precision (AMP)", "Using bfloat16 Automatic Mixed Precision (AMP)", and in
older releases "Using native 16bit precision."; the HF Trainer prints "Using cuda_amp half precision backend" /
"Using amp half precision backend" (float16 autocast on CUDA). The value is written in Lightning's own notation
("16-mixed", "bf16-mixed") so evidence/precision.py classifies it like a configured `precision`. A precision
already known from a structured source (metrics.jsonl meta) is kept.
"""

from __future__ import annotations

import re

from traindoc.ingest.model import Run

_LINES = (
    (re.compile(r"\bUsing (?:bfloat16|bf16)\b.*\b(?:Automatic Mixed Precision|AMP|precision)\b", re.I), "bf16-mixed"),
    (re.compile(r"\bUsing 16bit\b.*\b(?:Automatic Mixed Precision|AMP)\b", re.I), "16-mixed"),
    (re.compile(r"\bUsing native 16bit precision\b", re.I), "16-mixed"),
    (re.compile(r"\bUsing (?:cuda_)?amp (?:half precision|fp16) backend\b", re.I), "16-mixed"),
)


def precision_line(text: str, run: Run) -> bool:
    """Record an announced training precision from one log line; True when the line was one."""
    if "Using" not in text and "using" not in text:
        return False
    for rx, value in _LINES:
        if rx.search(text):
            run.meta.setdefault("precision", value)
            return True
    return False
