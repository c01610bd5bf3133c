"""`act_variance_collapse` (architecture and model behaviour).

An adaptive-computation (ACT) halting head outputs the same halting decision for every token.
"""

from traindoc.causes.model import Cause, FixCode, MetricOutcome, NoWarning, PlanPolicy, Remedy

CAUSE = Cause(
    id="act_variance_collapse",
    group="Architecture and model behaviour",
    what="an adaptive-computation (ACT) halting head outputs the same halting decision for every token",
    evidence=(
        'variance of halting probabilities ~0; every token uses the same number of steps; "var(): degrees of '
        'freedom is <= 0" warnings; halting head gets no gradient'
    ),
    typical_fix="give the halting head a gradient (differentiable target), add a diversity term, fix the threshold",
    tell_apart=(
        "Halting variance ~0 for the whole run plus the `var(): degrees of freedom` warning; look at "
        "`compute_act_loss` for a target with no gradient and no diversity term."
    ),
    detectors=("detect_act_variance_collapse",),
    locators=(
        "locate_variance_over_singleton",
        "locate_constant_halting_init",
        "locate_unweighted_act_output",
        "locate_act_loss",
    ),
    templates=("act_loss", "var_over_all", "drop_line", "act_weighted_output"),
    remedy=Remedy(
        "ACT halting variance is ~0: every token uses the same number of steps",
        "Give the halting head a differentiable target and add a diversity term to the ACT loss",
        "high",
        "medium",
        "low",
        quick_wins=("Add diversity loss to ACT head",),
    ),
    outcomes=(
        MetricOutcome(
            "act_halt_var",
            "halting variance stays above 1e-4 over the second half",
            "mean",
            ">",
            1e-4,
            {"start_frac": 0.5},
        ),
        NoWarning("var_dof", "no 'var(): degrees of freedom is <= 0' warnings"),
    ),
    plan=PlanPolicy((FixCode(),), fix_all_sites=True),
)
