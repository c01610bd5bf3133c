"""What to do about each cause: the issue sentence, the fix, its impact/effort/risk and quick wins (each cause's
`remedy` in src/traindoc/causes/<id>.py), and the outcomes `verify` checks on the next run (its `outcomes`).
Concrete changes come from the findings (config key + file:line + before/after) and from
traindoc.evidence.code_sites (code file:line + template)."""

from __future__ import annotations

from typing import Any

from traindoc.causes import CAUSES
from traindoc.causes.model import NoWarning, Remedy

REMEDIES: dict[str, Remedy] = {cid: c.remedy for cid, c in CAUSES.items()}
LR_METRICS = ("lr", "lr/muon", "lr/adam")  # what "lr*" in an outcome stands for: the first of these the run logs


def _pred(kind: str, description: str, **kw: Any) -> dict[str, Any]:
    d = {"kind": kind, "description": description}
    d.update({k: v for k, v in kw.items() if v is not None})
    return d


def expected_outcomes(cause: str, numbers: dict[str, Any], metrics: set[str]) -> list[dict[str, Any]]:
    """Predicates `verify` checks on the new run. Metric predicates only for metrics the run logs."""
    out: list[dict[str, Any]] = []
    boundary = numbers.get("stage_boundary") or numbers.get("boundary_step")
    for o in CAUSES[cause].outcomes if cause in CAUSES else ():
        if isinstance(o, NoWarning):
            out.append(_pred("no_warning", o.description, tag=o.tag))
            continue
        metric = next((m for m in LR_METRICS if m in metrics), None) if o.metric == "lr*" else o.metric
        if metric is None or metric not in metrics:
            continue
        window = o.window
        if window == "boundary":
            window = {"start_step": int(boundary)} if boundary else None
        where = f" after step {boundary}" if boundary else " over the run"
        out.append(_pred("metric", o.description.format(where=where, metric=metric), metric=metric, stat=o.stat,
                         op=o.op, value=o.value, window=window))
    out.append(_pred("cause_absent", f"{cause} is no longer diagnosed (confidence < 0.5)", cause=cause))
    return out
