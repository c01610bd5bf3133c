"""Render a diagnosis document: markdown (the layout of
skills/ml-training-debugger/references/output-format.md) and one self-contained HTML page
with inline SVG plots (diagnosis/svgplot.py). Both through jinja2; the HTML environment autoescapes, so log text can
never inject markup."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from traindoc.diagnosis.build import has_validation, needs_validation
from traindoc.diagnosis.svgplot import Line, Mark, Plot
from traindoc.diagnosis.svgplot import render as svg_render
from traindoc.ingest.model import Run


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * float(x):.0f}%"


def num(x: Any) -> str:
    from traindoc.evidence.stats import fmt

    try:
        return fmt(float(x))
    except (TypeError, ValueError):
        return str(x)


def _first_line(s: Any) -> str:
    text = str(s)
    return text.splitlines()[0] if text.strip() else text


def _env(html: bool) -> Environment:
    env = Environment(loader=PackageLoader("traindoc", "templates"), autoescape=html,
                      keep_trailing_newline=True, trim_blocks=False, lstrip_blocks=False)
    env.globals.update(pct=pct, num=num)
    env.filters["first_line"] = _first_line
    return env


def _split(doc: dict[str, Any]) -> dict[str, Any]:
    roots = doc.get("root_causes", [])
    confirmed = [r for r in roots if r["confidence"] >= 0.5]
    possible = [r for r in roots if r["confidence"] < 0.5]
    return {"doc": doc, "confirmed": confirmed, "possible": possible, "top": confirmed[0] if confirmed else None}


def to_markdown(doc: dict[str, Any]) -> str:
    return _env(False).get_template("diagnosis.md.j2").render(**_split(doc))


# ------------------------------------------------------------------------------------------------------- plots
# The series the report plots, in order: (metric, unit, block reduction). A grad norm keeps its block maximum so a
# spike survives the reduction; the rest keep their block mean.
PLOTTED = (("loss", "loss", "mean"), ("eval_loss", "loss", "mean"), ("grad_norm", "norm", "max"),
           ("lr", "learning rate", "mean"), ("lr/muon", "learning rate", "mean"),
           ("act_halt_var", "variance", "mean"))
# "at step 243", "from step 255", "(steps 200..399)": the steps an evidence line cites
STEP_CITE = re.compile(r"\bsteps? (\d+)(?:\s*\.\.\s*(\d+))?")
LABEL_CHARS = 34  # a mark label longer than this is cut at a word boundary; the tooltip has the whole line


def _short(text: str) -> str:
    """The readable head of an evidence line: its first clause, without the source in brackets."""
    text = re.sub(r"\s*\[[^\]]*\]\s*$", "", text)
    text = re.sub(r"\s*\b(?:at|from|by|after|since) steps? \d+(?:\s*\.\.\s*\d+)?", "", text)  # the mark shows it
    text = re.sub(r"\S*/\S*:\d+:\s*", "", text)  # a warning's file:line prefix: the tooltip keeps it
    text = re.split(r";| \(", text, maxsplit=1)[0].strip(" ,:")
    if len(text) > LABEL_CHARS:
        text = text[:LABEL_CHARS].rsplit(" ", 1)[0] + "…"
    return text


def evidence_marks(doc: dict[str, Any], metrics: set[str], stage_steps: frozenset[int] = frozenset()
                   ) -> dict[str, list[Mark]]:
    """Marks per plotted metric, one at each step an evidence line of a reported cause cites. A line naming a
    plotted metric is marked on that metric's plot; any other line (a config value, a warning) on the loss plot."""
    out: dict[str, list[Mark]] = {}
    for rc in doc.get("root_causes", []):
        if rc.get("confidence", 0) < 0.5:
            continue
        for line in rc.get("evidence", []):
            if line.startswith("("):  # "(confidence lowered: ...)": a remark, not a measurement
                continue
            words = re.findall(r"[\w/]+", line)
            metric = next((w for w in words[:3] if w in metrics), "loss")
            for i, m in enumerate(STEP_CITE.finditer(line)):
                step = int(m.group(1))
                if "stage" in line and step in stage_steps:
                    continue  # "follows the switch to stage X at step N": the stage line already marks it
                label = f"#{rc['rank']} {_short(line)}" if i == 0 else f"#{rc['rank']}"
                out.setdefault(metric, []).append(Mark(step, label, f"{rc['cause']}: {line}"))
    return out


def plots(doc: dict[str, Any], run: Run) -> list[dict[str, Any]]:
    names = [n for n, _u, _r in PLOTTED]
    stages = [Mark(int(st), f"stage {name}", kind="stage") for st, name in run.stages[1:]]
    marks = evidence_marks(doc, set(names), frozenset(m.step for m in stages))
    out = []
    for name, unit, how in PLOTTED:
        s = run.series(name)
        if s is None:
            continue
        if name == "lr/muon" and run.series("lr") is not None:
            continue
        plot = Plot(name, [Line(s.steps, s.values, name, reduce=how)], marks.get(name, []) + stages, unit=unit)
        svg = svg_render(plot)
        if svg:
            out.append({"svg": Markup(svg), "caption": f"{s.raw_name} from {s.source}"})
    return out


def fitting_advice(doc: dict[str, Any], run: Run | None) -> list[str]:
    """The quick wins that apply to this run: advice that needs a validation series (early stopping, the best
    validation checkpoint) is left out when the run logged none."""
    wins = list(doc.get("quick_wins") or [])
    if run is not None and not has_validation(run):
        wins = [w for w in wins if not needs_validation(w)]
    return wins


def to_html(doc: dict[str, Any], run: Run | None) -> str:
    ctx = _split(doc)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # never leak numpy noise onto the user's terminal
        ctx["plots"] = plots(doc, run) if run is not None else []
    ctx["quick_wins"] = fitting_advice(doc, run)
    return _env(True).get_template("diagnosis.html.j2").render(**ctx)
