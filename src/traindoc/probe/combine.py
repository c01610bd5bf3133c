"""Probe findings join the log detectors' findings before ranking. A probe that measured a mechanism directly
and found it absent lowers the log findings for that cause: a flat loss looks the same for dead units, vanishing
gradients, frozen parameters and a too-low LR, and a probe rules three of them out on the model itself."""

from __future__ import annotations

from dataclasses import replace

from traindoc.evidence.finding import Finding
from traindoc.probe.run import ProbeReport

# A cleared cause keeps 30 % of its log strength: the probe saw the model on one batch (a fresh one unless a
# checkpoint was given), which rules the mechanism out on that model but not every later state of the run.
CLEARED_FACTOR = 0.3


def combine(log_findings: list[Finding], report: ProbeReport) -> list[Finding]:
    raised = {f.cause for f in report.findings}
    out = []
    for f in log_findings:
        if f.cause in report.cleared and f.cause not in raised:
            f = replace(f, strength=f.strength * CLEARED_FACTOR,
                        evidence=[*f.evidence, f"(lowered: the model probe found no {f.cause} on the model itself)"])
        out.append(f)
    out += report.findings
    out.sort(key=lambda f: -f.strength)
    return out
