"""`no_warmup`: full LR from step 0 on an optimiser/model that needs warmup."""

from traindoc.causes.model import Cause, ExplainedBy, FixCode, PlanPolicy, Remedy, SetKey, Strategy
from traindoc.causes.outcomes import GRAD_NORM_BOUNDED

CAUSE = Cause(
    id="no_warmup",
    group="Optimisation dynamics",
    what="full LR from step 0 on an optimiser/model that needs warmup",
    evidence="large loss or grad-norm jumps in the first steps, partial recovery; warmup steps = 0",
    typical_fix="linear warmup over ~1-5% of steps",
    detectors=("detect_no_warmup",),
    locators=("locate_constant_lr_loop",),
    templates=("warmup_cosine",),
    remedy=Remedy(
        "No learning-rate warmup: the full LR hits the freshly initialised model",
        "Add a linear warmup over ~1-5% of the steps",
        "medium",
        "low",
        "low",
        quick_wins=("Add a linear LR warmup over the first 2% of steps",),
        default_changes=({"target": "config", "key": "warmup_steps", "description": "set warmup to ~2% of the steps"},),
    ),
    explained_by=(ExplainedBy("lr_too_high", 0.8),),
    outcomes=(
        GRAD_NORM_BOUNDED,
    ),
    plan=PlanPolicy(
        (
            # DeepSpeed's scheduler, where its JSON holds one, is the warmup the next run trains with (and the HF
            # Trainer's warmup must match it): plan/fix_deepspeed.py
            Strategy("deepspeed_warmup"),
            SetKey("warmup_steps", "warmup_5pct", "linear warmup over ~5% of the steps", computed=True),
            SetKey("warmup_ratio", 0.05, "warm up over 5% of the steps"),
            Strategy("add_warmup"),
            Strategy("lightning_warmup"),
            FixCode(first_only=True),
        ),
        at_least=(("warmup_steps", "warmup_5pct"),),
    ),
)
