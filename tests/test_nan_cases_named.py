"""Issue 8, done-when: every NaN case of the committed corpora names the cause behind the NaN, or says plainly that
the evidence cannot tell.

A NaN case is a run whose training loss (any loss-named series that is not held-out) ends non-finite: the NaN
stayed. NaNs a dynamic loss scaler skips (the loss is finite again after them) are routine, not cases. For each case
the diagnosis must not be `healthy`, and either its top cause is a cause behind the NaN (not the symptom-level
`nan_inf`), or `nan_inf` leads on evidence of an op (detect_nan_inf at OP_EVIDENCE or more: an op located in the
code, autograd's anomaly line, a precision that rules overflow out), or the summary says the log cannot tell.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from traindoc.diagnosis.build import diagnose
from traindoc.diagnosis.unexplained_nan import OP_EVIDENCE
from traindoc.evidence import run_detectors
from traindoc.ingest.loader import load_run

pytestmark = pytest.mark.slow

CORPORA = Path(__file__).resolve().parent / "corpus"


def _stayed_nan(run) -> list[str]:
    out = []
    for name, s in run.metrics.items():
        low = name.lower()
        if "loss" in low and not low.startswith(("eval", "val", "test")) and s.values.size \
                and not np.isfinite(s.values[-1]):
            out.append(name)
    return out


def _judge(entry: Path) -> tuple[bool, str | None]:
    """(is a NaN case, what is wrong with its diagnosis or None)."""
    with contextlib.redirect_stderr(io.StringIO()):
        run = load_run([entry / "run"])
    names = _stayed_nan(run)
    if not names:
        return False, None
    findings = run_detectors(run)
    doc = diagnose(run, [str(entry / "run")], findings)
    causes = doc.get("root_causes") or []
    top = causes[0]["cause"] if causes else None
    nan_f = next((f for f in findings if f.detector == "detect_nan_inf"), None)
    op_led = top == "nan_inf" and nan_f is not None and nan_f.strength >= OP_EVIDENCE
    says = "cannot tell" in doc.get("summary", "")
    if doc["verdict"] == "healthy":
        return True, f"{entry.name}: {names[0]} ends non-finite but the verdict is healthy"
    if top in (None, "nan_inf") and not op_led and not says:
        return True, f"{entry.name}: top {top} with no op evidence and no 'cannot tell' sentence: {doc.get('summary')}"
    return True, None


def test_every_nan_case_names_its_cause_or_says_the_log_cannot_tell() -> None:
    entries = sorted(p.parent for p in CORPORA.glob("*/*/label.json"))
    cases, problems = 0, []
    for entry in entries:
        label = json.loads((entry / "label.json").read_text(encoding="utf-8"))
        case, problem = _judge(entry)
        cases += case
        if problem is not None:
            problems.append(f"{problem} (label {label.get('cause')})")
    assert cases >= 30, f"only {cases} NaN cases found: the corpus or the reader changed"
    assert not problems, "\n".join(problems)
