"""One inline SVG line plot, readable without a plotting library: axes with ticks and labels, a log scale only
when the data spans decades, NaN/Inf marked where they happened, evidence marks at the steps the evidence cites,
stage switches, and horizontal thresholds (verify's expected outcomes).

Any value is drawn or marked, never raised on: the arithmetic runs on values scaled by their largest magnitude, so
numbers near 1e308 cannot overflow, and numpy's floating-point warnings are silenced here (they would only leak
to the user's terminal). Every mark carries `data-step` and the plot area carries its step range
(`data-x0`/`data-x1`), so a browser test can check that a mark sits at the step it names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from markupsafe import escape

W, H = 560, 270
LEFT, RIGHT, TOP, BOTTOM = 64, 14, 30, 42  # margins: y tick labels on the left, x ticks and the axis title below
MAX_POINTS = 800  # points per line after block reduction: more than the plot's width in pixels
MAX_BAD_MARKS = 120  # NaN/Inf ticks drawn; the legend gives the total
LOG_DECADES = 2.0  # a positive series spanning at least this many decades is drawn on a log axis
CHAR_PX = 5.6  # approximate width of a character at font-size 10 (system-ui), for label placement
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


@dataclass
class Line:
    steps: np.ndarray
    values: np.ndarray
    name: str
    color: str = COLORS[0]
    reduce: str = "mean"  # block reduction for long series; "max" keeps spikes visible (grad norms)


@dataclass
class Mark:
    step: int
    label: str  # short, shown on the plot
    detail: str = ""  # the full evidence line, shown as a tooltip
    kind: str = "evidence"  # evidence | stage


@dataclass
class Threshold:
    value: float
    label: str


@dataclass
class Plot:
    title: str
    lines: list[Line]
    marks: list[Mark] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    unit: str = ""


def fmt(v: float) -> str:
    """A short tick or value label: 0.005, 45.2, 20, 2.5e5, 1.8e308, nan, inf."""
    from traindoc.evidence.stats import fmt as short

    text = short(v)
    return text[:-2] if text.endswith(".0") else text


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round-numbered ticks covering [lo, hi] (1, 2, 2.5 or 5 times a power of ten). lo < hi, finite."""
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        return [lo]
    raw = span / max(n - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9 and len(ticks) < 3 * n:
        ticks.append(0.0 if abs(t) < step * 1e-9 else t)
        t = first + step * len(ticks)
    return ticks


def _finite_range(values: list[np.ndarray]) -> tuple[float, float] | None:
    fin = [v[np.isfinite(v)] for v in values]
    fin = [v for v in fin if v.size]
    if not fin:
        return None
    return float(min(v.min() for v in fin)), float(max(v.max() for v in fin))


class _Axis:
    """Maps data to pixels on [p0, p1]; `log` maps log10 of positive values. Overflow-free: differences are taken
    on values divided by the largest magnitude of the range."""

    def __init__(self, lo: float, hi: float, p0: float, p1: float, log: bool = False):
        self.log = log
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi == lo:  # a constant series: a window of +-10% around it (or +-1 around 0), not an arbitrary unit span
            pad = abs(lo) * 0.1 or 1.0
            lo, hi = lo - pad, hi + pad
        self.lo, self.hi, self.p0, self.p1 = lo, hi, p0, p1
        big = max(abs(lo), abs(hi))
        self.scale = 10.0 ** math.floor(math.log10(big)) if big > 0 else 1.0  # a power of ten keeps ticks round

    def px(self, v: np.ndarray | float) -> np.ndarray:
        with np.errstate(all="ignore"):
            x = np.asarray(v, dtype=float)
            if self.log:
                x = np.log10(np.where(x > 0, x, np.nan))
            frac = (x / self.scale - self.lo / self.scale) / (self.hi / self.scale - self.lo / self.scale)
            return self.p0 + frac * (self.p1 - self.p0)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            d0, d1 = math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9)
            every = max(1, math.ceil((d1 - d0 + 1) / 6))
            decades = list(range(d0, d1 + 1, every)) or [round((self.lo + self.hi) / 2)]
            return [(10.0 ** d, fmt(10.0 ** d)) for d in decades if -308 <= d <= 308]
        with np.errstate(all="ignore"):
            ticks = [t * self.scale for t in nice_ticks(self.lo / self.scale, self.hi / self.scale)]
        return [(t, fmt(t)) for t in ticks if math.isfinite(t)]


