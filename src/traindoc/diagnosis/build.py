"""Assemble the diagnosis document (schemas/diagnosis.schema.json) from a Run."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
from typing import Any

import numpy as np

from traindoc import __version__
from traindoc.diagnosis import differential, unexplained_nan
from traindoc.diagnosis.ranking import (
    FEW_POINTS_CAP,
    RankedCause,
    differential_ranked,
    final_pair_causes,
    listed,
    rank_causes,
    ranked_up,
)
from traindoc.diagnosis.remedies import REMEDIES, expected_outcomes
from traindoc.evidence import run_detectors
from traindoc.evidence.context import BLOW_UP_ANYWAY, divergence
from traindoc.evidence.finding import Finding
from traindoc.evidence.heldout import HELDOUT_LOSS
from traindoc.ingest.fingerprint import fingerprint
from traindoc.ingest.model import Run

REPORT_THRESHOLD = 0.5  # docs/causes.md: healthy = no cause above 0.5
# Fewer finite points than this in every series: not enough to say anything (issue 8: people paste excerpts of a few
# lines; three points already show a trend or a plateau). Detectors that need longer series check their own length;
# NaN/Inf and a blow-up (evidence/context.py) are judged from the first few points.
MIN_POINTS = 3
LISTED_BELOW = 0.03  # up to 3 causes between 0.03 and 0.5 are listed (as "possible") after the confirmed ones


def _jsonable(x: Any) -> Any:
    """Findings' numbers with numpy scalars, NaN and Inf made JSON-safe (NaN -> None, Inf -> string)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        f = float(x)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    return x


def run_summary(run: Run, paths: list[str]) -> dict[str, Any]:
    metrics = {}
    lo, hi = None, None
    for name, s in sorted(run.metrics.items()):
        nf = int((~np.isfinite(s.values)).sum())
        metrics[name] = {"points": len(s), "first_step": int(s.steps[0]) if len(s) else None,
                         "last_step": int(s.steps[-1]) if len(s) else None, "raw_name": s.raw_name,
                         "non_finite": nf}
        if len(s):
            lo = int(s.steps[0]) if lo is None else min(lo, int(s.steps[0]))
            hi = int(s.steps[-1]) if hi is None else max(hi, int(s.steps[-1]))
    return {
        "paths": list(paths),
        "sources": [{"path": s.path, "format": s.format, "metrics": list(s.metrics), "records": int(s.records),
                     "warnings": list(s.warnings), **fingerprint(s.path)} for s in run.sources],
        "metrics": metrics,
        "step_range": [lo, hi],
        "config_keys": sorted(run.config),
        "code_files": list(run.code_files),
        "samples": len(run.samples),
        "warnings": list(run.warnings),
    }


def _code_changes(run: Run, cause: str) -> list[dict[str, Any]]:
    """Code fix sites from helper 'expert''s locator (optional: absent or failing -> no code change)."""
    if not run.code_files:
        return []
    try:
        from traindoc.evidence import code_sites
    except ImportError:
        return []
    try:
        sites = code_sites.locate_for_cause(run.code_files, cause)
    except Exception as e:  # noqa: BLE001 - a locator bug must not sink the diagnosis
        run.warnings.append(f"code_sites failed for {cause}: {type(e).__name__}: {e}")
        return []
    out = []
    for s in sites[:3]:
        out.append({"target": "code", "file": s.file, "line": int(s.line), "key": None, "before": s.snippet,
                    "after": None, "template": s.template, "params": _jsonable(dict(s.params)),
                    "description": s.description})
    return out


def _config_changes(rc: RankedCause) -> list[dict[str, Any]]:
    out = []
    seen = set()
    for f in rc.findings:
        for site in f.fix_sites:
            if site.get("template"):  # code site from a code-lint finding (an AST locator's site)
                ch = {"target": "code", "file": site.get("file"), "line": site.get("line"), "key": None,
                      "before": site.get("before"), "after": site.get("after"), "template": site["template"],
                      "params": _jsonable(dict(site.get("params") or {})), "description": f.summary}
            else:
                if site.get("after") is None:
                    continue
                ch = {"target": "config", "file": site.get("file"), "line": site.get("line"), "key": site.get("key"),
                      "before": None if site.get("before") is None else str(site.get("before")),
                      "after": str(site["after"]),
                      "description": f"set {site.get('key')} from {site.get('before')} to {site['after']}"}
            ident = (ch["target"], ch.get("file"), ch.get("line"), ch.get("key"))
            if ident in seen:
                continue
            seen.add(ident)
            out.append(ch)
    return out


