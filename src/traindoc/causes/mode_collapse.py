"""`mode_collapse`: generation degenerates to one token or a short loop, with no other cause found."""

from traindoc.causes.model import Cause, ExplainedBy, Manual, PlanPolicy, Remedy

CAUSE = Cause(
    id="mode_collapse",
    group="Architecture and model behaviour",
    what="generation degenerates to one token or a short loop, with no other cause found",
    evidence="samples of one repeated token (e.g. `::::`); very low sample entropy",
    typical_fix="decoding fix / retrain from a healthy checkpoint",
    tell_apart=(
        "Only when no other cause explains the degenerate samples; a diverged run also outputs `::::`, and "
        "then the divergence's cause is the root cause."
    ),
    detectors=("detect_mode_collapse",),
    remedy=Remedy(
        "Generation degenerates to a repeated token",
        "Fix decoding (temperature, repetition penalty) or retrain from the last healthy checkpoint",
        "medium",
        "medium",
        "low",
        quick_wins=("Sample with temperature 0.8 and a repetition penalty",),
    ),
    explained_by=(
        ExplainedBy("lr_too_high", 0.4),
        ExplainedBy("label_leakage", 0.4),
        ExplainedBy("nan_inf", 0.4),
        ExplainedBy("grad_explosion", 0.4),
        ExplainedBy("act_variance_collapse", 0.4),
        ExplainedBy("overfitting", 0.4),
        ExplainedBy("zero_grad_missing", 0.4),
        ExplainedBy("optimizer_misconfig", 0.4),
        ExplainedBy("fp16_overflow", 0.4),
        ExplainedBy("data_pipeline_bug", 0.4),
        ExplainedBy("curriculum_shock", 0.4),
        ExplainedBy("frozen_params", 0.4),
        ExplainedBy("dead_units", 0.4),
        ExplainedBy("lr_too_low", 0.4),
    ),
    plan=PlanPolicy((Manual("retrain from the last healthy checkpoint once the cause behind it is fixed"),)),
)
