"""`grad_accum_bug`: gradient accumulation scales the loss wrongly."""

from traindoc.causes.model import Cause, Manual, PlanPolicy, Remedy, Strategy

CAUSE = Cause(
    id="grad_accum_bug",
    group="Optimisation dynamics",
    what="gradient accumulation scales the loss wrongly",
    evidence="loss or grad norm off by the accumulation factor; loss jumps when accumulation changes",
    typical_fix="divide by the accumulation steps / by the token count once",
    detectors=("detect_grad_accum_bug", "detect_accumulation_sawtooth", "detect_loss_summed_over_accumulation",
               "detect_learned_then_lost", "detect_grad_norm_phase_locked",
               "detect_blow_up_under_accumulation", "detect_explosion_accumulation_lookalike",
               "detect_code_accumulation_defect", "detect_partial_cycle_at_epoch_end"),
    ruled_out_by=("code_does_not_accumulate",),
    remedy=Remedy(
        "Gradient accumulation scales the loss wrongly",
        "Divide the loss by the accumulation steps exactly once",
        "medium",
        "low",
        "low",
        quick_wins=("Check loss / accumulation_steps is applied once",),
    ),
    # `(loss / N).backward()` in a loop that steps every N-th micro-batch (plan/fix_accum.py)
    plan=PlanPolicy((Strategy("scale_accum_loss"),
                     Manual("divide the loss by the number of accumulation steps exactly once"))),
)
