"""From findings to ranked causes with calibrated confidence.

1. Aggregate: a cause's score is the noisy-or of its findings' strengths (independent pieces of evidence add up,
   but never past 1): s = 1 - prod(1 - s_i).
2. Explain away: symptoms are evidence, causes are ranked (docs/causes.md). When a cause with specific evidence
   explains the symptoms another cause was raised on, the weaker explanation is discounted (each cause's
   `explained_by` rules in src/traindoc/causes/<id>.py), e.g.
   - a curriculum-boundary shock under an LR above its reference is the LR's fault (the seed's case);
   - degenerate '::::' samples are mode_collapse only "with no other cause found";
   - train << val with leakage evidence is leakage, not overfitting;
   - linear grad growth (never-zeroed grads) explains the 'explosion'.
3. Calibrate: confidence = sigmoid(a_c * logit(s) + b_c), a Platt model per cause (shared one when a cause had
   too few labelled examples), fitted by tools/fit_calibration.py; coefficients in traindoc/data/calibration.json.
   A cause whose every finding is a look-alike listing (a symptom several causes share, listed for each of them
   because the log cannot tell them apart: Finding.numbers["listing"]) is not calibrated by its cause's curve:
   that curve is fitted mostly on the cause's evidence-backed findings, and applying it to a listing made a tie
   between look-alikes a contest of intercepts that any unrelated change to those findings could flip (a=3.51,
   b=0 took data_pipeline_bug's 0.39 listing to 0.17 while vanishing_gradients' b=0.77 lifted its 0.38 to 0.34).
   Listings get one model fitted on listings alone (LISTING): equal listings get equal confidence. A cause with
   enough listed examples of its own (tools/fit_calibration.py's MIN_PER_CLASS, as for every per-cause curve)
   gets its own intercept on that model's slope (LISTING:<cause>), fitted on its listings alone: how often a
   look-alike listed at chance was the fault, which is calibration, not evidence, and stays below 0.5.
4. Rule out by the code: when the run's code is given and plainly rules a cause out (its `ruled_out_by` readers,
   evidence/ruled_out.py: the one training loop clears its gradients every step, so they cannot accumulate), the
   log's shape alone does not confirm it: its confidence is capped at RULED_OUT_CAP, and the evidence says why.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from traindoc.causes import CAUSES
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run

EPS = 1e-4
MAX_POSSIBLE = 3  # causes listed below the report threshold after the confirmed ones
DIFFERENTIAL = "differential"  # the calibration table's key for the differential candidates' one Platt model
DIFFERENTIAL_CAP = 0.45  # a differential candidate is never reported (>= 0.5): the verdict is the detectors'
LISTING = "listing"  # the calibration table's key for the look-alike listings' one Platt model
# a cause the run's code rules out stays listed (the log's shape is still a lead worth the reader's eye: the code
# given may not be the code that ran) but is never reported: below the report threshold, as a differential
# candidate is (DIFFERENTIAL_CAP)
RULED_OUT_CAP = DIFFERENTIAL_CAP
# a log whose every series has fewer points than diagnosis.build.MIN_POINTS (a pasted excerpt, one epoch line and its
# validation line) still feeds the rules that read a few points. A cause read from final figures alone (a final
# train/held-out pair: evidence/detectors/transfer.py's ENDPOINT_* and LOSS_PAIR_* comments, findings with
# numbers["endpoints_only"]) is then listed under the insufficient_data verdict (issue 8), never reported: one pair of
# final figures cannot rule out a train/eval mismatch or a target only the training batches carry, so below the
# report threshold, as a differential candidate is (DIFFERENTIAL_CAP). Causes with other evidence (a loss scaler's
# messages, a blow-up, the code) are judged as before: a few points of those are evidence an engineer accepts.
FEW_POINTS_CAP = DIFFERENTIAL_CAP


def listing_key(cause: str) -> str:
    """The calibration table's key for a cause's own intercept on the listings' model."""
    return f"{LISTING}:{cause}"


@dataclass
class RankedCause:
    cause: str
    score: float  # aggregated, explained-away detector score (uncalibrated)
    confidence: float  # calibrated
    findings: list[Finding] = field(default_factory=list)
    explained_by: str | None = None
    differential: str | None = None  # the symptom it is a differential candidate of (diagnosis/differential.py)
    ruled_out: list[str] = field(default_factory=list)  # why the run's code rules it out (evidence/ruled_out.py)


