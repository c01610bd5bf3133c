"""A dynamic loss scale that dipped low and climbed back, in a run that kept its updates and kept improving.

detect_fp16_overflow reads a scale driven below 2^8 as a real overflow: a gradient element above 65504 / 2^8 ~ 256.
That reading holds for a scale that stays down. A scaler also dips on a handful of outlier batches (a long
sequence, a rare token) and then climbs back, which is the routine scale search (docs/diagnose.md, fp16_overflow;
Micikevicius et al. 2018, "Mixed Precision Training", §3.2) at a lower point, not a failure. Three facts together
tell the dip from the failure, and each is read from the log:

1. the scale climbed back to >= 2^8 (SCALE_BACK) after its minimum: a scaler raises its scale only after a window of
   overflow-free steps (torch GradScaler's growth_interval 2000, apex 2000, DeepSpeed's loss_scale_window 1000 by
   default), so a scale back in the healthy band took log2(end / minimum) clean windows: the gradients fit again;
2. few steps were skipped: <= SKIP_SHARE of the run. Every overflow skips its update; a scaler that cannot settle
   skips on every growth attempt and more, one that searches skips a handful per dip;
3. training still improves: a held-out task metric's error, or the training (or held-out) loss, ends materially
   (>= heldout.MATERIAL, 3 %) below where it started. A real overflow failure stalls or degrades the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traindoc.evidence.context import loss_series, run_length
from traindoc.evidence.heldout import HELDOUT_LOSS, MATERIAL, task_metrics
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run, Series

# the same band boundary as numerics.SCALE_LOW: at >= 2^8 a gradient element fits below 65504 / 2^8 ~ 256, the
# range of a network that trains
SCALE_BACK = 2.0 ** 8
# 5 % of the updates: a scaler at equilibrium skips about one step per growth window (1/1000-1/2000, the defaults
# above), and a dip costs one skip per halving (log2(2^16 / 2^3) = 13 for a dip from 65536 to 8); a share twenty
# times the window rate or more (>= 5 %) is a scaler that keeps failing, not a search, and a run that loses a
# twentieth of its updates has lost training, whatever its scale does
SKIP_SHARE = 0.05
MIN_LOSS_POINTS = 5  # fewer points give quarters of one value each: a single noisy batch, not a trend


@dataclass(frozen=True)
class ScaleRecovery:
    """A dip that recovered: the evidence sentence and its figures."""

    lowest: float
    end: float
    skipped: int
    steps: int
    improves: str

    @property
    def evidence(self) -> str:
        return (f"the loss scale dipped to {fmt(self.lowest)} and climbed back to {fmt(self.end)} (>= 2^8: overflow-"
                f"free windows again), {self.skipped} of {self.steps} steps skipped "
                f"({100 * self.skipped / self.steps:.1f} %, <= {100 * SKIP_SHARE:.0f} %), and {self.improves}: the "
                f"scaler's routine search at a low point, not an overflow failure")


def _trajectory(run: Run, scale_messages: list[float]) -> list[float]:
    """The scale in time order: a logged loss_scale series that moves, else the values the scaler's messages name
    (in log order)."""
    ls = run.series("loss_scale")
    if ls is not None:
        _, v = ls.finite()
        if v.size >= 2 and float(v.min()) < float(v[0]):
            return [float(x) for x in v if x > 0]
    return [x for x in scale_messages if x > 0]


def _skipped(run: Run, overflows: int) -> int:
    """Skipped steps: a trainer's own cumulative count (DeepSpeed's "skipped=N") when logged, else the overflows."""
    sk = run.series("skipped")
    if sk is not None:
        _, v = sk.finite()
        if v.size:
            return int(np.max(v))
    return overflows


def _falls(s: Series | None) -> tuple[float, float] | None:
    """(start, end) medians of the first and last quarter of a positive loss when the end is materially lower."""
    if s is None:
        return None
    _, v = s.finite()
    if v.size < MIN_LOSS_POINTS or float(np.min(v)) <= 0:
        return None
    q = max(1, v.size // 4)
    start, end = float(np.median(v[:q])), float(np.median(v[-q:]))
    return (start, end) if end <= (1 - MATERIAL) * start else None


def still_improves(run: Run) -> str | None:
    """How the run shows it still learns at the end, or None: a held-out task metric that ends materially better
    than its first evaluation (two evaluations are enough: before and after), else a held-out or training loss
    whose last quarter sits materially below its first."""
    for m in task_metrics(run, min_points=2):
        if m.reduction(float(m.error[0]), float(m.error[-1])) >= MATERIAL:
            return f"{m.name} improves from {fmt(m.value(float(m.error[0])))} to {fmt(m.value(float(m.error[-1])))}"
    for name, s in sorted(run.metrics.items()):
        if HELDOUT_LOSS.match(name.strip()) and (f := _falls(s)) is not None:
            return f"{name} falls from {fmt(f[0])} to {fmt(f[1])}"
    if (f := _falls(loss_series(run))) is not None:
        return f"the training loss falls from {fmt(f[0])} to {fmt(f[1])}"
    return None


def scale_recovered(run: Run, scale_messages: list[float], overflows: int) -> ScaleRecovery | None:
    """The dip-and-recovery reading (module docstring), or None when any of its three facts is missing."""
    traj = _trajectory(run, scale_messages)
    if len(traj) < 2:
        return None
    low_at = int(np.argmin(traj))
    lowest, end = traj[low_at], traj[-1]
    if low_at == len(traj) - 1 or end < SCALE_BACK:
        return None
    steps = run_length(run)
    skipped = _skipped(run, overflows)
    if steps <= 0 or skipped > SKIP_SHARE * steps:
        return None
    improves = still_improves(run)
    if improves is None:
        return None
    return ScaleRecovery(lowest, end, skipped, steps, improves)
