"""`traindoc verify`: did the fix work? Re-diagnose the new run and check the original diagnosis's promises.

Passes only when (a) every expected_outcome predicate of every reported root cause (confidence > 0.5) holds on the
new run, and (b) none of those causes is reported again above 0.5. Causes that were only listed as "possible"
(below 0.5) do not decide the verdict (the diagnosis never claimed them), except one the applied plan chose to fix
(`traindoc plan --fix N`): the fix was made for it, so it is checked too, and it is gone only when the new run's
diagnosis no longer lists it at all (below 0.5 it already was, so "below 0.5" would grade nothing).
"""

from __future__ import annotations

import math
from typing import Any

from traindoc.diagnosis.build import diagnose
from traindoc.evidence.predicates import evaluate
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.verify import freshness

REPORTED = 0.5  # the docs/causes.md threshold for "reported"


def planned_causes(diagnosis_path: str | None, plan_path: str | None) -> set[str]:
    """Causes the plan fixed (its `fixes` planned as a file change or carried by the retrain command), whatever
    their confidence."""
    plan, _ = freshness.applied_plan(diagnosis_path, plan_path)
    fixes = plan.get("fixes") if plan else None
    return {str(f["cause"]) for f in fixes or [] if isinstance(f, dict) and f.get("cause")
            and (f.get("planned") or f.get("in_retrain_command"))}


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


class NotANewRun(ValueError):
    """The "new run" is the diagnosed run, a copy of it, or older than the fix (verify/freshness.py)."""


def found_causes(diag: dict) -> set[str]:
    """The causes a diagnosis lists on a finding of its own; a differential candidate (`differential`: listed only
    because a symptom it commonly produces is in the log) is left out."""
    return {rc["cause"] for rc in diag.get("root_causes", []) if not rc.get("differential")}


def verify(original: dict[str, Any], new_paths: list[str], configs: tuple[str, ...] = (),
           code_dirs: tuple[str, ...] = (), run: Run | None = None, diagnosis_path: str | None = None,
           plan_path: str | None = None) -> dict[str, Any]:
    """`run`: the new run when the caller already read it (verify --html plots it too), else it is read here.
    `diagnosis_path` / `plan_path` locate the applied plan (a run older than it is refused)."""
    if run is None:
        run = load_run(new_paths, configs=configs, code_dirs=code_dirs)
    new_diag = diagnose(run, [str(p) for p in new_paths])
    refusal = freshness.check(original, new_diag["run"]["sources"], [str(p) for p in new_paths], diagnosis_path,
                              plan_path)
    if refusal:
        raise NotANewRun(refusal)
    new_conf = {rc["cause"]: float(rc["confidence"]) for rc in new_diag.get("root_causes", [])}
    checks, causes = [], []
    chosen = planned_causes(diagnosis_path, plan_path)
    reported = [rc for rc in original.get("root_causes", []) if float(rc.get("confidence", 0)) > REPORTED
                or rc.get("cause") in chosen]
    for rc in reported:
        for pred in rc.get("expected_outcome") or []:
            try:
                holds, after = evaluate(pred, run, new_conf)
            except (ValueError, KeyError, TypeError) as e:
                holds, after = False, None
                pred = {**pred, "description": f"{pred.get('description', '')} (cannot evaluate: {e})"}
            target = f"{pred.get('stat', '')} {pred.get('op', '')} {_fmt(pred.get('value'))}".strip() \
                if pred.get("kind") == "metric" else ("< 0.5" if pred.get("kind") == "cause_absent" else "0")
            checks.append({"cause": rc["cause"], "description": pred.get("description", ""),
                           "kind": pred.get("kind"), "metric": pred.get("metric"), "target": target,
                           "before": pred.get("observed"), "after": after, "holds": bool(holds)})
        after_conf = new_conf.get(rc["cause"], 0.0)
        before = float(rc["confidence"])
        # a candidate chosen below 0.5 is gone only when no longer listed (the new diagnosis lists causes >= 0.03)
        # on a finding of its own: a differential candidate is the symptom's list of usual causes, not evidence
        gone = after_conf <= REPORTED if before > REPORTED else rc["cause"] not in found_causes(new_diag)
        causes.append({"cause": rc["cause"], "before": before, "after": after_conf, "gone": gone})
    passed = bool(reported) and all(c["holds"] for c in checks) and all(c["gone"] for c in causes)
    if not reported:
        passed = new_diag.get("verdict") == "healthy"
    return {"passed": passed, "checks": checks, "causes": causes, "new_verdict": new_diag.get("verdict"),
            "new_root_causes": [{"rank": r["rank"], "cause": r["cause"], "confidence": r["confidence"]}
                                for r in new_diag.get("root_causes", [])],
            "new_run": [str(p) for p in new_paths],
            "diagnosed_run": [str(p) for p in (original.get("run") or {}).get("paths") or []]}


def render(result: dict[str, Any]) -> str:
    ok = "✓" if result["passed"] else "✗"
    out = [f"## Verification {'PASSED' if result['passed'] else 'FAILED'} {ok}", "",
           f"Diagnosed run: {', '.join(result.get('diagnosed_run') or ['?'])}",
           f"New run: {', '.join(result['new_run'])} (new verdict: {result['new_verdict']})", ""]
    if result["checks"]:
        out += ["| expected outcome | target | before | after | holds |", "|---|---|---|---|---|"]
        for c in result["checks"]:
            out.append(f"| {c['description']} | {c['target']} | {_fmt(c['before'])} | {_fmt(c['after'])} | "
                       f"{'✓' if c['holds'] else '✗'} |")
        out.append("")
    if result["causes"]:
        out += ["| original cause | confidence before | after | gone |", "|---|---|---|---|"]
        for c in result["causes"]:
            out.append(f"| {c['cause']} | {c['before']:.2f} | {c['after']:.2f} | {'✓' if c['gone'] else '✗'} |")
        out.append("")
    others = [r for r in result["new_root_causes"] if r["cause"] not in {c["cause"] for c in result["causes"]}
              and r["confidence"] > REPORTED]
    if others:
        out.append("New problems in the new run: " + ", ".join(f"{r['cause']} ({r['confidence']:.0%})"
                                                             for r in others))
    return "\n".join(out) + "\n"