def aggregate(findings: list[Finding]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for f in findings:
        s = min(max(float(f.strength), 0.0), 1.0)
        scores[f.cause] = 1 - (1 - scores.get(f.cause, 0.0)) * (1 - s)
    return scores


def _num(findings: list[Finding], cause: str, key: str, default: float = 0.0) -> float:
    vals = [f.numbers.get(key) for f in findings if f.cause == cause and isinstance(f.numbers.get(key), (int, float))]
    return float(max(vals)) if vals else default


def explain_away(scores: dict[str, float], findings: list[Finding]) -> tuple[dict[str, float], dict[str, str]]:
    """Discount causes whose evidence a stronger, more specific cause explains. Returns new scores and, for each
    discounted cause, the cause that explains it."""
    s = dict(scores)
    why: dict[str, str] = {}

    def discount(victim: str, by: str, factor: float) -> None:
        if victim in s and by in scores and scores[by] >= 0.5 and by != victim:
            new = s[victim] * factor
            if new < s[victim]:
                s[victim] = new
                why.setdefault(victim, by)

    # "is the configured LR above its reference range?" decides which way the LR rules point
    lr_above = _num(findings, "lr_too_high", "lr_over_reference_high") > 1.25
    for victim, cause in CAUSES.items():
        for rule in cause.explained_by:
            if rule.when == "always" or (rule.when == "lr_above") == lr_above:
                discount(victim, rule.by, rule.factor)
    return s, why


# ------------------------------------------------------------------------------------------------ calibration


@lru_cache(maxsize=1)
def load_calibration() -> dict[str, Any]:
    """Platt coefficients fitted by tools/fit_calibration.py; identity-ish defaults when the file is absent."""
    try:
        text = resources.files("traindoc").joinpath("data/calibration.json").read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError, ModuleNotFoundError):
        return {"method": "platt", "shared": {"a": 1.0, "b": 0.0}, "per_cause": {}}


def logit(p: float) -> float:
    p = min(max(p, EPS), 1 - EPS)
    return math.log(p / (1 - p))


def is_listing(finding: Finding) -> bool:
    """A look-alike listing: a symptom shared by several causes, listed for each one below 0.5 with no evidence
    that singles it out (the detector marks it; e.g. not_learning.unexplained_candidate, the accumulation
    look-alikes of a blow-up)."""
    return bool(finding.numbers.get("listing"))


def listing_causes(findings: list[Finding]) -> set[str]:
    """Causes whose every finding is a look-alike listing: nothing but a shared symptom speaks for them."""
    causes: dict[str, bool] = {}
    for f in findings:
        causes[f.cause] = causes.get(f.cause, True) and is_listing(f)
    return {c for c, only in causes.items() if only}


def calibrate(cause: str, score: float, table: dict[str, Any] | None = None, listing: bool = False) -> float:
    """Calibrated confidence of a cause's explained-away score. A look-alike listing (`listing`) takes the listings'
    model (the cause's own intercept on it when fitted, else the shared LISTING model, else the shared curve of a
    table without one): never its cause's own curve, so that look-alikes listed alike stay alike."""
    table = table or load_calibration()
    per = table.get("per_cause", {})
    own = (per.get(listing_key(cause)) or per.get(LISTING)) if listing else per.get(cause)
    coef = own or table.get("shared") or {"a": 1.0, "b": 0.0}
    z = coef["a"] * logit(score) + coef["b"]
    p = 1 / (1 + math.exp(-max(min(z, 50), -50)))
    # a listing is a shared symptom, never a finding: below the report threshold whatever a fit says, as the
    # differential candidates are (DIFFERENTIAL_CAP)
    return min(p, DIFFERENTIAL_CAP) if listing else p


def cap_ruled_out(confidence: float, ruled_out: bool) -> float:
    """A cause the run's code rules out is never reported, whatever the log's shape says."""
    return min(confidence, RULED_OUT_CAP) if ruled_out else confidence


def final_pair_causes(findings: list[Finding]) -> set[str]:
    """Causes whose every finding reads final figures alone (numbers["endpoints_only"]): see FEW_POINTS_CAP. A final
    pair that a second measure corroborates (numbers["corroborated"]: transfer.py's PAIR_* comment) is not one."""
    causes: dict[str, bool] = {}
    for f in findings:
        causes[f.cause] = causes.get(f.cause, True) and bool(f.numbers.get("endpoints_only")) and \
            not f.numbers.get("corroborated")
    return {c for c, only in causes.items() if only}


