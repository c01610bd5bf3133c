"""`lr_too_high`: the learning rate (of some parameter group) is above the stable range for its optimiser and model."""

from traindoc.causes.model import Cause, ExplainedBy, PlanPolicy, Remedy, ScaleKey
from traindoc.causes.outcomes import EVAL_LOSS_NEAR_MIN, GRAD_NORM_BOUNDED, LOSS_FINITE, LOSS_NOT_DIVERGED

CAUSE = Cause(
    id="lr_too_high",
    group="Optimisation dynamics",
    what="the learning rate (of some parameter group) is above the stable range for its optimiser and model",
    evidence=(
        "loss falls then rises / diverges; grad-norm spikes; NaN after a blow-up; loss stuck well above what "
        "the model reaches at a normal LR; LR far above reference ranges (AdamW on transformers ~1e-4..3e-3; "
        "Muon ~0.02 with its own scaling; SGD depends on batch)"
    ),
    typical_fix="lower the LR (a factor of 2-10), add warmup and clipping",
    tell_apart=(
        "vs `grad_explosion`: here the configured LR is above the optimiser's reference range and lowering it "
        "alone cures the run; vs `curriculum_shock`: when the jump sits at a stage boundary AND the LR is "
        "above its reference (the seed: Muon 1e-2 against 5e-3), the LR is the root cause and the boundary "
        "only its trigger."
    ),
    detectors=("detect_lr_too_high", "detect_stall_during_warmup", "detect_first_loss_blowup", "detect_loss_never_back",
               "detect_saturation_blowup", "detect_first_epoch_above_heldout", "detect_loss_bounces",
               "detect_heldout_accuracy_bounces", "detect_drift_up_lr", "detect_constant_output_lr"),
    templates=("clip_grad_norm", "warmup_cosine"),
    remedy=Remedy(
        "Learning rate too high for the optimiser: training becomes unstable",
        "Lower the learning rate to its reference value (a factor 2-10), keep warmup and gradient clipping on",
        "high",
        "low",
        "low",
        quick_wins=(
            "Reduce learning rates by 50%",
            "Enable gradient clipping at 1.0",
            "Enable early stopping on validation loss",
        ),
        default_changes=({"target": "config", "key": "learning_rate", "description": "lower the learning rate 2-10x"},),
    ),
    # an unstable run with the LR in its reference range: the specific mechanism explains the symptoms better
    explained_by=tuple(
        ExplainedBy(by, 0.5, "lr_in_range")
        for by in (
            "grad_explosion", "zero_grad_missing", "curriculum_shock", "nan_inf", "optimizer_misconfig", "no_warmup",
            "fp16_overflow", "label_leakage", "overfitting", "attention_logit_growth", "output_logit_divergence",
            "scheduler_misuse", "distributed_desync",
        )
    )
    # parameters that cannot train explain a loss that does not move, whatever the LR (the "loss stuck" symptom)
    + (ExplainedBy("frozen_params", 0.5),),
    outcomes=(
        GRAD_NORM_BOUNDED,
        LOSS_NOT_DIVERGED,
        EVAL_LOSS_NEAR_MIN,
        LOSS_FINITE,
    ),
    plan=PlanPolicy((ScaleKey("lr_to_scale", 0.5, "halve the LR: back into the stable range"),)),
)
