"""`distributed_desync`: ranks of a data-parallel job disagree."""

from traindoc.causes.model import Cause, Manual, PlanPolicy, Remedy

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
    plan=PlanPolicy((Manual("use the same seed and data sharding on every rank; find the bad rank"),)),
)
