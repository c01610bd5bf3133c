"""scikit-learn's MLP curves as its users save them (names.py, readers/history_dict.py): `loss_curve_` and
`validation_scores_` dumped to JSON or CSV, and the verbose console's `Validation score: x`, all under one name each
(`loss`, `eval_score`). Tiny fixtures written here; the real runs are tests/corpus/reallib/sklearn-*."""

from __future__ import annotations

import json
from pathlib import Path

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
