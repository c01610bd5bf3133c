"""A negative loss in a run that scores its targets by overlap (Dice/IoU), or a loss named a cross-entropy below zero
(detectors/data.py, _negative_classification_loss): the targets are outside [0, 1] (0-255 masks into BCE). Fires on
constructed runs at their first step and on the real milesial/Pytorch-UNet logs; silent where a negative loss can be
negative (a density's log-likelihood, a -Dice loss above -1) beside a Dice in [0, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def seg_run(loss: np.ndarray, metric: str = "val_dice", score: float = 0.8, loss_name: str = "loss") -> Run:
    run = Run()
    steps = np.arange(10, 10 + 10 * len(loss), 10)
    run.add_series(Series("loss", steps, loss, "run/train.log", loss_name))
    run.add_series(Series(metric, steps[-3:], np.full(3, score), "run/train.log", metric))
    return run.finalize()


def _negative(run: Run) -> list:
    return [f for f in data.detect_data_pipeline_bug(run) if "median_loss" in f.numbers]


def test_a_bce_below_minus_one_beside_a_dice_over_one_fires_at_its_first_step() -> None:
    run = seg_run(-np.linspace(1000.0, 3000.0, 12), score=1.97)
    f = _negative(run)
    assert f and f[0].cause == "data_pipeline_bug" and f[0].strength >= 0.5 and f[0].step == 10
    assert any("overlap score" in e for e in f[0].evidence) and any("reaches 1.97" in e for e in f[0].evidence)


def test_a_loss_named_a_cross_entropy_below_zero_fires_without_a_metric() -> None:
    run = Run()
    run.add_series(Series("loss", np.arange(1, 9), -np.linspace(0.2, 0.6, 8), "run/train.log", "bce_loss"))
    f = _negative(run.finalize())
    assert f and f[0].step == 1 and any("named a cross-entropy" in e for e in f[0].evidence)


def test_silent_for_a_loss_that_can_be_negative_beside_a_dice_in_range() -> None:
    # a -Dice (or Dice + CE) loss has -1 as its optimum: -0.9 beside a Dice of 0.9 is a healthy segmentation run
    assert not _negative(seg_run(-np.linspace(0.3, 0.9, 12), score=0.9))
    # a density's negative log-likelihood (a flow, a Gaussian head) goes below -1 by design; with no score beside it
    # and its name not a cross-entropy, nothing says its targets are out of range
    run = Run()
    run.add_series(Series("loss", np.arange(1, 13), -np.linspace(0.5, 4.0, 12), "run/train.log", "nll"))
    run.add_series(Series("elbo", np.arange(1, 13), np.linspace(0.5, 4.0, 12), "run/train.log", "elbo"))
    assert not _negative(run.finalize())
    # an IoU logged in percent is no overlap "above 1"
    f = _negative(seg_run(-np.linspace(2.0, 4.0, 12), metric="mIoU", score=72.5))
    assert f and not any("reaches" in e for e in f[0].evidence)


def test_the_real_unet_logs_with_masks_0_255_read_as_the_data() -> None:
    for name in ("pytorch-unet-78-bce-negative-mask-0-255", "pytorch-unet-84-png-masks-negative-loss"):
        f = _negative(load_run([REALWORLD / name / "run"]))
        assert f and f[0].strength >= 0.5, name


def test_one_pasted_line_with_a_negative_loss_beside_an_accuracy_is_listed_not_reported(tmp_path: Path) -> None:
    # a single Keras epoch line (a regression target fed to binary cross-entropy): the sign says it from one point,
    # but one line cannot exclude a misread, so the reading is listed under insufficient_data (below 0.5)
    run = Run()
    run.add_series(Series("loss", np.array([1]), np.array([-117944.75]), "run/train.log", "loss"))
    run.add_series(Series("accuracy", np.array([1]), np.array([3.8897e-05]), "run/train.log", "accuracy"))
    (f,) = _negative(run.finalize())
    assert f.step == 1 and f.numbers["endpoints_only"] and "over 1 point " in f.evidence[0]
    log = tmp_path / "train.log"
    log.write_text("Epoch 1/50\n1607/1607 [==============================] - 10s 6ms/step - loss: -117944.7500 - "
                   "accuracy: 3.8897e-05\n")
    from traindoc.diagnosis.build import diagnose

    doc = diagnose(load_run([log]))
    assert doc["verdict"] == "insufficient_data"
    top = doc["root_causes"][0]
    assert top["cause"] == "data_pipeline_bug" and top["confidence"] < 0.5


def test_one_point_of_a_minus_dice_loss_above_minus_one_stays_silent() -> None:
    run = Run()
    run.add_series(Series("loss", np.array([1]), np.array([-0.8]), "run/train.log", "loss"))
    run.add_series(Series("val_dice", np.array([1]), np.array([0.8]), "run/train.log", "val_dice"))
    assert _negative(run.finalize()) == []