def _use_log(values: list[np.ndarray]) -> bool:
    fin = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if fin.size < 2 or (fin <= 0).any():
        return False
    return math.log10(float(fin.max())) - math.log10(float(fin.min())) >= LOG_DECADES


def render(plot: Plot) -> str:
    """The plot as an SVG string, or "" when there is no point to draw. A series with no finite value at all still
    gets its plot: its NaN/Inf marks are the evidence."""
    lines = [ln for ln in plot.lines if ln.values.size]
    vr = _finite_range([ln.values for ln in lines] + [np.array([t.value for t in plot.thresholds], dtype=float)])
    sr = _finite_range([ln.steps.astype(float) for ln in lines])
    if sr is None or not lines:
        return ""
    if vr is None:  # nothing finite at all: an empty axis that still shows where the NaN/Inf values are
        vr = (0.0, 1.0)
    log = _use_log([ln.values for ln in lines])
    x0, x1 = sr
    if x1 == x0:
        x1 = x0 + 1
    xa = _Axis(x0, x1, LEFT, W - RIGHT)
    ya = _Axis(vr[0], vr[1], H - BOTTOM, TOP, log=log)
    title = plot.title + (" (log scale)" if log else "")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="plot" '
           f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="10">',
           f'<text x="{LEFT}" y="14" font-size="12" font-weight="600">{escape(title)}</text>',
           f'<rect class="plot-area" x="{LEFT}" y="{TOP}" width="{W - RIGHT - LEFT}" height="{H - BOTTOM - TOP}" '
           f'fill="#fff" stroke="#bbb" data-x0="{x0:g}" data-x1="{x1:g}"/>']
    for v, label in ya.ticks():
        y = float(ya.px(v))
        if TOP - 0.5 <= y <= H - BOTTOM + 0.5:
            out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eee"/>'
                       f'<text class="ytick" x="{LEFT - 5}" y="{y + 3.5:.1f}" text-anchor="end">{escape(label)}</text>')
    for v in nice_ticks(x0, x1, 6):
        x = float(xa.px(v))
        if LEFT - 0.5 <= x <= W - RIGHT + 0.5:
            out.append(f'<line x1="{x:.1f}" y1="{H - BOTTOM}" x2="{x:.1f}" y2="{H - BOTTOM + 4}" stroke="#777"/>'
                       f'<text class="xtick" x="{x:.1f}" y="{H - BOTTOM + 15}" text-anchor="middle">'
                       f'{int(round(v)) if abs(v) < 1e15 else fmt(v)}</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle" fill="#555">step</text>')
    if plot.unit:
        out.append(f'<text x="12" y="{(TOP + H - BOTTOM) / 2:.0f}" fill="#555" text-anchor="middle" '
                   f'transform="rotate(-90 12 {(TOP + H - BOTTOM) / 2:.0f})">{escape(plot.unit)}</text>')
    out += _stage_marks(plot.marks, xa)
    for i, ln in enumerate(lines):
        out += _line(ln, xa, ya, legend_row=i)
    for t in plot.thresholds:
        y = float(ya.px(t.value))
        if math.isfinite(y) and TOP <= y <= H - BOTTOM:
            out.append(f'<line class="threshold" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" '
                       f'stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="6,3"/>'
                       f'<text x="{W - RIGHT - 3}" y="{y - 3:.1f}" text-anchor="end" fill="#2ca02c">'
                       f'{escape(t.label)}</text>')
    out += _evidence_marks(plot.marks, xa)
    if len(lines) > 1:  # the legend sits in the title row, right-aligned, clear of the data and the NaN marks
        x = W - RIGHT
        for ln in reversed(lines):
            x -= CHAR_PX * len(ln.name) + 30
            out.append(f'<line x1="{x:.0f}" y1="11" x2="{x + 16:.0f}" y2="11" stroke="{ln.color}" stroke-width="2"/>'
                       f'<text x="{x + 20:.0f}" y="14">{escape(ln.name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _line(ln: Line, xa: _Axis, ya: _Axis, legend_row: int = 0) -> list[str]:
    from traindoc.evidence.stats import downsample

    steps = ln.steps.astype(float)
    fin = np.isfinite(ln.values)
    out = []
    s, v = downsample(steps[fin], ln.values[fin], MAX_POINTS, ln.reduce)
    xs, ys = xa.px(s), ya.px(v)
    ok = np.isfinite(xs) & np.isfinite(ys)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[ok], ys[ok], strict=True))
    if ok.sum() == 1:  # a lone finite value (the rest NaN): a dot, since a one-point line is invisible
        out.append(f'<circle cx="{xs[ok][0]:.1f}" cy="{ys[ok][0]:.1f}" r="2.5" fill="{ln.color}"/>')
    if pts:
        out.append(f'<polyline class="series" data-name="{escape(ln.name)}" fill="none" stroke="{ln.color}" '
                   f'stroke-width="1.3" points="{pts}"/>')
    bad = ~fin
    if bad.any():  # NaN/Inf: a red cross at the step, at the top (NaN, +inf) or the bottom (-inf) of the plot
        bsteps, bvals = steps[bad], ln.values[bad]
        keep = np.unique(np.linspace(0, bsteps.size - 1, min(bsteps.size, MAX_BAD_MARKS)).astype(int))
        for st, val in zip(bsteps[keep], bvals[keep], strict=True):
            x = float(xa.px(st))
            y = H - BOTTOM - 6 if val == -np.inf else TOP + 6
            what = "nan" if math.isnan(val) else ("inf" if val > 0 else "-inf")
            out.append(f'<path class="nonfinite" data-step="{int(st)}" d="M{x - 3:.1f},{y - 3} l6,6 m0,-6 l-6,6" '
                       f'stroke="#d62728" stroke-width="1.5"><title>{escape(ln.name)} = {what} at step {int(st)}'
                       f'</title></path>')
        n_nan = int(np.isnan(bvals).sum())
        out.append(f'<text class="nonfinite-legend" x="{LEFT + 4}" y="{H - BOTTOM - 4 - 11 * legend_row}" '
                   f'fill="#d62728">'
                   f'× {escape(ln.name)}: {bvals.size} non-finite value(s) ({n_nan} NaN, {bvals.size - n_nan} Inf), '
                   f'first at step {int(bsteps[0])}</text>')
    return out


