"""`scheduler_misuse`: the LR schedule is not what was configured or intended."""

from traindoc.causes.model import Cause, FixCode, MetricOutcome, PlanPolicy, Remedy, Strategy

CAUSE = Cause(
    id="scheduler_misuse",
    group="Optimisation dynamics",
    what="the LR schedule is not what was configured or intended",
    evidence=(
        "logged LR constant although a schedule is configured; LR hits 0 early; warmup longer than the run; the "
        'schedule writes a key the optimiser never reads; "lr_scheduler.step() before optimizer.step()" warning'
    ),
    typical_fix="wire the scheduler to the key the optimiser reads; step it once per optimiser step",
    tell_apart=(
        "Logged LR flat although warmup or decay is configured; check which key the schedule writes and which "
        "the optimiser reads."
    ),
    detectors=("detect_scheduler_misuse", "detect_lr_collapse", "detect_code_dead_schedule_key",
               "detect_heldout_unchanged", "detect_heldout_frozen_midrun", "detect_drift_up_schedule"),
    locators=("locate_unread_lr_key",),
    templates=("lr_key",),
    remedy=Remedy(
        "The learning-rate schedule is not applied as configured",
        "Make the scheduler write the key the optimiser reads and step it once per optimiser step",
        "medium",
        "low",
        "low",
        quick_wins=("Log the LR every step and check it follows the schedule",),
    ),
    outcomes=(
        MetricOutcome("lr*", "{metric} follows a decaying schedule (changes over the run)", "rel_change", "<", -0.01),
    ),
    # the code fix for a schedule key nobody reads, and config edits for a schedule that does not fit the run: first
    # in a DeepSpeed JSON that holds the scheduler (the one the next run trains with), then wherever else it is set
    plan=PlanPolicy((FixCode(), Strategy("deepspeed_schedule"), Strategy("fit_schedule_to_run")), mode="all",
                    fix_all_sites=True),
)
