"""The precision a trainer announces in its console, read into run.meta["precision"].

PyTorch Lightning prints its choice when the Trainer starts: "Using 16bit Automatic Mixed Precision (AMP)",
"Using 16bit native Automatic Mixed Precision (AMP)", "Using bfloat16 Automatic Mixed Precision (AMP)", and in
older releases "Using native 16bit precision."; the HF Trainer prints "Using cuda_amp half precision backend" /
"Using amp half precision backend" (float16 autocast on CUDA). Other trainers state it in their own start-up
print, each read only where it names the format:
- Hugging Face Accelerate's `print(accelerator.state)`: "Mixed precision type: fp16" (or bf16, no);
- TensorFlow/Keras, on `mixed_precision.set_global_policy(...)`: "Mixed precision compatibility check
  (mixed_float16): OK" (or its warning form; the policy is named either way);
- NVIDIA apex `amp.initialize`: "Selected optimization level O1: ..." (O0 is fp32, O1/O2 autocast or fp16 model
  with fp32 master weights, O3 a pure fp16 model);
- DeepSpeed's engine configuration dump: "fp16_enabled ....... True", "bfloat16_enabled ....... True";
- a printed TrainingArguments repr (`logger.info(f"Training/evaluation parameters {training_args}")` in the HF
  example scripts, one field a line: "fp16=True,") or an argument table ("fp16    :True", PaddleNLP's): only a
  flag that is on names the format (every other field of those dumps prints too, off or on).
The value is written in Lightning's own notation ("16-mixed", "16-true", "bf16-mixed", "32") so
evidence/precision.py classifies it like a configured `precision`. A precision already known from a structured
source (metrics.jsonl meta) is kept.
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
# (pattern, {captured word: value}); a word not in the map (accelerate's "fp8") records nothing
_NAMED = (
    (re.compile(r"\bMixed precision type:\s*(fp16|bf16|no)\b", re.I), {"fp16": "16-mixed", "bf16": "bf16-mixed",
                                                                        "no": "32"}),
    (re.compile(r"\bMixed precision compatibility check \((mixed_float16|mixed_bfloat16)\)", re.I),
     {"mixed_float16": "16-mixed", "mixed_bfloat16": "bf16-mixed"}),
    (re.compile(r"\bSelected optimization level (O[0-3])\b"), {"O0": "32", "O1": "16-mixed", "O2": "16-mixed",
                                                                "O3": "16-true"}),
    (re.compile(r"\b(fp16|bfloat16|bf16)_enabled\s*\.{2,}\s*True\b"), {"fp16": "16-mixed", "bfloat16": "bf16-mixed",
                                                                      "bf16": "bf16-mixed"}),
    (re.compile(r"^\s*(fp16|bf16)\s*[:=]\s*True\s*,?\s*$", re.I), {"fp16": "16-mixed", "bf16": "bf16-mixed"}),
)
# cheap substrings one of which every line above holds: most lines of a big log skip the regexes
_HINTS = ("sing", "recision", "optimization level", "_enabled", "fp16", "bf16", "FP16", "BF16")


def precision_line(text: str, run: Run) -> bool:
    """Record an announced training precision from one log line; True when the line was one."""
    if not any(h in text for h in _HINTS):
        return False
    for rx, value in _LINES:
        if rx.search(text):
            run.meta.setdefault("precision", value)
            return True
    for rx, values in _NAMED:
        m = rx.search(text)
        if m is not None:
            key = next((k for k in values if k.lower() == m.group(1).lower()), None)
            if key is None:
                return False
            run.meta.setdefault("precision", values[key])
            return True
    return False