def _stage_marks(marks: list[Mark], xa: _Axis) -> list[str]:
    out = []
    for m in marks:
        if m.kind != "stage":
            continue
        x = float(xa.px(m.step))
        if LEFT <= x <= W - RIGHT:
            out.append(f'<line class="stage" data-step="{m.step}" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" '
                       f'y2="{H - BOTTOM}" stroke="#999" stroke-dasharray="2,3"><title>{escape(m.label)} at step '
                       f'{m.step}</title></line><text x="{x + 2:.1f}" y="{H - BOTTOM - 4}" fill="#777" '
                       f'font-size="9">{escape(m.label)}</text>')
    return out


def _evidence_marks(marks: list[Mark], xa: _Axis) -> list[str]:
    """Dashed red lines at the cited steps; labels in rows under the title, each row filled left to right so no two
    labels overlap, and a label near the right edge is anchored at its end so it is never cut."""
    out = []
    rows: list[float] = []  # right end of the last label in each row
    seen = set()
    for m in sorted((m for m in marks if m.kind == "evidence"), key=lambda m: m.step):
        x = float(xa.px(m.step))
        if not (LEFT - 0.5 <= x <= W - RIGHT + 0.5) or (m.step, m.label) in seen:
            continue
        seen.add((m.step, m.label))
        width = CHAR_PX * len(m.label) + 4
        right_aligned = x + width > W - RIGHT
        left_edge, right_edge = (x - width, x) if right_aligned else (x, x + width)
        row = next((i for i, end in enumerate(rows) if end < left_edge), len(rows))
        if row == len(rows):
            rows.append(0.0)
        rows[row] = right_edge
        y = TOP + 11 + 12 * row
        tip = escape(m.detail or m.label)
        out.append(f'<line class="mark" data-step="{m.step}" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" '
                   f'stroke="#d62728" stroke-width="1.2" stroke-dasharray="4,3"><title>{tip}</title></line>'
                   f'<text class="mark-label" x="{x - 3 if right_aligned else x + 3:.1f}" y="{y}" fill="#d62728" '
                   f'text-anchor="{"end" if right_aligned else "start"}" paint-order="stroke" stroke="#fff" '
                   f'stroke-width="3"><title>{tip}</title>{escape(m.label)}</text>')
    return out
