"""Code evidence: the AST locators of evidence/code_sites.py, read as findings (NeuraLint / DeepFD style: evidence
from the code found with the run). There is one mechanism: a locator finds an anti-pattern and the place its fix
goes; the detectors here only weigh what it found and cite file:line. Code evidence alone is kept moderate: a
pattern can be intended (an encoder is legitimately non-causal); the metrics decide the rank."""

from __future__ import annotations

import os
import re

import numpy as np

from traindoc.evidence import code_sites, stats
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run

_MAX_BYTES = 2_000_000  # a training script is far below this; bigger .py files are generated or vendored
_MAX_FILES = 400


def _files(run: Run) -> list[str]:
    """The run's code files a lint may read: no test files (a fix belongs in the code under test), bounded size."""
    out = []
    for path in run.code_files[:_MAX_FILES]:
        base = os.path.basename(path)
        if base.startswith("test_") or "/tests/" in path.replace(os.sep, "/"):
            continue
        try:
            if os.path.getsize(path) <= _MAX_BYTES:
                out.append(path)
        except OSError:
            continue
    return out


def _sites(run: Run, cause: str) -> list[code_sites.CodeSite]:
    every = stats.cached(run, "code_sites", lambda: code_sites.locate(_files(run)))
    return [s for s in every if s.cause == cause]


def _text(run: Run) -> str:
    def load() -> str:
        parts = []
        for path in _files(run):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    parts.append(f.read())
            except OSError:
                continue
        return "\n".join(parts)
    return stats.cached(run, "code_text", load)


def _cite(site: code_sites.CodeSite) -> str:
    return f"`{site.snippet.strip().splitlines()[0][:100]}` [{os.path.basename(site.file)}:{site.line}]"


def _fix_site(site: code_sites.CodeSite) -> dict:
    """Where the fix goes, with a template id that exists (templates/fixes/) and the parameters it needs."""
    return {"file": site.file, "line": site.line, "template": site.template, "before": site.snippet, "after": None,
            "params": dict(site.params)}


def detect_code_noncausal_attention(run: Run) -> list[Finding]:
    """`scaled_dot_product_attention(..., is_causal=False)` in code that generates text. Only the explicit flag
    counts as evidence: a call with neither flag nor mask may be an encoder's (the locator still offers its fix)."""
    hits = [s for s in _sites(run, "label_leakage") if s.template == "causal_mask" and s.params.get("causal_text")]
    if not hits or not re.search(r"def generate|causal|next.token|lm_head", _text(run)):
        return []
    s = hits[0]
    return [Finding("detect_code_noncausal_attention", "label_leakage", 0.45,
                    "attention is not causal in a model trained to predict the next token",
                    [f"{_cite(s)}: every position attends to future tokens"], None, {}, [_fix_site(s)])]


def detect_code_inverted_grokfast(run: Run) -> list[Finding]:
    """Grokfast adds the slow EMA component (g + lambda*ema); `g.add_(g - ema, alpha=lambda)` adds the *fast*
    component instead (a high-pass filter: the inverted form of the original code, Lee et al. 2024)."""
    hits = _sites(run, "optimizer_misconfig")
    if not hits:
        return []
    s = hits[0]
    return [Finding("detect_code_inverted_grokfast", "optimizer_misconfig", 0.6,
                    "the Grokfast filter amplifies the fast gradient component instead of the slow one",
                    [f"{_cite(s)}: adds (grad - ema), a high-pass filter; Grokfast adds lambda*ema"], None, {},
                    [_fix_site(s)])]


def detect_code_dead_schedule_key(run: Run) -> list[Finding]:
    """The schedule writes an LR key into param groups that nothing reads (the optimiser reads group['lr'])."""
    hits = _sites(run, "scheduler_misuse")
    if not hits:
        return []
    s = hits[0]
    key = s.params.get("key", "?")
    return [Finding("detect_code_dead_schedule_key", "scheduler_misuse", 0.5,
                    f"the schedule writes group['{key}'], which the optimiser never reads",
                    [f"{_cite(s)}: '{key}' is written but never read"], None, {}, [_fix_site(s)])]


def detect_code_zero_grad_missing(run: Run) -> list[Finding]:
    """A training loop that calls .backward() and optimizer.step() with no zero_grad (or grad = None)."""
    hits = _sites(run, "zero_grad_missing")
    if not hits:
        return []
    s = hits[0]
    ev = [f"{_cite(s)}: the loop steps the optimiser after .backward() but never clears the gradients"]
    strength = 0.5
    # the symptom it predicts: a grad norm that keeps growing (linearly with plain SGD/Adam, geometrically when
    # a filter such as Grokfast feeds the accumulated buffer back). Code + symptom together are decisive.
    g = run.series("grad_norm")
    if g is not None:
        vals = g.values[np.isfinite(g.values)]
        if vals.size >= 10:
            k = max(2, vals.size // 10)
            early, late = float(np.median(vals[:k])), float(np.median(vals[-k:]))
            if early > 0 and late / early >= 10:
                ev.append(f"grad_norm grew {late / early:.3g}x over the run ({early:.3g} -> {late:.3g}): the "
                          f"gradients of every step are summed")
                strength = 0.8
    return [Finding("detect_code_zero_grad_missing", "zero_grad_missing", strength,
                    "the training loop never clears gradients", ev, None, {}, [_fix_site(s)])]


def detect_code_unguarded_log(run: Run) -> list[Finding]:
    """`torch.log(x)` / `x.log()` with no clamp/eps: log(0) = -inf, its gradient NaN (weak alone; NaN in the
    metrics makes it stronger). Unguarded sqrt sites get a fix from the locator but are not counted here: a
    negative argument is rarer than a zero one, and the NaN detectors weigh the metrics."""
    hits = [s for s in _sites(run, "nan_inf") if s.params.get("op", "").startswith("log")]
    if not hits:
        return []
    s = hits[0]
    nan_seen = any(not np.isfinite(x.values).all() for x in (run.series("loss"), run.series("grad_norm"))
                   if x is not None)
    return [Finding("detect_code_unguarded_log", "nan_inf", 0.35 if nan_seen else 0.15,
                    "an unguarded torch.log can produce -inf/NaN",
                    [f"{_cite(s)}: log without a clamp/eps guard"], None, {"sites": len(hits)}, [_fix_site(s)])]


DETECTORS = [detect_code_noncausal_attention, detect_code_inverted_grokfast, detect_code_dead_schedule_key,
             detect_code_zero_grad_missing, detect_code_unguarded_log]
