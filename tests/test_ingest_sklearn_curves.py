"""scikit-learn's MLP curves as its users save them (names.py, readers/history_dict.py): `loss_curve_` and
`validation_scores_` dumped to JSON or CSV, and the verbose console's `Validation score: x`, all under one name each
(`loss`, `eval_score`), and the LR and solver of the `get_params()` dump (causes/keys.py). Tiny fixtures written
here; the real runs are tests/corpus/reallib/sklearn-*."""

from __future__ import annotations

import json
from pathlib import Path

from traindoc.evidence.context import configured_lrs, optimizer_family
from traindoc.ingest.loader import load_run
from traindoc.ingest.names import canonical_metric, history_metric_name

LOSS = [2.07, 1.61, 1.22, 0.98, 0.85]
SCORES = [0.31, 0.52, 0.64, 0.70, 0.72]


def test_sklearn_attribute_names_are_the_canonical_loss_and_eval_score() -> None:
    assert history_metric_name("loss_curve_") == "loss"
    assert history_metric_name("validation_scores_") == "eval_score"
    assert canonical_metric("Validation score") == canonical_metric("validation_score") == "eval_score"


def test_names_without_the_split_or_the_container_word_are_unchanged() -> None:
    # the bare score is no held-out metric, and a named score keeps its own name
    assert canonical_metric("score") == "score"
    assert canonical_metric("f1_score") == "f1_score"


def test_dumped_curves_json_is_read_as_loss_and_eval_score(tmp_path: Path) -> None:
    (tmp_path / "curves.json").write_text(json.dumps(
        {"loss_curve": LOSS, "validation_scores": SCORES, "best_loss": None, "n_iter": 5}))
    run = load_run([tmp_path])
    assert run.series("loss").values.tolist() == LOSS
    assert run.series("eval_score").values.tolist() == SCORES
    assert run.series("loss_curve") is None


def test_dumped_loss_curve_csv_and_console_agree(tmp_path: Path) -> None:
    rows = [f"{i},{v!r},{s!r}" for i, (v, s) in enumerate(zip(LOSS, SCORES, strict=True), start=1)]
    (tmp_path / "loss_curve.csv").write_text("\n".join(["iteration,loss,validation_score", *rows]) + "\n")
    run = load_run([tmp_path / "loss_curve.csv"])
    assert run.series("eval_score").values.tolist() == SCORES
    lines = [f"Iteration {i}, loss = {v:.8f}\nValidation score: {s:.6f}" for i, (v, s) in
             enumerate(zip(LOSS, SCORES, strict=True), start=1)]
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    con = load_run([tmp_path / "train.log"])
    assert con.series("eval_score").values.tolist() == SCORES
    assert con.series("loss").values.tolist() == LOSS


def _params(tmp_path: Path, **over: object) -> Path:
    """The keys of an MLPClassifier's get_params() that name its optimiser and LR, dumped as its users dump them."""
    params = {"solver": "adam", "learning_rate": "constant", "learning_rate_init": 3e-7, "power_t": 0.5,
              "activation": "relu", "hidden_layer_sizes": [64]} | over
    (tmp_path / "params.json").write_text(json.dumps(params))
    return tmp_path / "params.json"


def test_sklearn_params_give_the_lr_from_learning_rate_init_and_the_optimiser_from_solver(tmp_path: Path) -> None:
    run = load_run([_params(tmp_path)])
    lrs = configured_lrs(run)
    assert [lr.value for lr in lrs] == [3e-7]
    # the family Adam is judged in, as for a config that says optimizer: adam
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text(json.dumps({"optimizer": "adam"}))
    assert optimizer_family(run) == optimizer_family(load_run([tmp_path / "other" / "config.json"])) != "unknown"


def test_a_numeric_learning_rate_without_learning_rate_init_is_still_the_lr(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"optimizer": "sgd", "learning_rate": 0.05}))
    run = load_run([tmp_path / "config.json"])
    assert [lr.value for lr in configured_lrs(run)] == [0.05]
    assert optimizer_family(run) == "sgd"