def cap_few_points(confidence: float, capped: bool) -> float:
    """A cause read from final figures alone in a log too short for a diagnosis (`capped`) is listed, never
    reported (FEW_POINTS_CAP)."""
    return min(confidence, FEW_POINTS_CAP) if capped else confidence


def rank_causes(findings: list[Finding], run: Run | None = None, table: dict[str, Any] | None = None,
                ruled_out: dict[str, list[str]] | None = None) -> list[RankedCause]:
    """Causes best first, with calibrated confidence. `ruled_out` (cause -> why) defaults to what the run's code
    rules out (evidence/ruled_out.py; nothing without a run or without code)."""
    scores, why = explain_away(aggregate(findings), findings)
    listings = listing_causes(findings)
    if ruled_out is None:
        from traindoc.evidence.ruled_out import ruled_out as read_code

        ruled_out = read_code(run) if run is not None else {}
    out = []
    for cause, sc in scores.items():
        fs = sorted((f for f in findings if f.cause == cause), key=lambda f: -f.strength)
        conf = cap_ruled_out(calibrate(cause, sc, table, cause in listings), cause in ruled_out)
        out.append(RankedCause(cause, sc, conf, fs, why.get(cause), ruled_out=list(ruled_out.get(cause, []))))
    out.sort(key=lambda r: (-r.confidence, -r.score))
    return out


def calibrate_differential(share: float, table: dict[str, Any] | None = None) -> float:
    """Confidence of a differential candidate (diagnosis/differential.py): one Platt model for every candidate,
    fitted on their shares (tools/fit_calibration.py keeps them out of the shared fit, so the detectors' curves
    are what they were). A table without that model leaves the share itself, a prior that never reaches 0.5."""
    table = table or load_calibration()
    if DIFFERENTIAL not in table.get("per_cause", {}):
        return min(max(share, 0.0), 1.0)
    return calibrate(DIFFERENTIAL, share, table)


def differential_ranked(candidates: list[Finding], table: dict[str, Any] | None = None) -> list[RankedCause]:
    """Differential candidates as ranked causes, best first (candidates() sorts them by share; the calibration
    is monotone). Capped below the report threshold whatever a fit says: a symptom alone confirms nothing."""
    return [RankedCause(f.cause, f.strength, min(calibrate_differential(f.strength, table), DIFFERENTIAL_CAP), [f],
                        None, str(f.numbers.get("differential"))) for f in candidates]


def ranked_up(candidate: RankedCause) -> bool:
    """Whether a differential candidate was ranked up by its telling evidence, seen in this log
    (diagnosis/differential.py `judge`: a loss that climbs into the NaN, a loss that creeps down, a held-out loss that
    repeats to every digit)."""
    return any(f.numbers.get("telling") == "seen" for f in candidate.findings)


def listed(confirmed: list[str], possible: list[str], differential: list[str],
           confidence: dict[str, float] | None = None, seen: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The causes a diagnosis lists, in order: every confirmed one, then up to MAX_POSSIBLE more, most likely first.

    Below the report threshold the causes with a finding of their own and the differential candidates the log's
    telling evidence ranked up (`seen`, ranked_up) are one list, by calibrated confidence (`confidence`; a finding
    first on a tie): both are read from this log's own shape, and both confidences are Platt fits of the same
    outcome, "this cause is the run's fault" (calibrate, calibrate_differential), so the higher one is the likelier
    cause. An engineer reads the list top-down as "most likely first": a weak finding (a nan_inf op listing at
    0.06) no longer stands above the causes a climb into the NaN ranked up (lr_too_high, grad_explosion,
    zero_grad_missing, grad_accum_bug). The other candidates follow, in the differential's order: an equal share of
    a symptom's row speaks for no cause in particular, and a finding names its cause from its own trace, so those
    candidates never pass a finding (docs/diagnose.md, "The order of the listed causes": ranked by confidence too,
    they cost the development corpora's top-1)."""
    conf = confidence or {}
    rest = [c for c in differential if c not in confirmed and c not in possible]
    up = [c for c in rest if c in seen]
    ordered = sorted(possible + up, key=lambda c: -conf.get(c, 0.0)) if conf else possible + up
    return confirmed + (ordered + [c for c in rest if c not in seen])[:MAX_POSSIBLE]
