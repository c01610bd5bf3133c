"""Static checks of the training code found with the run (NeuraLint / DeepFD style: evidence from the AST-free
text of the code). Each rule matches one known anti-pattern and cites file:line. Code evidence alone is kept
moderate: a pattern can be intended (an encoder is legitimately non-causal); the metrics decide the rank."""

from __future__ import annotations

import os
import re

from traindoc.evidence import stats
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run

_MAX_BYTES = 2_000_000
_MAX_FILES = 400


def _code(run: Run) -> list[tuple[str, list[str]]]:
    def load() -> list[tuple[str, list[str]]]:
        out = []
        for path in run.code_files[:_MAX_FILES]:
            try:
                if os.path.getsize(path) > _MAX_BYTES:
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    out.append((path, f.read().splitlines()))
            except OSError:
                continue
        return out
    return stats.cached(run, "code_lines", load)


def _is_test(path: str) -> bool:
    base = os.path.basename(path)
    return base.startswith("test_") or "/tests/" in path.replace(os.sep, "/")


def _find(run: Run, pattern: re.Pattern[str]) -> list[tuple[str, int, str]]:
    hits = []
    for path, lines in _code(run):
        if _is_test(path):
            continue
        for i, line in enumerate(lines, 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                hits.append((path, i, line.strip()))
    return hits


def _cite(path: str, line: int) -> str:
    return f"[{os.path.basename(path)}:{line}]"


_NONCAUSAL = re.compile(r"scaled_dot_product_attention\([^)]*is_causal\s*=\s*False")


def detect_code_noncausal_attention(run: Run) -> list[Finding]:
    """`scaled_dot_product_attention(..., is_causal=False)` without a mask in a model that generates text."""
    hits = _find(run, _NONCAUSAL)
    if not hits:
        return []
    gen = any(re.search(r"def generate|causal|next.token|lm_head", "\n".join(lines)) for _, lines in _code(run))
    if not gen:
        return []
    p, ln, txt = hits[0]
    return [Finding("detect_code_noncausal_attention", "label_leakage", 0.45,
                    "attention is not causal in a model trained to predict the next token",
                    [f"`{txt[:100]}` {_cite(p, ln)}: every position attends to future tokens"], None, {},
                    [{"file": p, "line": ln, "template": "causal_attention", "before": "is_causal=False",
                      "after": "is_causal=True"}])]


_INVERTED_GROKFAST = re.compile(r"\.add_\(\s*\w+\s*-\s*\w*ema\w*\s*,\s*alpha")


def detect_code_inverted_grokfast(run: Run) -> list[Finding]:
    """Grokfast adds the slow EMA component (g + lambda*ema); `g.add_(g - ema, alpha=lambda)` adds the *fast*
    component instead (a high-pass filter: the inverted form of the original code, trainer-algorithms §2)."""
    hits = _find(run, _INVERTED_GROKFAST)
    if not hits:
        return []
    p, ln, txt = hits[0]
    return [Finding("detect_code_inverted_grokfast", "optimizer_misconfig", 0.6,
                    "the Grokfast filter amplifies the fast gradient component instead of the slow one",
                    [f"`{txt[:100]}` {_cite(p, ln)}: adds (grad - ema), a high-pass filter; Grokfast adds "
                     f"lambda*ema"], None, {},
                    [{"file": p, "line": ln, "template": "grokfast_lowpass", "before": txt, "after": None}])]


_LR_WRITE = re.compile(r"""\[\s*["'](\w*lr\w*)["']\s*\]\s*=(?!=)""")


def detect_code_dead_schedule_key(run: Run) -> list[Finding]:
    """The schedule writes an LR key into param groups that nothing reads (the optimiser reads group['lr'])."""
    writes = _find(run, _LR_WRITE)
    for p, ln, txt in writes:
        key = _LR_WRITE.search(txt.split("#", 1)[0]).group(1)  # type: ignore[union-attr]
        if key in ("lr", "initial_lr"):
            continue
        reads = 0
        for _, lines in _code(run):
            for line in lines:
                code = line.split("#", 1)[0]
                if re.search(rf"""["']{key}["']""", code) and not _LR_WRITE.search(code):
                    reads += 1
        if reads == 0:
            return [Finding("detect_code_dead_schedule_key", "scheduler_misuse", 0.5,
                            f"the schedule writes group['{key}'], which the optimiser never reads",
                            [f"`{txt[:100]}` {_cite(p, ln)}: '{key}' is written but never read"], None, {},
                            [{"file": p, "line": ln, "template": "schedule_writes_lr", "before": key,
                              "after": "lr"}])]
    return []


_BACKWARD = re.compile(r"\.backward\(")
_STEP = re.compile(r"optim\w*\.step\(|opt\.step\(")
_ZERO = re.compile(r"zero_grad|\.grad\s*=\s*None|grad\.zero_\(")


def detect_code_zero_grad_missing(run: Run) -> list[Finding]:
    """A loop that calls .backward() and optimizer.step() with no zero_grad (or grad = None) anywhere."""
    back, step = _find(run, _BACKWARD), _find(run, _STEP)
    if not back or not step:
        return []
    if _find(run, _ZERO):
        return []
    p, ln, txt = step[0]
    ev = [f"`{txt[:80]}` {_cite(p, ln)} steps the optimiser after .backward() but no zero_grad() is called "
          f"anywhere in the code"]
    strength = 0.5
    # the symptom it predicts: a grad norm that keeps growing (linearly with plain SGD/Adam, geometrically when
    # a filter such as Grokfast feeds the accumulated buffer back). Code + symptom together are decisive.
    g = run.series("grad_norm")
    if g is not None:
        vals = g.values[__import__("numpy").isfinite(g.values)]
        if vals.size >= 10:
            k = max(2, vals.size // 10)
            import numpy as np

            early, late = float(np.median(vals[:k])), float(np.median(vals[-k:]))
            if early > 0 and late / early >= 10:
                ev.append(f"grad_norm grew {late / early:.3g}x over the run ({early:.3g} -> {late:.3g}): the "
                          f"gradients of every step are summed")
                strength = 0.8
    return [Finding("detect_code_zero_grad_missing", "zero_grad_missing", strength,
                    "the training loop never clears gradients", ev, None, {},
                    [{"file": p, "line": ln, "template": "zero_grad", "before": txt, "after": None}])]


_UNGUARDED_LOG = re.compile(r"torch\.log\((?![^()]*(clamp|eps|\+|softmax|exp))")


def detect_code_unguarded_log(run: Run) -> list[Finding]:
    """`torch.log(x)` with no clamp/eps: log(0) = -inf, its gradient NaN (weak alone; NaN in the metrics
    makes it decisive)."""
    hits = _find(run, _UNGUARDED_LOG)
    if not hits:
        return []
    p, ln, txt = hits[0]
    nan_seen = any(not __import__("numpy").isfinite(s.values).all() for s in
                   (run.series("loss"), run.series("grad_norm")) if s is not None)
    return [Finding("detect_code_unguarded_log", "nan_inf", 0.35 if nan_seen else 0.15,
                    "an unguarded torch.log can produce -inf/NaN",
                    [f"`{txt[:100]}` {_cite(p, ln)}: log without a clamp/eps guard"], None,
                    {"sites": len(hits)},
                    [{"file": p, "line": ln, "template": "guard_log", "before": txt, "after": None}])]


DETECTORS = [detect_code_noncausal_attention, detect_code_inverted_grokfast, detect_code_dead_schedule_key,
             detect_code_zero_grad_missing, detect_code_unguarded_log]
