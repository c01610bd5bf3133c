"""Outcome predicates several causes share: a fix of any of them must leave the next run with these properties."""

from __future__ import annotations

from traindoc.causes.model import MetricOutcome

GRAD_NORM_BOUNDED = MetricOutcome("grad_norm", "grad_norm stays below 10x its median{where}", "max_over_median", "<",
                                  10, "boundary")
LOSS_NOT_DIVERGED = MetricOutcome("loss", "training loss ends within 10% of its minimum (no divergence)",
                                  "final_over_min", "<=", 1.1)
EVAL_LOSS_NEAR_MIN = MetricOutcome("eval_loss", "eval loss ends within 10% of its minimum", "final_over_min", "<=", 1.1)
LOSS_FINITE = MetricOutcome("loss", "no NaN/Inf loss", "count_nonfinite", "==", 0)
GRAD_NORM_FINITE = MetricOutcome("grad_norm", "no NaN/Inf grad norm", "count_nonfinite", "==", 0)
LOSS_FALLS = MetricOutcome("loss", "loss falls by at least 10% over the run", "rel_change", "<", -0.1)
