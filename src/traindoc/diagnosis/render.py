"""Render a diagnosis document: markdown (the seed's layout) and one self-contained HTML page with inline SVG
plots. Both through jinja2; the HTML environment autoescapes, so log text can never inject markup."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

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

W, H, PAD = 460, 220, 40


def _svg_plot(steps: np.ndarray, values: np.ndarray, title: str, marks: list[tuple[int, str]],
              log: bool) -> str:
    """A line plot of one series with vertical marks at evidence steps. Non-finite values are shown as red ticks
    at the top edge (they are evidence too)."""
    from traindoc.evidence.stats import downsample

    fin = np.isfinite(values)
    bad_steps = steps[~fin]
    s, v = steps[fin], values[fin]
    if log:
        pos = v > 0
        s, v = s[pos], np.log10(v[pos])
    if v.size < 2:
        return ""
    s, v = downsample(s, v, 600, "max" if "grad" in title else "mean")
    x0, x1 = float(steps.min()), float(steps.max()) or 1.0
    y0, y1 = float(np.nanmin(v)), float(np.nanmax(v))
    if y1 == y0:
        y1 = y0 + 1.0
    xs = PAD + (s - x0) / max(x1 - x0, 1e-12) * (W - PAD - 10)
    ys = H - 25 - (v - y0) / (y1 - y0) * (H - 45)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=False) if math.isfinite(y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{PAD}" y="14" font-size="12">{escape(title)}{" (log10)" if log else ""}</text>',
             f'<line x1="{PAD}" y1="{H - 25}" x2="{W - 10}" y2="{H - 25}" stroke="#999"/>',
             f'<line x1="{PAD}" y1="20" x2="{PAD}" y2="{H - 25}" stroke="#999"/>',
             f'<text x="2" y="24" font-size="10">{escape(_tick(y1, log))}</text>',
             f'<text x="2" y="{H - 27}" font-size="10">{escape(_tick(y0, log))}</text>',
             f'<text x="{PAD}" y="{H - 8}" font-size="10">{int(x0)}</text>',
             f'<text x="{W - 60}" y="{H - 8}" font-size="10">{int(x1)}</text>',
             f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" points="{pts}"/>']
    label_rows: list[float] = []  # right end of the last label in each text row, so labels never overlap
    for step, label in sorted(marks, key=lambda m: m[0]):
        if x0 <= step <= x1:
            x = PAD + (step - x0) / max(x1 - x0, 1e-12) * (W - PAD - 10)
            parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{H - 25}" stroke="#d62728" '
                         f'stroke-dasharray="4,3"><title>{escape(label)}</title></line>')
            text = label[:24]
            row = next((i for i, end in enumerate(label_rows) if end < x), len(label_rows))
            if row == len(label_rows):
                label_rows.append(0.0)
            label_rows[row] = x + 2 + 5.5 * len(text)  # ~5.5 px per character at font-size 9
            parts.append(f'<text x="{x + 2:.1f}" y="{32 + 11 * row}" font-size="9" fill="#d62728">'
                         f'{escape(text)}</text>')
    for step in bad_steps[:200]:
        x = PAD + (float(step) - x0) / max(x1 - x0, 1e-12) * (W - PAD - 10)
        parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="26" stroke="red"/>')
    parts.append("</svg>")
    return "".join(parts)


def _tick(v: float, log: bool) -> str:
    from traindoc.evidence.stats import fmt

    return fmt(10 ** v if log else v)


def plots(doc: dict[str, Any], run: Run) -> list[dict[str, Any]]:
    marks: list[tuple[int, str]] = []
    for rc in doc.get("root_causes", []):
        if rc.get("step") is not None:
            marks.append((int(rc["step"]), rc["cause"]))
    for st, name in run.stages[1:]:
        marks.append((int(st), f"stage {name}"))
    out = []
    for name, log in (("loss", True), ("eval_loss", True), ("grad_norm", True), ("lr", False), ("lr/muon", False),
                      ("act_halt_var", False)):
        s = run.series(name)
        if s is None or len(s) < 2:
            continue
        if name == "lr/muon" and run.series("lr") is not None:
            continue
        svg = _svg_plot(s.steps, s.values, name, marks, log and bool((s.values[np.isfinite(s.values)] > 0).all()))
        if svg:
            out.append({"svg": Markup(svg), "caption": f"{s.raw_name} from {s.source}"})
    return out


def to_html(doc: dict[str, Any], run: Run | None) -> str:
    ctx = _split(doc)
    ctx["plots"] = plots(doc, run) if run is not None else []
    return _env(True).get_template("diagnosis.html.j2").render(**ctx)
