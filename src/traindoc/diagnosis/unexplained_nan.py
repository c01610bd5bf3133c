"""The sentence for a NaN whose cause the log cannot establish (issue 8: every NaN names its cause or says plainly
that the evidence cannot tell).

A non-finite loss is a symptom. What the log shows before it decides its cause (evidence/context.py: NanContext):
a blow-up, a climbing loss or a rising LR point at the LR (lr_too_high is then confirmed and its own sentence is the
summary); an op located in the code or named by autograd's anomaly mode, or a precision that rules float16 out, points
at an unguarded op (detect_nan_inf reaches 0.5). With none of these a learning rate too high (divergence can happen
within one logging interval), float16 overflow and an unguarded log/div/sqrt leave the same trace: a finite loss,
then NaN for good. The summary then says so and names every one with its confidence, in checking order (the root
causes list them too: each has its own finding), and nothing is picked confidently. Which comes first follows an
engineer's prior (evidence/nan_prior.py): the LR for an early NaN, unless a stated LR clears it.
"""

from __future__ import annotations

from traindoc.diagnosis.ranking import RankedCause, aggregate, explain_away
from traindoc.evidence.finding import Finding

# raw strength of detect_nan_inf at which the evidence points at an op (detectors/numerics.py: an op in the code or
# an anomaly line 0.75, a stated bf16/fp32 precision with a NaN at once 0.6); below it the reading is "cannot tell"
OP_EVIDENCE = 0.5
# the candidates a NaN with no lead leaves open, in the order an engineer checks them (cheapest first: lower the LR,
# then the precision, then the code); inputs come first when the loss was never finite
CANDIDATES = ("lr_too_high", "fp16_overflow", "nan_inf")
FROM_START = "data_pipeline_bug"
WORDS = {"lr_too_high": "a learning rate too high", "fp16_overflow": "float16 overflow",
         "nan_inf": "an unguarded op (log/div/sqrt of 0)", "data_pipeline_bug": "NaN/Inf in the inputs or labels"}


def nan_finding(findings: list[Finding]) -> Finding | None:
    return next((f for f in findings if f.detector == "detect_nan_inf"), None)


def unexplained(findings: list[Finding], confirmed: list[RankedCause]) -> Finding | None:
    """detect_nan_inf's finding when the NaN stayed and nothing in the log names its cause: no op located, no LR lead
    (with one lr_too_high would have its own evidence) and no confirmed cause other than nan_inf itself."""
    f = nan_finding(findings)
    if f is None or f.numbers.get("nan_recovers") or f.numbers.get("lr_lead") or f.strength >= OP_EVIDENCE:
        return None
    if f.numbers.get("heldout_only"):
        # the train loss stayed finite: the run's own summary of a non-finite held-out loss applies (build.py)
        return None
    if any(rc.cause != "nan_inf" for rc in confirmed):
        return None
    return f


def candidates(f: Finding) -> list[str]:
    """The causes the log leaves open, in checking order. A stated bf16/fp32 precision rules overflow out; a stated
    LR low enough for any optimiser rules the LR out (evidence/nan_prior.py)."""
    if f.numbers.get("box_term_only"):
        # a detector's box-regression term alone non-finite while its classification terms stay finite: an LR or a
        # float16 overflow reaches every head through the shared backbone; the box targets or the box term's own op
        # remain (detectors/data.py: box_target_nan); with a logged total (evidence/nan_box.py) the precision is
        # read too, and where it is not stated an activation overflow inside the box term stays possible
        return [FROM_START, "nan_inf"] + (["fp16_overflow"] if "half_precision" in f.numbers
                                          and f.numbers["half_precision"] is None else [])
    if f.numbers.get("inputs_first"):
        # the held-out loss went NaN first through finite weights (evidence/nan_inputs.py): no step size and no
        # gradient overflow did that; the inputs, an op they drive to NaN, or (precision not stated) an activation
        # overflow on them remain
        out = [FROM_START, "nan_inf"]
        return out + (["fp16_overflow"] if f.numbers.get("half_precision") is None else [])
    if f.numbers.get("confined_terms"):
        # some loss terms stayed finite through the NaN (evidence/nan_terms.py): finite weights, so no step size and
        # no applied gradient overflow; the failing terms' op, their targets, or an activation overflow inside them
        return ["nan_inf", FROM_START] + (["fp16_overflow"] if f.numbers.get("half_precision") is not False else [])
    out = [FROM_START] if f.numbers.get("nan_from_start") else []
    out += [c for c in CANDIDATES if not (c == "fp16_overflow" and f.numbers.get("half_precision") is False)
            and not (c == "lr_too_high" and (f.numbers.get("lr_cleared") or f.numbers.get("one_update")
                                             or f.numbers.get("finite_grads")))]
    if f.numbers.get("log_objective"):
        # a KL term or an adversarial loss went NaN first (evidence/nan_objective.py): its unguarded log is checked
        # first, the guard being where the fix goes whatever else helped it fail
        out = ["nan_inf"] + [c for c in out if c != "nan_inf"]
    return out


