"""`distributed_desync`: ranks of a data-parallel job disagree."""

from traindoc.causes.model import Cause, Manual, PlanPolicy, Remedy, Strategy

CAUSE = Cause(
    id="distributed_desync",
    group="Systems",
    what="ranks of a data-parallel job disagree",
    evidence="per-rank losses differ where they must agree; one rank NaN; stragglers",
    typical_fix="same seeds/data sharding; find the bad rank",
    detectors=("detect_distributed_desync",),
    remedy=Remedy(
        "Ranks of the data-parallel job disagree",
        "Use the same seeds and a correct data sharding; find and exclude the bad rank",
        "high",
        "medium",
        "medium",
        quick_wins=("Compare per-rank losses at step 0",),
    ),
    # the standard edit where the code shows it (a DistributedSampler whose epoch is never set: plan/
    # fix_distributed.py; a rank-dependent seed is named as a manual step); else the manual step
    plan=PlanPolicy((Strategy("fix_distributed"),
                     Manual("use the same seed and data sharding on every rank; find the bad rank"))),
)
