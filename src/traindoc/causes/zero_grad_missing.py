"""`zero_grad_missing`: gradients accumulate across steps because they are never cleared."""

from traindoc.causes.model import Cause, FixCode, PlanPolicy, Remedy
from traindoc.causes.outcomes import GRAD_NORM_BOUNDED, LOSS_NOT_DIVERGED

CAUSE = Cause(
    id="zero_grad_missing",
    group="Optimisation dynamics",
    what="gradients accumulate across steps because they are never cleared",
    evidence="grad norm grows roughly linearly, step after step; loss degrades",
    typical_fix="call `optimizer.zero_grad()` each step",
    tell_apart=(
        "Grad norm rising roughly linearly step after step from the start, not in bursts; look for a training "
        "loop without `zero_grad`."
    ),
    detectors=(
        "detect_zero_grad_missing",
        "detect_steady_climb",
        "detect_zero_grad_sawtooth",
        "detect_grad_norm_running_sum",
        "detect_grad_norm_ramp_from_start",
        "detect_loss_climbs_as_lr_decays",
        "detect_code_zero_grad_missing",
        "detect_explosion_zero_grad_lookalike",
    ),
    locators=("locate_missing_zero_grad",),
    ruled_out_by=("code_clears_gradients",),
    templates=("zero_grad",),
    remedy=Remedy(
        "Gradients accumulate across steps because they are never cleared",
        "Call optimizer.zero_grad(set_to_none=True) once per optimiser step",
        "high",
        "low",
        "low",
        quick_wins=("Call optimizer.zero_grad() every step",),
    ),
    outcomes=(
        GRAD_NORM_BOUNDED,
        LOSS_NOT_DIVERGED,
    ),
    plan=PlanPolicy((FixCode(),), fix_all_sites=True),
)
