"""A logged total loss that goes non-finite at the step where a detector's box term alone does (evidence/nan_box.py):
the classification terms of the same forward pass are finite, so the weights are; the box targets come first, the box
term's op next, and neither the LR nor an applied float16 gradient overflow is a reading. Fires on a constructed run
at a known step and on two real logs (ruotianluo/pytorch-faster-rcnn#105, endernewton/tf-faster-rcnn#107); silent
where every head goes non-finite, where the total went non-finite before the box term, and where the NaN recovers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.diagnosis.unexplained_nan import candidates
from traindoc.evidence.detectors import data, numerics
from traindoc.evidence.nan_box import box_only_total
from traindoc.evidence.nan_prior import lr_first
from traindoc.evidence.nan_terms import confined_terms
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def heads_run(box: np.ndarray, cls: np.ndarray, total: np.ndarray | None = None) -> Run:
    run = Run()
    steps = np.arange(20, 20 * (len(box) + 1), 20)
    total = box + cls if total is None else total
    for name, v in (("loss", total), ("loss_box", box), ("loss_cls", cls)):
        run.add_series(Series(name, steps, v, "run/train.log", name))
    return run.finalize()


def box_nan_run() -> Run:
    n = 8
    box = np.linspace(0.8, 0.6, n)
    cls = np.linspace(0.5, 0.3, n)
    box[-1] = np.nan  # the paste ends at the one NaN line, as both real logs do
    return heads_run(box, cls)


def test_a_nan_in_the_box_term_alone_puts_the_box_targets_first() -> None:
    run = box_nan_run()
    assert confined_terms(run) is None  # a single point: the multi-point rule (evidence/nan_terms.py) does not read it
    b = box_only_total(run)
    assert b is not None and b.step == 160 and b.numbers["term"] == "loss_box"
    assert not lr_first(run)
    f = numerics.detect_nan_inf(run)[0]
    assert f.step == 160 and f.numbers["box_term_only"] and f.strength == pytest.approx(0.35)
    d = data.detect_data_pipeline_bug(run)
    assert d and d[0].strength > f.strength  # the box targets first
    fp = numerics.detect_fp16_overflow(run)
    assert fp and fp[0].strength <= 0.2  # only an activation overflow inside the box term fits
    assert candidates(f) == ["data_pipeline_bug", "nan_inf", "fp16_overflow"]


@pytest.mark.parametrize("entry, step", [("g2-ruotianluo-faster-rcnn-105-zero-based-boxes-nan", 140),
                                         ("g2-tf-faster-rcnn-107-box-height-negative-nan", 60)])
def test_the_real_faster_rcnn_logs_read_as_a_box_term_nan(entry: str, step: int) -> None:
    run = load_run([REALWORLD / entry / "run"])
    b = box_only_total(run)
    assert b is not None and b.step == step and b.numbers["term"] == "rpn_loss_box"
    f = numerics.detect_nan_inf(run)[0]
    assert f.numbers["box_term_only"] and f.strength < 0.5
    assert numerics.detect_fp16_overflow(run)[0].strength <= 0.2


def test_silent_when_every_head_goes_non_finite() -> None:
    n = 8
    box, cls = np.linspace(0.8, 0.6, n), np.linspace(0.5, 0.3, n)
    box[-1] = cls[-1] = np.nan  # a NaN in the weights reaches every head
    run = heads_run(box, cls)
    assert box_only_total(run) is None
    assert not numerics.detect_nan_inf(run)[0].numbers["box_term_only"]


def test_silent_when_the_total_went_non_finite_before_the_box_term() -> None:
    n = 8
    box, cls = np.linspace(0.8, 0.6, n), np.linspace(0.5, 0.3, n)
    total = box + cls
    total[-3:] = np.nan  # the total's NaN came first, from a term this log does not name
    box[-1] = np.nan
    run = heads_run(box, cls, total)
    assert box_only_total(run) is None


def test_silent_when_the_nan_recovers() -> None:
    n = 10
    box, cls = np.linspace(0.8, 0.6, n), np.linspace(0.5, 0.3, n)
    box[4] = np.nan  # finite again after: a skipped update, not this trace
    run = heads_run(box, cls)
    assert box_only_total(run) is None
    assert numerics.detect_nan_inf(run)[0].numbers["nan_recovers"]


def rpn_run(cls_at_nan: float = 0.68, box_name: str = "rpn_loss_box") -> Run:
    """Faster R-CNN's four terms every 20 steps; the RPN box term (or `box_name`) NaN at step 160, the last line;
    rpn_loss_cls reads `cls_at_nan` there."""
    n = 8
    steps = np.arange(20, 20 * (n + 1), 20)
    box = np.linspace(0.8, 0.6, n)
    box[-1] = np.nan
    rpn_cls = np.linspace(0.3, 0.1, n)
    rpn_cls[-1] = cls_at_nan
    run = Run()
    for name, v in ((box_name, box), ("rpn_loss_cls", rpn_cls), ("loss_cls", np.linspace(0.5, 0.3, n)),
                    ("loss_box", np.linspace(0.2, 0.1, n))):
        run.add_series(Series(name, steps, v, "run/train.log", name))
    return run.finalize()


def test_a_nan_in_the_rpn_box_term_alone_names_the_box_targets() -> None:
    # smooth L1 of finite deltas is finite: only a degenerate ground-truth box's log(w_gt / w_anchor) is left
    b = data.box_target_nan(rpn_run())
    assert b is not None and b.step == 160 and b.strength == pytest.approx(data.RPN_BOX_NAN_STRENGTH)
    for entry in ("g2-ruotianluo-faster-rcnn-105-zero-based-boxes-nan",
                  "g2-tf-faster-rcnn-107-box-height-negative-nan"):
        (d,) = data.detect_data_pipeline_bug(load_run([REALWORLD / entry / "run"]))
        assert d.strength == pytest.approx(data.RPN_BOX_NAN_STRENGTH) and "rpn_loss_box" in d.evidence[1]


def test_the_rpn_box_term_stays_listed_beside_an_overflow_or_for_a_term_with_its_own_op() -> None:
    # a classification term far beyond any head's loss at that step: a prediction may have overflowed
    over = data.box_target_nan(rpn_run(cls_at_nan=3e4))
    assert over is not None and over.strength == pytest.approx(data.BOX_NAN_STRENGTH)
    # a second-stage or IoU-family term (YOLO's box, CIoU): its own op can fail, the 0.45 listing stays
    other = data.box_target_nan(rpn_run(box_name="loss_giou"))
    assert other is not None and other.strength == pytest.approx(data.BOX_NAN_STRENGTH)
