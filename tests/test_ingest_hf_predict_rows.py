"""Seq2SeqTrainer's `predict_*` rows (`trainer.predict(test_dataset)`, the test set: context, no held-out curve): read
under their own names beside the `eval_*` ones, never as the held-out metrics the detectors read (eval_*, or test_*
where no eval_* exists), so no point of theirs can make an overfitting reading. First met in the real-world healthy
log tests/corpus/realworld/g11s34-cpt-large-feedback-generation-seq2seq-10ep, which predicts after every epoch."""

from __future__ import annotations

import json
from pathlib import Path

from traindoc.evidence import heldout
from traindoc.ingest.loader import load_run
from traindoc.ingest.names import is_eval_metric

RUN = Path(__file__).parent / "corpus" / "realworld" / "g11s34-cpt-large-feedback-generation-seq2seq-10ep" / "run"


def test_real_predict_rows_stay_apart_from_eval() -> None:
    run = load_run([RUN])
    predict = sorted(n for n in run.metrics if n.startswith("predict_"))
    assert "predict_loss" in predict and "predict_rouge-1" in predict
    assert not any(is_eval_metric(n) for n in predict)
    # the held-out loss is the eval rows' alone: its first point is eval_loss 0.6598, not predict_loss 0.6477
    assert round(float(run.metrics["eval_loss"].values[0]), 4) == 0.6598
    assert not any(m.name.startswith("predict_") for m in heldout.task_metrics(run))


def test_predict_rows_alone_are_not_promoted_to_heldout(tmp_path) -> None:
    # the same real state with its eval rows taken out: predict_* is still no held-out curve (test_* would be)
    state = json.loads((RUN / "trainer_state.json").read_text())
    state["log_history"] = [r for r in state["log_history"] if not any(k.startswith("eval_") for k in r)]
    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    run = load_run([tmp_path])
    assert "predict_loss" in run.metrics
    assert not any(is_eval_metric(n) for n in run.metrics)
