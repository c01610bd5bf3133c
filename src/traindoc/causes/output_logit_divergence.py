"""`output_logit_divergence`: output logits drift away from zero."""

from traindoc.causes.model import Cause, FixCode, PlanPolicy, Remedy

CAUSE = Cause(
    id="output_logit_divergence",
    group="Architecture and model behaviour",
    what="output logits drift away from zero",
    evidence="mean/max logit or log-partition z growing; loss spikes",
    typical_fix="z-loss (~1e-4)",
    detectors=("detect_output_logit_divergence",),
    locators=("locate_cross_entropy",),
    templates=("z_loss",),
    remedy=Remedy(
        "Output logits drift away from zero",
        "Add a z-loss (~1e-4 * log^2 Z)",
        "medium",
        "low",
        "low",
        quick_wins=("Add z-loss 1e-4",),
    ),
    plan=PlanPolicy((FixCode(first_only=True),)),
)
