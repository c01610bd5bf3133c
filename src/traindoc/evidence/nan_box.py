"""A logged total loss that goes non-finite at the step where a detector's box-regression term alone does (docs/
diagnose.md, "A NaN in the box term alone").

detectors/data.py: box_target_nan reads the loss terms of a detector (box, objectness, class) and finds the first
step where a box-regression term is non-finite while the classification terms of the same forward pass are finite.
Where the run also logs its total loss and that total turns non-finite at that same step, the NaN that ended the run
came through the box term: the forward pass that made it ran on finite weights (the classification terms read the
same backbone and head), so no step size and no float16 gradient overflow applied to the weights made it. This is
the trace of evidence/nan_terms.py (a NaN confined to some terms) at a single logged point, which nan_terms does not
read (it wants two, to tell a lasting trace from a one-off); for a box term one point is enough to place the NaN,
since a NaN that reached the weights would show in every head at that step already.

Of what is left, the box targets come first (a degenerate box: width or height <= 0, 0-based coordinates where the
loader subtracts 1, whose log(w_gt / w_anchor) is NaN; box_target_nan's reading, data_pipeline_bug 0.45, 0.55 for a
region-proposal term, whose smooth L1 has no op of its own to fail) and the box term's own op next (an IoU loss
without an epsilon; nan_inf 0.35): the log cannot tell a degenerate box from an op that fails on it, and in the real
logs of this shape with a logged total the boxes were at fault
(ruotianluo/pytorch-faster-rcnn#105, endernewton/tf-faster-rcnn#107).
"""

from __future__ import annotations

from traindoc.evidence import stats
from traindoc.evidence.context import nan_context
from traindoc.evidence.detectors.data import box_target_nan
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run


def box_only_total(run: Run) -> Finding | None:
    """box_target_nan's finding when the logged total went non-finite for good at that same step, else None."""
    return stats.cached(run, "nan_box_only_total", lambda: _box_only_total(run))


def _box_only_total(run: Run) -> Finding | None:
    ctx = nan_context(run)
    if ctx is None or ctx.recovers or not ctx.loss_nan:
        return None
    box = box_target_nan(run)
    if box is None or box.step != ctx.step:
        return None
    return box