def _root_cause(run: Run, rc: RankedCause, rank: int, metric_names: set[str]) -> dict[str, Any]:
    rem = REMEDIES[rc.cause]
    evidence: list[str] = []
    for f in rc.findings:
        for e in f.evidence:
            if e not in evidence:
                evidence.append(e)
    if rc.explained_by:
        evidence.append(f"(confidence lowered: {rc.explained_by} explains part of this evidence)")
    for e in rc.ruled_out:  # evidence/ruled_out.py: the code given makes the cause impossible
        evidence.append(f"(not confirmed: {e})")
    if not evidence:
        evidence = [rc.findings[0].summary if rc.findings else rem.issue]
    changes = _config_changes(rc)
    code = _code_changes(run, rc.cause)
    known = {(c.get("file"), c.get("line")) for c in changes}
    changes += [c for c in code if (c.get("file"), c.get("line")) not in known]
    if not changes:
        changes = [dict(c) for c in rem.default_changes]
    for c in changes:
        c.setdefault("description", rem.fix)
        for k in ("file", "line", "key", "before", "after", "template"):
            c.setdefault(k, None)
        if c.get("line") is not None and int(c["line"]) < 1:
            c["line"] = None
    numbers: dict[str, Any] = {}
    for f in rc.findings:
        numbers.update({k: v for k, v in f.numbers.items() if k not in numbers})
    preds = expected_outcomes(rc.cause, numbers, metric_names)
    from traindoc.evidence.predicates import evaluate

    for p in preds:
        if p["kind"] == "cause_absent":
            p["observed"] = round(rc.confidence, 4)
            continue
        try:
            _, obs = evaluate(p, run)
        except (ValueError, KeyError):
            obs = None
        p["observed"] = None if obs is None or not math.isfinite(obs) else obs
    issue = rem.issue
    return {
        "rank": rank,
        "cause": rc.cause,
        "issue": issue,
        "confidence": round(rc.confidence, 4),
        "evidence": evidence,
        "fix": {"summary": rem.fix, "changes": changes},
        "impact": rem.impact,
        "effort": "low" if changes and all(c["target"] == "config" for c in changes) else rem.effort,
        "risk": rem.risk,
        "expected_outcome": preds,
        "detectors": [f.detector for f in rc.findings],
        "step": next((f.step for f in rc.findings if f.step is not None), None),
    } | ({"differential": rc.differential} if rc.differential else {})


def needs_for(run: Run) -> list[str]:
    needs = []
    if not any(len(s) >= MIN_POINTS for s in run.metrics.values()):
        needs.append(f"a metrics log with at least {MIN_POINTS} logged steps of the training loss (JSONL, CSV, "
                     "TensorBoard events, trainer_state.json or a text log with 'step ... loss ...' lines)")
    if run.series("grad_norm") is None:
        needs.append("the gradient norm per step (grad_norm) to tell LR, explosion and accumulation problems apart")
    if run.series("eval_loss") is None:
        needs.append("a validation loss to detect overfitting and leakage")
    if not run.config:
        needs.append("the run's config (YAML/JSON/training_args) to compare settings with reference values")
    return needs


def has_validation(run: Run) -> bool:
    return any(run.series(n) is not None for n in ("eval_loss", "val_loss", "eval_accuracy", "val_acc"))


def needs_validation(advice: str) -> bool:
    """Advice that only makes sense with a validation series (early stopping, the best-validation checkpoint)."""
    return bool(re.search(r"validation|early stop", advice, re.I))


def does_not_learn(findings: list[Finding]) -> bool:
    """The run is broken even when the log cannot say which cause is behind it (issue 8: never healthy): its loss
    sat at chance level from start to end (evidence/detectors/not_learning.py), or it went non-finite and did not
    recover (detect_nan_inf; a NaN on a few skipped steps while training goes on is a loss scaler at work), or its
    loss sat at ~0 while its training accuracy stayed under 0.5 (evidence/unmeasured_loss.py: the loss stopped
    measuring the model, and the accuracy says it predicts badly), or its output is saturated to hard 0/1 where the
    clipped cross-entropy passes it no gradient, frozen or with its accuracy at chance 1/k
    (epoch_curves.saturated_output: every error costs >= ln 1e6 nats, the loss 10-20x chance ln(k))."""
    return any(f.numbers.get("chance_classes") is not None or f.numbers.get("unmeasured_loss")
               or f.detector == "detect_saturated_output"
               or (f.detector == "detect_nan_inf" and f.numbers.get("nan_recovers") is False) for f in findings)


def heldout_ends_nonfinite(run: Run) -> bool:
    """The last held-out loss the log shows is NaN/Inf (an HF end-of-run metrics table with `eval_loss = nan`, a
    validation line printing nan): whatever made it, the model that run left behind does not evaluate, so the
    run is not healthy even when no train loss is logged to say more (issue 8)."""
    for name, s in run.metrics.items():
        if (name == "eval_loss" or HELDOUT_LOSS.match(name.strip())) and len(s) and not np.isfinite(s.values[-1]):
            return True
    return False


