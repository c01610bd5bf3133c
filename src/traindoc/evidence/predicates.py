"""Expected-outcome predicates (schemas/diagnosis.schema.json $defs.predicate) evaluated on a Run.

`verify` checks a diagnosis's predicates against the new run; the diagnosis also evaluates them on the run it
diagnosed to record `observed` (the before value). Kinds:
- metric: stat(metric over window) op value;
- cause_absent: the cause is not reported above 0.5 (verify passes the calibrated confidences of its re-diagnosis;
  without them the raw detector strength is used);
- no_warning: no event with this tag.
"""

from __future__ import annotations

import operator

import numpy as np

from traindoc.evidence import stats
from traindoc.ingest.model import Run

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


def _window(pred: dict, steps: np.ndarray) -> np.ndarray:
    """Boolean mask of the points inside the predicate's window (steps and/or fractions of the step range)."""
    mask = np.ones(steps.shape, dtype=bool)
    w = pred.get("window") or {}
    if steps.size == 0:
        return mask
    lo, hi = int(steps[0]), int(steps[-1])
    span = max(hi - lo, 1)
    if w.get("start_step") is not None:
        mask &= steps >= int(w["start_step"])
    if w.get("end_step") is not None:
        mask &= steps <= int(w["end_step"])
    if w.get("start_frac") is not None:
        mask &= steps >= lo + float(w["start_frac"]) * span
    if w.get("end_frac") is not None:
        mask &= steps <= lo + float(w["end_frac"]) * span
    return mask


def metric_stat(pred: dict, run: Run) -> float | None:
    """The statistic a metric predicate asks for, over its window; None when the metric is absent/empty."""
    s = run.series(pred.get("metric", ""))
    if s is None:
        return None
    m = _window(pred, s.steps)
    vals = s.values[m]
    stat = pred.get("stat", "max")
    if stat == "count_nonfinite":
        return float((~np.isfinite(vals)).sum())
    fin = vals[np.isfinite(vals)]
    if fin.size == 0:
        # a window full of NaN: every stat but the count is "as bad as it gets"
        return float("inf") if stat not in ("min",) else float("-inf")
    if not np.isfinite(vals).all() and stat in ("max", "max_over_median", "max_over_early_median",
                                                "final_over_min", "last", "mean"):
        return float("inf")  # a NaN in the window fails "stays below" style checks
    if stat == "max":
        return float(fin.max())
    if stat == "min":
        return float(fin.min())
    if stat == "mean":
        return float(fin.mean())
    if stat == "median":
        return float(np.median(fin))
    if stat == "last":
        return float(fin[-1])
    if stat == "first":
        return float(fin[0])
    if stat == "max_over_median":
        med = float(np.median(fin))
        return float(fin.max() / med) if med > 0 else float("inf")
    if stat == "max_over_early_median":
        # growth: the largest value over the median of the first 10 % (>= 3 points), the measure of an explosion
        # (detect_grad_explosion). Unlike max_over_median it does not fail a run that learns: a grad norm that
        # falls 10x from its first steps, as it does in clipped SGD, has a small whole-run median.
        early = float(np.median(fin[: max(3, fin.size // 10)]))
        return float(fin.max() / early) if early > 0 else float("inf")
    if stat == "final_over_min":
        # on a curve smoothed over 10 % of its points: the minimum of a noisy per-step loss is one lucky batch,
        # and a healthy run's tail sits ~10 % above it (seen on the zoo's fixed runs); a smoothed minimum is not
        sm = stats.moving_mean(fin, max(1, fin.size // 10))
        mn = float(sm.min())
        tail = float(sm[-1])
        return tail / mn if mn > 0 else (1.0 if tail == mn else float("inf"))
    if stat == "rel_change":
        a = float(np.median(fin[: max(1, fin.size // 10)]))
        b = float(np.median(fin[-max(1, fin.size // 10):]))
        return (b - a) / abs(a) if a != 0 else 0.0
    if stat == "epoch_mean_increase":
        # largest increase of the per-epoch mean between consecutive epochs (0 when it never rises)
        ss = s.steps[m][np.isfinite(vals)]
        starts = [st for st, _ in run.epoch_starts] or []
        if len(starts) < 2:
            # no epochs logged: ten blocks of the points stand in for them
            k = max(1, fin.size // 10)
            means = stats.group_means(fin, np.arange(fin.size) // k)
        else:
            means = stats.group_means(fin, np.searchsorted(starts, ss, side="right"))
        inc = np.diff(means)
        return float(inc.max()) if inc.size else 0.0
    raise ValueError(f"unknown stat {stat!r}")


def evaluate(pred: dict, run: Run, confidences: dict[str, float] | None = None) -> tuple[bool, float | None]:
    """(holds, observed value). A metric the run lacks does not hold (observed None): verification needs it.

    `confidences` (cause -> calibrated confidence) comes from a later stage that re-diagnosed the run (verify);
    without it, cause_absent falls back to the raw detector strengths, which this stage can compute itself.
    """
    kind = pred.get("kind")
    if kind == "metric":
        v = metric_stat(pred, run)
        if v is None:
            return False, None
        op = _OPS[pred.get("op", "<")]
        return bool(op(v, float(pred["value"]))), v
    if kind == "cause_absent":
        from traindoc.evidence import run_detectors

        cause = pred.get("cause")
        if confidences is not None:
            conf = float(confidences.get(cause, 0.0))
        else:
            conf = max((f.strength for f in run_detectors(run) if f.cause == cause), default=0.0)
        return conf < 0.5, conf
    if kind == "no_warning":
        tag = pred.get("tag")
        n = sum(e.count for e in run.events if e.tag == tag)
        return n == 0, float(n)
    raise ValueError(f"unknown predicate kind {kind!r}")
