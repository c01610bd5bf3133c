"""A NaN confined to some loss terms while the others stay finite (evidence/nan_terms.py): the weights are finite, so
no step size made it and the unguarded op in those terms is the first reading. Fires on constructed runs and on a real
log (tests/corpus/realworld/g7-pytorch-yolov3-13-*); silent where every term goes non-finite, where the NaN recovers,
and where it lasts a single point."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.diagnosis.unexplained_nan import candidates
from traindoc.evidence.detectors import data, numerics
from traindoc.evidence.nan_prior import lr_first
from traindoc.evidence.nan_terms import confined_terms
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def terms_run(series: dict[str, np.ndarray]) -> Run:
    run = Run()
    for name, v in series.items():
        run.add_series(Series(name, np.arange(100, 100 + len(v)), v, "run/train.log", name))
    return run.finalize()


def confined_run(nan_from: int = 6) -> Run:
    n = 10
    box = np.linspace(3.0, 2.0, n)
    box[nan_from:] = np.nan
    conf = np.linspace(1.0, 0.5, n)  # finite through the NaN
    return terms_run({"loss": box + conf, "box_loss": box, "conf_loss": conf})


def test_a_nan_confined_to_one_term_points_at_that_terms_op_not_the_lr() -> None:
    run = confined_run()
    c = confined_terms(run)
    assert c is not None and c.step == 106 and c.failing == ["box_loss"] and c.finite == ["conf_loss"]
    assert not lr_first(run)
    f = numerics.detect_nan_inf(run)
    assert f and f[0].strength >= 0.5 and f[0].numbers["confined_terms"]
    assert candidates(f[0])[:2] == ["nan_inf", "data_pipeline_bug"]
    d = data.detect_nan_confined_terms(run)
    assert d and d[0].cause == "data_pipeline_bug" and d[0].strength < f[0].strength


def test_the_real_yolov3_log_reads_as_a_confined_nan() -> None:
    run = load_run([REALWORLD / "g7-pytorch-yolov3-13-xywh-cls-nan-bbox-iou-bug" / "run"])
    c = confined_terms(run)
    assert c is not None and "conf_loss" in c.finite and "x_loss" in c.failing


def test_silent_when_every_term_goes_non_finite() -> None:
    n = 10
    a, b = np.linspace(3.0, 2.0, n), np.linspace(1.0, 0.5, n)
    a[6:], b[6:] = np.nan, np.nan  # an update wrote NaN into the weights: every term follows
    run = terms_run({"loss": a + b, "box_loss": a, "conf_loss": b})
    assert confined_terms(run) is None
    assert not numerics.detect_nan_inf(run)[0].numbers["confined_terms"]
    assert not data.detect_nan_confined_terms(run)


def test_silent_for_a_single_non_finite_point_or_a_recovering_nan() -> None:
    assert confined_terms(confined_run(nan_from=9)) is None  # one point: could be a one-off
    n = 10
    box, conf = np.linspace(3.0, 2.0, n), np.linspace(1.0, 0.5, n)
    box[4:6] = np.nan  # finite again after: a skipped update
    run = terms_run({"loss": box + conf, "box_loss": box, "conf_loss": conf})
    assert not data.detect_nan_confined_terms(run)
    f = numerics.detect_nan_inf(run)[0]
    assert f.numbers["nan_recovers"] and f.strength < 0.5  # the skipped-update reading, not the term's op