# two causes read at the same detector strength (scores within float rounding of each other)
LEVEL_TOLERANCE = 1e-9


def level_readings(findings: list[Finding]) -> list[str]:
    """The candidates of a NaN with no lead that the detectors read at one strength, in checking order: the causes
    this log cannot tell apart (detect_nan_inf's docstring: an op, fp16 overflow with the precision not stated, and
    the inputs for a NaN from the first step, each at 0.35). Empty when the NaN has a lead or fewer than two are
    level. Their order comes from the per-cause calibration alone, that is from how often each was the cause of a
    NaN of this shape in the labelled runs (docs/diagnose.md, "Why float16 comes first"); the summary says so.
    Giving them one confidence instead was measured and dropped (docs/diagnose.md, same section)."""
    f = nan_finding(findings)
    if f is None or f.numbers.get("nan_recovers") or f.numbers.get("lr_lead") or f.strength >= OP_EVIDENCE \
            or f.numbers.get("heldout_only"):
        return []
    scores, _ = explain_away(aggregate(findings), findings)
    level = scores.get("nan_inf")
    if level is None:
        return []
    group = [c for c in candidates(f) if c in scores and abs(scores[c] - level) <= LEVEL_TOLERANCE]
    return group if len(group) >= 2 else []


def summary(f: Finding, ranked: list[RankedCause], findings: list[Finding] | None = None) -> str:
    conf = {rc.cause: rc.confidence for rc in ranked}
    names = candidates(f)
    words = ", ".join(WORDS[c] for c in names[:-1]) + f" and {WORDS[names[-1]]}"
    before = ("no finite loss before it" if f.numbers.get("nan_from_start")
              else "no blow-up or LR change before it")
    if f.numbers.get("box_term_only"):
        before = "the box-regression term alone non-finite while the classification terms stay finite"
    elif f.numbers.get("inputs_first"):
        before = "the held-out loss non-finite first, through finite weights, and no blow-up or LR change before it"
    elif f.numbers.get("confined_terms"):
        before = "some loss terms finite through the NaN, so finite weights, and no blow-up or LR change before it"
    elif f.numbers.get("lr_cleared"):
        before += ", a stated LR low enough to rule the LR out"
    elif f.numbers.get("one_update"):
        # evidence/nan_prior.py: after_one_update
        before += ", the NaN one update after a finite loss, which no step size makes"
    elif f.numbers.get("finite_grads"):
        # evidence/nan_grads.py: NaN weights would make every gradient NaN
        before += ", the grad norm finite through the NaN, so finite weights, which no step size leaves"
    if f.numbers.get("log_objective"):
        before += ", the NaN out of a KL-divergence or adversarial loss term, which takes the log of a model output"
    order = ", ".join(f"{c} ({conf.get(c, 0.0):.0%})" for c in sorted(names, key=lambda c: -conf.get(c, 0.0)))
    level = [c for c in sorted(level_readings(findings or [f]), key=lambda c: -conf.get(c, 0.0)) if c in conf]
    if len(level) >= 2:
        # the detectors read them alike: their order is the calibration's, the labelled runs' mix of causes
        order += (f"; {', '.join(level[:-1])} and {level[-1]} read alike from this log, their order is how often "
                  f"each caused such a NaN in the labelled runs")
    # a trainer's NaN guard printed without a step (detectron2's FloatingPointError) places the NaN nowhere
    at = f" at step {f.step}" if f.step is not None else ""
    return (f"The loss went non-finite{at} and stayed so, and the log cannot tell the cause behind the "
            f"NaN: {words} leave the same trace ({before}, no op located in the code). "
            f"Check, in this order: {order}.")
