"""A detector's box-regression term non-finite while its classification terms stay finite, in a log with no training
loss (YOLO's `box obj cls total` table): nan_inf lists the box term's own op beside the box targets (detectors/
numerics.py: _box_term_op), and the summary names those two readings only (diagnosis/unexplained_nan.py)."""

from __future__ import annotations

import numpy as np

from traindoc.diagnosis import unexplained_nan
from traindoc.diagnosis.build import diagnose
from traindoc.evidence.detectors import numerics
from traindoc.ingest.model import Run, Series

NAN_STEP = 6


def yolo_table(cls_nan: bool = False) -> Run:
    """Ten rows of a YOLO-style table logged at steps 1..10; `box` (and `total`) NaN from NAN_STEP for good."""
    steps = np.arange(1, 11)
    box = np.linspace(0.08, 0.05, 10)
    box[NAN_STEP - 1:] = np.nan
    obj = np.linspace(0.02, 0.01, 10)
    cls = np.linspace(0.03, 0.02, 10)
    if cls_nan:
        cls[NAN_STEP - 1:] = np.nan
    run = Run()
    for name, v in (("box", box), ("obj", obj), ("cls", cls), ("total", box + obj + cls)):
        run.add_series(Series(name, steps, v, "run/train.log"))
    return run.finalize()


def test_box_term_nan_lists_its_op_beside_its_targets() -> None:
    run = yolo_table()
    (f,) = numerics.detect_nan_inf(run)
    assert f.step == NAN_STEP and f.strength == 0.35 and f.numbers["box_term_only"]
    assert f.numbers["nan_recovers"] is False
    assert unexplained_nan.candidates(f) == ["data_pipeline_bug", "nan_inf"]
    doc = diagnose(run)
    assert doc["verdict"] == "problems_found"  # a NaN total for good is never healthy
    assert "box-regression term alone" in doc["summary"] and "learning rate" not in doc["summary"]


def test_silent_when_the_classification_terms_go_nan_too() -> None:
    # every head non-finite: the shared backbone (the LR, an overflow), not the box term's op
    assert numerics.detect_nan_inf(yolo_table(cls_nan=True)) == []