def blew_up(run: Run) -> bool:
    """The training loss ends >= 1000x above its minimum and stays there (context.BLOW_UP_ANYWAY: no stuck or slowly
    rising loss climbs three orders of magnitude): a divergence, whichever cause the log lets us name (an
    accumulated update N times too large and an LR N times too high leave the same curve)."""
    d = divergence(run, "loss")
    return d is not None and d.nonfinite_step is None and d.rise >= BLOW_UP_ANYWAY - 1


# a training objective under another name (labeling_cost, d_loss, kl_term, ...): a loss, cost or objective term
_OBJECTIVE = re.compile(r"loss|cost|objective", re.IGNORECASE)


def objective_ends_nonfinite(run: Run) -> bool:
    """Some training loss or cost term the log shows ends NaN/Inf at its last logged point (ATDA#1's
    `targetspecific_cost nan`): a NaN term backpropagates a NaN update into the weights it reaches, so the run is not
    healthy even when its terms are too short to say more. A NaN followed by finite values is a skipped step, not
    this; held-out series are heldout_ends_nonfinite's."""
    for name, s in run.metrics.items():
        if _OBJECTIVE.search(name) and not HELDOUT_LOSS.match(name.strip()) and \
                not name.lower().startswith(("eval", "val", "test")) and len(s) and not np.isfinite(s.values[-1]):
            return True
    return False


def never_healthy(run: Run, findings: list[Finding]) -> bool:
    """A run that is broken whatever the causes' confidences say: it never learned, went non-finite for good, blew
    up by three orders of magnitude, or left a model whose last held-out loss is non-finite."""
    return does_not_learn(findings) or blew_up(run) or heldout_ends_nonfinite(run) or objective_ends_nonfinite(run)


# catalogued lines in which the trainer reports its training loss non-finite (ingest/catalogue.py): a NaN the log
# states in words ("Loss is nan, stopping training" under the last finite loss line, mar#69) is as much a reading as a
# logged nan, and the run is then no "not enough data" case
NAN_GUARD_TAGS = ("nan_loss", "inf_loss")


def has_enough(run: Run) -> bool:
    """Enough to say something: some series has MIN_POINTS finite points, or a non-finite value, logged or stated by
    the trainer's NaN guard."""
    return (any(int(np.isfinite(s.values).sum()) >= MIN_POINTS or bool((~np.isfinite(s.values)).any())
                for s in run.metrics.values())
            or any(e.tag in NAN_GUARD_TAGS for e in run.events))


def few_points(ranked: list[RankedCause], findings: list[Finding]) -> list[RankedCause]:
    """The causes of a log too short for a diagnosis (has_enough false): those read from final figures alone capped
    below the report threshold (ranking.FEW_POINTS_CAP, issue 8), each capped one saying why it is not confirmed."""
    pair_only = final_pair_causes(findings)
    out = []
    for r in ranked:
        if r.cause in pair_only and r.confidence > FEW_POINTS_CAP:
            why = (f"every metric series has fewer than {MIN_POINTS} points: final figures alone cannot rule out a "
                   "train/eval mismatch or another cause that reads the same, so it is listed, not reported")
            r = dataclasses.replace(r, confidence=FEW_POINTS_CAP, ruled_out=[*r.ruled_out, why])
        out.append(r)
    out.sort(key=lambda r: (-r.confidence, -r.score))
    return out


def few_points_summary(run: Run, shown: list[RankedCause]) -> str:
    """An insufficient_data summary that says what was read and what its few points already list."""
    if not run.metrics:
        read = "no metric series was read"
    else:
        names = sorted(run.metrics)
        longest = max(len(s) for s in run.metrics.values())
        listed_names = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        read = (f"{len(names)} metric series {'was' if len(names) == 1 else 'were'} read ({listed_names}), the "
                f"longest with {longest} point{'' if longest == 1 else 's'}")
    out = f"Not enough data to diagnose the run: {read}; a diagnosis needs a series of at least {MIN_POINTS} points."
    if shown:
        out += (" Possible from those few figures (below 50%: to check, not found): "
                + ", ".join(f"{r.cause} ({r.confidence:.0%})" for r in shown) + ".")
    return out


