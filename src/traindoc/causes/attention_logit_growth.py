"""`attention_logit_growth`: attention logits grow until attention entropy collapses."""

from traindoc.causes.model import Cause, FixCode, MetricOutcome, PlanPolicy, Remedy

CAUSE = Cause(
    id="attention_logit_growth",
    group="Architecture and model behaviour",
    what="attention logits grow until attention entropy collapses",
    evidence="max attention logit rising; attention entropy falling; instability at larger LR",
    typical_fix="QK-layernorm, lower LR",
    detectors=("detect_attention_logit_growth",),
    locators=("locate_attention_qk",),
    templates=("qk_norm",),
    remedy=Remedy(
        "Attention logits grow until attention entropy collapses",
        "Add QK-layernorm and/or lower the LR",
        "high",
        "medium",
        "low",
        quick_wins=("Add QK-layernorm",),
    ),
    outcomes=(MetricOutcome("max_attn_logit", "max attention logit stays below 50", "max", "<", 50),),
    plan=PlanPolicy((FixCode(first_only=True),)),
)
