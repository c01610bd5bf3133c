"""Regression errors as held-out task metrics (heldout.task_metrics): mae, mse, rmse, mape ... are lower-better by
definition, and a metric that is the held-out loss itself (a val_mse beside an MSE loss, or its root) is not read as
a second, independent measurement."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence import heldout
from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

CORPUS = Path(__file__).parent / "corpus"
STEPS = np.arange(1, 7) * 10
VAL_LOSS = np.array([0.30, 0.24, 0.21, 0.20, 0.205, 0.21])


def _run(**held: np.ndarray) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, np.geomspace(0.5, 0.1, STEPS.size), "run/train.log"))
    run.add_series(Series("eval_loss", STEPS, VAL_LOSS, "run/train.log"))
    for name, values in held.items():
        run.add_series(Series(name, STEPS, values, "run/train.log"))
    return run.finalize()


def test_keras_val_mae_is_a_lower_better_task_metric() -> None:
    # Keras's fit(metrics=["mae"]) on an MSE loss (reallib keras-healthy-s0, training.csv): val_mae is measured on the
    # held-out set beside val_loss and was ignored for want of a direction
    run = load_run([str(CORPUS / "reallib" / "keras-healthy-s0")])
    got = {m.name: m for m in heldout.task_metrics(run)}
    assert "val_mae" in got
    m = got["val_mae"]
    assert m.top is None  # lower-better: the value is its own error
    assert np.allclose(m.error, run.metrics["val_mae"].values)
    assert float(m.error[2]) < float(m.error[0])  # 0.411 -> 0.367: the error fell, the task improved


def test_each_regression_error_is_lower_better() -> None:
    falling = np.array([0.9, 0.7, 0.6, 0.55, 0.5, 0.48])
    names = ["val_mae", "val_rmse", "val_mape", "val_smape", "val_msle", "eval_mse"]
    got = {m.name: m for m in heldout.task_metrics(_run(**{n: falling * (i + 2) for i, n in enumerate(names)}))}
    assert sorted(got) == sorted(names)
    assert all(m.top is None for m in got.values())


def test_map_stays_higher_better_and_unrelated_words_stay_unread() -> None:
    rising = np.array([0.2, 0.3, 0.35, 0.4, 0.42, 0.43])
    got = {m.name: m for m in heldout.task_metrics(_run(val_map=rising, val_maestro=rising, val_msec=rising))}
    assert sorted(got) == ["val_map"] and got["val_map"].top == 1.0


def test_the_loss_under_a_metric_name_is_not_a_second_metric() -> None:
    # loss="mse", metrics=["mse", RootMeanSquaredError()]: val_mse is val_loss (to float32 rounding), val_rmse its
    # root; both move exactly as the loss does and are no evidence of their own
    same = VAL_LOSS * (1 + 2e-7)
    assert heldout.task_metrics(_run(val_mse=same, val_rmse=np.sqrt(VAL_LOSS))) == []
    # with a regulariser the loss is larger than the metric: the metric is a measurement of its own
    got = heldout.task_metrics(_run(val_mse=VAL_LOSS * 0.8))
    assert [m.name for m in got] == ["val_mse"]


def test_a_regression_error_beside_the_loss_does_not_settle_overfitting() -> None:
    # reallib keras-healthy-s0: val_loss (MSE) 0.210 -> 0.268 in the last epoch, val_mae 0.367 -> 0.411 with it. The
    # MAE measures the same errors: it is no second witness, and the loss-alone cap (UNJUDGED) still holds
    run = load_run([str(CORPUS / "reallib" / "keras-healthy-s0")])
    (f,) = data.detect_overfitting(run)
    assert f.strength <= data.UNJUDGED
    assert any("val_mae, a measure of the same errors as the loss" in e for e in f.evidence)
    assert [heldout.restates_loss(m) for m in heldout.task_metrics(run)] == [True]


def test_a_classification_metric_still_judges() -> None:
    rising = np.array([0.5, 0.6, 0.7, 0.72, 0.73, 0.74])
    (m,) = heldout.task_metrics(_run(val_accuracy=rising))
    assert not heldout.restates_loss(m)


def test_generative_sample_distances_are_lower_better_task_metrics() -> None:
    # StyleGAN3's metric-fid50k_full.jsonl (realworld g3s32-stylegan3-phytoplankton): FID 418 at the first snapshot,
    # then falling; a lower distance is a better generator
    run = load_run([str(CORPUS / "realworld" / "g3s32-stylegan3-phytoplankton-fid-3000kimg" / "run")])
    (m,) = [m for m in heldout.task_metrics(run) if "fid" in m.name]
    assert m.top is None and float(m.error[-1]) < float(m.error[0])
    run = _run(eval_kid50k_full=np.array([0.3, 0.1, 0.05, 0.04, 0.04, 0.03]), eval_lpips=np.full(6, 0.2))
    assert {m.name: m.top for m in heldout.task_metrics(run)} == {"eval_kid50k_full": None, "eval_lpips": None}


def test_a_name_holding_fid_inside_a_word_is_not_a_sample_distance() -> None:
    # "confidence" holds "fid": no direction from it, so no task metric
    run = _run(eval_confidence=np.array([0.5, 0.6, 0.7, 0.72, 0.73, 0.74]))
    assert heldout.task_metrics(run) == []
