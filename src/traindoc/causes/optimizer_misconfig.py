"""`optimizer_misconfig`: optimiser settings other than the LR are wrong."""

from traindoc.causes.model import Cause, FixCode, PlanPolicy, Remedy

CAUSE = Cause(
    id="optimizer_misconfig",
    group="Optimisation dynamics",
    what="optimiser settings other than the LR are wrong",
    evidence=(
        "Grokfast lambda/alpha swapped or too high; filter sign inverted; weight decay on norms/embeddings or "
        "far too high; Adam eps larger than the grads; momentum > 1; Muon applied to embeddings or 1-D params"
    ),
    typical_fix="restore reference settings for that optimiser",
    detectors=("detect_optimizer_misconfig", "detect_code_inverted_grokfast"),
    locators=("locate_grokfast_highpass",),
    templates=("grokfast_lowpass",),
    remedy=Remedy(
        "Optimiser settings other than the LR are wrong",
        "Restore the reference settings of the optimiser (filter sign, lambda/alpha, eps, momentum, decay)",
        "high",
        "low",
        "low",
        quick_wins=("Restore the optimiser's reference settings",),
    ),
    plan=PlanPolicy((FixCode(),), fix_all_sites=True),
)
