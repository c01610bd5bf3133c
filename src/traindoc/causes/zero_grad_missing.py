"""`zero_grad_missing`: gradients accumulate across steps because they are never cleared."""

from traindoc.causes.model import Cause, FixCode, MetricOutcome, PlanPolicy, Remedy

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
    detectors=("detect_zero_grad_missing", "detect_zero_grad_sawtooth", "detect_code_zero_grad_missing"),
    locators=("locate_missing_zero_grad",),
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
        MetricOutcome(
            "grad_norm", "grad_norm stays below 10x its median{where}", "max_over_median", "<", 10, "boundary"
        ),
        MetricOutcome(
            "loss", "training loss ends within 10% of its minimum (no divergence)", "final_over_min", "<=", 1.1
        ),
    ),
    plan=PlanPolicy((FixCode(),), fix_all_sites=True),
)
