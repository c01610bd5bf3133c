"""`traindoc verify --html FILE`: one page with the diagnosed run and the new run on the same axes, each expected
outcome of a metric drawn as its threshold on the new run's scale, and the verdict table.

The diagnosed run is re-read from the sources its diagnosis recorded (paths as given to diagnose, so relative to
where it ran); when they are gone the page says so and plots the new run alone.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from traindoc.diagnosis.render import PLOTTED, num
from traindoc.diagnosis.svgplot import COLORS, Line, Plot, Threshold
from traindoc.diagnosis.svgplot import render as svg_render
from traindoc.evidence.predicates import metric_stat
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run

# Stats whose threshold is a level of the metric itself: (level from the predicate's value, on the new run).
# Ratios are turned into a level with the new run's own median or minimum; a count or a change has no level.
_DIRECT = {"max", "min", "mean", "median", "last", "first"}


def threshold(pred: dict[str, Any], run: Run) -> Threshold | None:
    stat, value = pred.get("stat"), pred.get("value")
    if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return None
    op = pred.get("op", "")
    if stat in _DIRECT:
        return Threshold(float(value), f"expected: {stat} {op} {num(value)}")
    base_stat = {"max_over_median": "median", "final_over_min": "min"}.get(str(stat))
    if base_stat is None:
        return None
    base = metric_stat({**pred, "stat": base_stat}, run)
    if base is None or not math.isfinite(base) or base <= 0:
        return None
    return Threshold(float(value) * base, f"expected {op} {num(value)}× the new {base_stat} ({num(value * base)})")


def original_run(original: dict[str, Any]) -> tuple[Run | None, str]:
    paths = [s["path"] for s in original.get("run", {}).get("sources", []) if Path(s.get("path", "")).exists()]
    if not paths:
        return None, "the diagnosed run's files are not where the diagnosis found them: only the new run is drawn"
    return load_run(paths), ""


def overlay_plots(original: dict[str, Any], before: Run | None, after: Run) -> list[dict[str, Any]]:
    preds: dict[str, list[dict[str, Any]]] = {}
    for rc in original.get("root_causes", []):
        if float(rc.get("confidence", 0)) > 0.5:
            for p in rc.get("expected_outcome") or []:
                if p.get("kind") == "metric" and p.get("metric"):
                    preds.setdefault(p["metric"], []).append(p)
    out = []
    for name, unit, how in PLOTTED:
        new = after.series(name)
        old = before.series(name) if before is not None else None
        if (new is None and old is None) or (name == "lr/muon" and after.series("lr") is not None):
            continue
        lines = []
        if old is not None:
            lines.append(Line(old.steps, old.values, "diagnosed run", COLORS[1], how))
        if new is not None:
            lines.append(Line(new.steps, new.values, "new run", COLORS[0], how))
        thresholds = [t for t in (threshold(p, after) for p in preds.get(name, [])) if t is not None]
        svg = svg_render(Plot(name, lines, thresholds=thresholds, unit=unit))
        if svg:
            out.append({"svg": Markup(svg), "caption": name})
    return out


def to_html(result: dict[str, Any], original: dict[str, Any], after: Run) -> str:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        before, note = original_run(original)
        plots = overlay_plots(original, before, after)
    env = Environment(loader=PackageLoader("traindoc", "templates"), autoescape=True)
    env.globals.update(num=num)
    return env.get_template("verify.html.j2").render(r=result, plots=plots, note=note,
                                                     original_paths=original.get("run", {}).get("paths", []))