def diagnose(run: Run, paths: list[str] | None = None, findings: list[Finding] | None = None) -> dict[str, Any]:
    """The diagnosis document for a loaded run."""
    findings = run_detectors(run) if findings is None else findings
    ranked = rank_causes(findings, run)
    metric_names = set(run.metrics)
    enough = has_enough(run)
    if not enough:
        # below the gate the few-point rules still run; a cause read from a final train/held-out pair alone is listed,
        # never reported, so the verdict stays insufficient_data unless other evidence confirms a cause (issue 8)
        ranked = few_points(ranked, findings)
    confirmed = [r for r in ranked if r.confidence >= REPORT_THRESHOLD]
    possible = [r for r in ranked if LISTED_BELOW <= r.confidence < REPORT_THRESHOLD]
    broken_eval = heldout_ends_nonfinite(run)
    stalled = not confirmed and enough and never_healthy(run, findings)
    if confirmed or stalled:
        verdict = "problems_found"
    elif not enough:
        verdict = "insufficient_data"
    else:
        verdict = "healthy"
    # the other causes of the run's symptoms, never confirmed: those the log's telling evidence ranked up listed with
    # the causes with a finding of their own by confidence, the rest after them (ranking.listed)
    diff = differential_ranked(differential.candidates(run, findings)) if enough else []
    by_cause = {r.cause: r for r in possible + diff}
    shown = confirmed + [by_cause[c] for c in listed([r.cause for r in confirmed], [r.cause for r in possible],
                                                     [r.cause for r in diff],
                                                     {c: r.confidence for c, r in by_cause.items()},
                                                     {r.cause for r in diff if ranked_up(r)})[len(confirmed):]]
    nan_open = unexplained_nan.unexplained(findings, confirmed)
    roots = [_root_cause(run, rc, i + 1, metric_names) for i, rc in enumerate(shown)]
    quick: list[str] = []
    for rc in confirmed:
        for q in REMEDIES[rc.cause].quick_wins:
            if q not in quick and (has_validation(run) or not needs_validation(q)):
                quick.append(q)
    if verdict == "healthy":
        conf = 1 - max((r.confidence for r in ranked + diff), default=0.0)  # a listed candidate is a doubt too
        summary = "No significant problem found: no cause reaches confidence 0.5."
    elif verdict == "insufficient_data":
        conf = 0.0
        summary = few_points_summary(run, shown)
    elif stalled:
        conf = ranked[0].confidence if ranked else 0.0
        names = ", ".join(f"{r.cause} ({r.confidence:.0%})" for r in shown) or "none listed"
        what = ("its loss stays at chance level" if any(f.numbers.get("chance_classes") is not None for f in findings)
                else "its loss sits at ~0 while its training accuracy stays under 0.5, so the loss no longer "
                     "measures the model" if any(f.numbers.get("unmeasured_loss") for f in findings)
                else "its output is saturated to hard 0/1 guesses that pass no gradient (every error costs the "
                     "clipped cross-entropy's maximum)"
                if any(f.detector == "detect_saturated_output" for f in findings)
                else "its loss went non-finite and stayed so" if does_not_learn(findings)
                else "its loss blew up, ending over 1000x above its minimum" if blew_up(run)
                else "its last held-out loss is non-finite" if heldout_ends_nonfinite(run)
                else "a training loss term ends non-finite")
        broken = "is broken" if what.startswith(("its loss blew", "its last held-out", "a training loss term")) \
            else "does not learn"
        summary = (f"The run {broken}: {what}. The evidence cannot tell which cause is behind it; check, in "
                   f"this order: {names}.")
        if broken_eval and not possible:
            # nothing else in the log to weigh (no cause with a finding of its own; at most the NaN's differential, the
            # same causes unweighed, which ranking.listed may put alone in the list): the causes
            # that make a held-out loss NaN, in the order an engineer checks them (docs/diagnose.md, "A NaN with no
            # lead")
            summary = (f"The run is broken: {what}. The log shows nothing else to tell why; check the learning rate "
                       "against its range, half precision (float16 overflows where bfloat16 or float32 would not), "
                       "and the held-out data (NaN/Inf values, empty batches).")
    else:
        conf = confirmed[0].confidence
        summary = f"{REMEDIES[confirmed[0].cause].issue} (confidence {conf:.0%})."
    if nan_open is not None and verdict == "problems_found":
        summary = unexplained_nan.summary(nan_open, ranked, findings)  # a NaN the log cannot explain says so (issue 8)
    doc: dict[str, Any] = {
        "schema_version": "1.0",
        "tool": {"name": "traindoc", "version": __version__},
        "verdict": verdict,
        "confidence": round(float(conf), 4),
        "summary": summary,
        "run": run_summary(run, paths or []),
        "root_causes": roots,
        "quick_wins": quick[:6],
        "findings": [_jsonable(f.to_json()) for f in findings],
    }
    if verdict == "insufficient_data":
        doc["needs"] = needs_for(run)
    return _jsonable(doc)


def validate(doc: dict[str, Any]) -> None:
    """Validate against schemas/diagnosis.schema.json (raises jsonschema.ValidationError)."""
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("traindoc").joinpath("schemas/diagnosis.schema.json").read_text())
    jsonschema.validate(doc, schema)


def warn(msg: str) -> None:
    print(f"traindoc diagnose: warning: {msg}", file=sys.stderr)


_ = os
