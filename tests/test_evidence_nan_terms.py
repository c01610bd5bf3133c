"""A NaN confined to some loss terms while the others stay finite (evidence/nan_terms.py): the weights are finite, so
no step size made it and the unguarded op in those terms is the first reading. Fires on constructed runs and on a real
log (tests/corpus/realworld/g7-pytorch-yolov3-13-*); silent where every term goes non-finite, where the NaN recovers,
and where it lasts a single point."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.diagnosis.unexplained_nan import candidates
from traindoc.evidence.detectors import data, numerics, optimisation
from traindoc.evidence.nan_prior import lr_first
from traindoc.evidence.nan_terms import confined_terms, terms_blown_up
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


def blown_run(finite_after: np.ndarray) -> Run:
    n = 10
    box = np.linspace(3.0, 2.0, n)
    box[6:] = np.nan
    conf = np.linspace(1.0, 0.5, n)
    conf[6:] = finite_after
    return terms_run({"loss": box + conf, "box_loss": box, "conf_loss": conf})


def test_finite_terms_that_blew_up_read_as_the_end_of_a_divergence_not_an_op() -> None:
    # conf_loss at ~1000x its earlier median (0.86) where box_loss is NaN (pytorch-yolo2-87's x/y terms at ~1691):
    # the weights diverged, the NaN ends it
    run = blown_run(np.array([800.0, 1200.0, 1500.0, 1700.0]))
    assert confined_terms(run) is None
    blown = terms_blown_up(run)
    assert blown is not None and blown[0] == "conf_loss" and blown[2] / blown[1] > 1000
    f = numerics.detect_nan_inf(run)
    assert f and f[0].step == 106 and f[0].strength <= 0.25 and "blown up" in f[0].evidence[0]
    assert not data.detect_nan_confined_terms(run)
    lr = [x for x in optimisation.detect_lr_too_high(run) if x.cause == "lr_too_high"]
    assert lr and lr[0].strength >= 0.5 and any("diverged first" in e for e in lr[0].evidence)


def test_finite_terms_at_their_usual_size_keep_the_op_reading() -> None:
    run = blown_run(np.array([0.7, 0.6, 0.65, 0.55]))  # within 2x of their earlier level: no divergence
    assert terms_blown_up(run) is None and confined_terms(run) is not None
    f = numerics.detect_nan_inf(run)
    assert f and f[0].strength >= 0.5 and f[0].numbers["confined_terms"]
