"""An object detector that is given no ground-truth box: its labels never reached the loss (docs/diagnose.md,
"A detector given no ground-truth box").

Darknet's YOLO layers print, for every forward pass, how many ground-truth boxes the layer was given on that batch
(`count`), and the IOU, class, objectness and recall means over them (NaN when count is 0: 0/0). One layer at 0 on
one batch is routine: each box goes to the scale whose anchors fit it, and a batch of small objects gives the coarse
layer nothing. Every layer at 0 on one forward pass can still be a batch of background images (Darknet trains on
images with empty label files). Every layer at 0 on every pass, two passes or more, is a training set whose boxes
are not read: label files missing or misnamed beside the images, a separator the parser does not take (commas where
Darknet expects spaces), a class id outside the `.names` list. The reader (textlog_formats._darknet_region) keeps the
counts as `region<N>_count` ("region_count" for YOLOv2's unnumbered layer).
"""

from __future__ import annotations

import re

import numpy as np

from traindoc.evidence.context import cite_series
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run, Series

_COUNT = re.compile(r"^region\d*_count$")

# Two forward passes with no box at any layer: a real training set with annotated objects gives every pass of
# Darknet's subdivided batch (4-64 images) a box at some layer unless the set is mostly background; on one pass alone
# a batch of background images is the look-alike, so the reading is listed below the report threshold (the ranking's
# few-points cap, numbers["endpoints_only"]).
NO_BOX = 0.7
MIN_PASSES = 2


def _counts(run: Run) -> list[Series]:
    return [s for name in sorted(run.metrics) if _COUNT.match(name) and (s := run.series(name)) is not None]


def detect_no_ground_truth_boxes(run: Run) -> list[Finding]:
    """Every logged per-layer ground-truth count is 0 (see NO_BOX above)."""
    counts = _counts(run)
    if not counts:
        return []
    values = np.concatenate([s.finite()[1] for s in counts])
    if values.size == 0 or values.size < sum(len(s.values) for s in counts) or np.any(values != 0):
        return []
    passes = max(len(s.values) for s in counts)
    first = min(int(s.steps[0]) for s in counts)
    where = "one forward pass" if passes < MIN_PASSES else f"{passes} forward passes"
    ev = [f"{', '.join(s.name for s in counts)} (ground-truth boxes given to each YOLO layer) are 0 at every one of "
          f"{values.size} readings over {where} {cite_series(counts[0])}: no box reached the loss, so the IOU, class "
          "and recall means are 0/0 = NaN; a training set whose boxes are read gives some layer a box on nearly "
          "every batch (label files missing or misnamed beside the images, fields separated by commas, class ids "
          "outside the names list)"]
    numbers: dict[str, object] = {"zero_counts": int(values.size), "passes": passes}
    if passes < MIN_PASSES:
        numbers["endpoints_only"] = True  # one batch could be background images alone
    return [Finding("detect_no_ground_truth_boxes", "data_pipeline_bug", NO_BOX,
                    "the detector was given no ground-truth box at any layer", ev, first, numbers)]


DETECTORS = [detect_no_ground_truth_boxes]
