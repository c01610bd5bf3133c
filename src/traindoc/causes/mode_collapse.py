"""`mode_collapse`: generation degenerates to one token or a short loop, with no other cause found."""

from traindoc.causes.model import Cause, ExplainedBy, Manual, PlanPolicy, Remedy, Strategy

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
    # degenerate samples are mode collapse only "with no other cause found" (docs/causes.md)
    explained_by=tuple(
        ExplainedBy(by, 0.4)
        for by in (
            "lr_too_high", "label_leakage", "nan_inf", "grad_explosion", "act_variance_collapse", "overfitting",
            "zero_grad_missing", "optimizer_misconfig", "fp16_overflow", "data_pipeline_bug", "curriculum_shock",
            "frozen_params", "dead_units", "lr_too_low",
        )
    ),
    # resume from the last checkpoint saved before the first degenerate sample, with the LR halved, where the
    # entry script can resume (plan/fix_resume.py); else the manual step names that checkpoint, or says none is
    plan=PlanPolicy((Strategy("resume_healthy_checkpoint"),
                     Manual("retrain from the last healthy checkpoint once the cause behind it is fixed"))),
)
