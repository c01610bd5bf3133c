"""A float16 run whose logged LR is 0 at every point while a warmup is configured: every optimizer step was skipped.

The HF Trainer steps its LR scheduler only after an optimizer step the loss scaler did not skip, and DeepSpeed's fp16
engine skips the scheduler with the step; torch's GradScaler skips a step whose gradients overflow. A linear warmup
starts at 0 and is above 0 after its first applied update, so an LR of 0 logged at two or more distinct steps after
the first means no update was applied in between: under float16 the scaler found overflowing gradients on every
step and its halving never brought them into range. In a bf16/fp32 run (no scaler) or with no warmup the same zeros
are the schedule's own (detectors/not_learning.py, detect_scheduler_misuse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence.context import cite_config, cite_series, config_number, logged_lr, loss_series
from traindoc.evidence.precision import training_precision
from traindoc.ingest.model import Run


@dataclass(frozen=True)
class SkippedWarmup:
    step: int          # the first logged step with the LR at 0
    evidence: str


def skipped_warmup(run: Run) -> SkippedWarmup | None:
    """The reading above, or None: a stated float16 run, a warmup > 0 configured, a loss logged, and the LR exactly
    0 at >= 2 logged points at distinct steps >= 1 (all of them)."""
    prec = training_precision(run)
    if not prec.half:
        return None
    wv, wcv = config_number(run, *KEYS["warmup_steps"])
    if wv is None or wv <= 0 or wcv is None or loss_series(run) is None:
        return None
    s = logged_lr(run)
    if s is None:
        return None
    st, v = s.finite()
    if v.size < 2 or st[-1] <= st[0] or st[0] < 1 or float(np.abs(v).max()) != 0:
        return None
    return SkippedWarmup(
        int(st[0]),
        f"{s.name} is 0 at all {v.size} logged points ({int(st[0])}..{int(st[-1])}) with "
        f"{wcv.key}={wcv.text or wcv.value} {cite_config(wcv)} in a float16 run ({prec.evidence}): a warmup from 0 "
        f"is above 0 after its first applied update, and the trainer steps the scheduler only after a step the loss "
        f"scaler did not skip, so every step overflowed {cite_series(s)}")
