"""Consoles first met in blind real-world healthy logs (issue 8, session 28, g29), each read by its own module:
XGBoost's round lines (_xgboost_eval.py), LightGBM's (_lightgbm_eval.py), CatBoost's verbose lines
(_catboost_console.py) and Vowpal Wabbit's progressive-validation table (_vw_progress.py). Blind, the XGBoost,
LightGBM and VW logs were unreadable and the CatBoost one kept only its summary lines. The "reads" cases load the
corpus entries or small synthetic lines; the silent cases call the parsers on lines of other formats."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._catboost_console import parse_catboost
from traindoc.ingest.readers._lightgbm_eval import parse_lightgbm
from traindoc.ingest.readers._vw_progress import parse_vw_progress
from traindoc.ingest.readers._xgboost_eval import parse_xgboost
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _points(entry: str, name: str) -> list[tuple[int, float]]:
    s = load_run([REALWORLD / entry / "run"]).series(name)
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def test_lightgbm_rounds_read_train_and_validation_losses():
    entry = "lightgbm-interactive-plot-example-l1-l2"
    loss, ev = _points(entry, "loss"), _points(entry, "eval_loss")
    assert loss[0] == (10, 0.4574) and loss[-1] == (100, 0.3852) and len(loss) == 10  # l1: the first loss metric
    assert ev[0] == (10, 0.4565) and ev[-1] == (100, 0.3829)


def test_lightgbm_early_stopping_summary_is_not_a_new_round():
    st = State()
    rec = parse_lightgbm("[100]\tvalid_0's multi_logloss: 0.987234\tvalid_0's auc: 0.91", st)
    assert rec is not None and rec.step == 100 and rec.metrics == {"val_loss": 0.987234, "val_auc": 0.91}
    assert parse_lightgbm("Early stopping, best iteration is:", st) is None
    assert parse_lightgbm("[80]\tvalid_0's multi_logloss: 0.95", st) is None  # the best round, repeated
    rec = parse_lightgbm("[20]\tcv_agg's binary_logloss: 0.2351 + 0.0031", State())
    assert rec is not None and rec.metrics == {"val_loss": 0.2351}


def test_xgboost_rounds_read_train_and_validation_losses():
    assert _points("xgboost-gpu-readme-train-rmse", "loss")[:2] == [(0, 21.6024), (1, 19.5552)]
    rec = parse_xgboost("[5]\ttrain-auc:0.9633+0.0012\ttest-auc:0.9521+0.0040\ttest-logloss:0.2", State())
    assert rec is not None and rec.step == 5 and rec.metrics == {"auc": 0.9633, "val_auc": 0.9521, "val_loss": 0.2}


def test_catboost_lines_read_with_the_direction_the_best_cell_shows():
    assert _points("catboost-tutorials-mvs-bootstrap-logloss", "loss")[0] == (0, 0.6611)  # last of three fits
    st = State()
    up = ["0:\tlearn: 0.79\ttest: 0.78\tbest: 0.78 (0)\ttotal: 182ms\tremaining: 3m 1s",
          "300:\tlearn: 0.97\ttest: 0.94\tbest: 0.94 (300)\ttotal: 48s\tremaining: 1m 51s"]
    assert parse_catboost(up[0], st).metrics == {"loss": 0.79, "val_loss": 0.78}  # direction not yet known
    assert parse_catboost(up[1], st).metrics == {"learn_score": 0.97, "val_score": 0.94}  # AUC-like: rose
    rec = parse_catboost("200:\tlearn: 0.2700602\ttotal: 10.5s\tremaining: 1m 33s", State())
    assert rec is not None and rec.step == 200 and rec.metrics == {"loss": 0.2700602}


def test_vw_table_reads_since_last_and_zero_one_loss_as_error():
    st = State()
    assert parse_vw_progress("0.693147 0.693147            1            1.0  -1.0000   0.0000       38", st) is None
    assert parse_vw_progress("loss     last          counter         weight    label  predict features", st) is None
    rec = parse_vw_progress("0.547826 0.481757          256          256.0  -1.0000  -1.1636       29", st)
    assert rec is not None and rec.step == 256 and rec.metrics == {"loss": 0.481757}
    rec = parse_vw_progress("0.458214 0.443012 h        2048         2048.0   1.0000   0.8413       31", st)
    assert rec is not None and rec.metrics == {"val_loss": 0.443012}
    assert _points("vowpal-wabbit-csv-iris-oaa-tutorial", "error")[-1] == (128, 0.0469)  # --oaa: 0/1 loss


def test_gbdt_and_vw_parsers_stay_silent_on_other_consoles():
    others = ["[10]\tloss: 0.5", "[1/10] loss=0.3", "Epoch 1/10 - loss: 0.52", "[5] train-rmse 0.3",
              "0: loss 0.5", "1 2 3 4 5 6 7", "[3]\ttraining's l2 0.3"]
    for line in others:
        assert parse_xgboost(line, State()) is None, line
        assert parse_lightgbm(line, State()) is None, line
        assert parse_catboost(line, State()) is None, line
        assert parse_vw_progress(line, State()) is None, line
