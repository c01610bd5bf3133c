"""A final training / held-out loss pair (no held-out curve) read beside a task metric logged on both sides
(transfer.py's PAIR_* comment, issue 8): when the metric opens the same gap while the held-out side still keeps half
of the training score, memorisation is confirmed from one row and the few-point gate does not cap it; a broken
held-out side (chance, 0), a small metric gap, a perplexity or no metric at all leave the pair listed."""

from __future__ import annotations

import numpy as np

from traindoc.diagnosis.build import diagnose, few_points, validate
from traindoc.diagnosis.ranking import FEW_POINTS_CAP, calibrate, rank_causes
from traindoc.evidence import run_detectors
from traindoc.evidence.detectors import transfer
from traindoc.ingest.model import Run, Series


def _row(pairs: dict[str, float], step: int = 50) -> Run:
    """One epoch line of a console log: every metric a single point at `step`."""
    run = Run()
    for name, v in pairs.items():
        run.add_series(Series(name, np.array([step]), np.array([v]), "train.log"))
    return run.finalize()


# keras-tuner#167's last epoch and DeepSpeech#336's epoch 19 (training and validation WER / CER)
KERAS = {"loss": 0.035, "accuracy": 0.9882, "eval_loss": 2.6765, "eval_accuracy": 0.5934}
SPEECH = {"loss": 12.98, "wer": 0.159, "cer": 0.0395, "eval_loss": 178.3, "val_wer": 0.512, "val_cer": 0.213}


def test_a_loss_pair_that_the_task_metric_corroborates_is_confirmed() -> None:
    for pairs in (KERAS, SPEECH):
        (f,) = transfer.detect_endpoint_loss_gap(_row(pairs))
        assert f.cause == "overfitting" and f.step == 50 and f.strength == transfer.PAIR_CORROBORATED >= 0.5
        assert f.numbers["corroborated"] and "listing" not in f.numbers


def test_a_corroborated_pair_is_not_capped_by_the_few_point_gate() -> None:
    run = _row(KERAS)
    findings = run_detectors(run)
    (r,) = [r for r in few_points(rank_causes(findings, run), findings) if r.cause == "overfitting"]
    assert r.confidence == calibrate("overfitting", r.score) and not r.ruled_out
    doc = diagnose(run, ["train.log"], findings=findings)
    validate(doc)
    assert doc["root_causes"][0]["cause"] == "overfitting"
    assert (doc["verdict"] == "problems_found") == (doc["root_causes"][0]["confidence"] >= 0.5)


def test_a_broken_or_near_held_out_side_or_no_metric_leaves_the_pair_listed() -> None:
    cases = (
        {**KERAS, "eval_accuracy": 0.097},  # held-out at chance on ten classes: a mismatch's or a leak's picture
        {**KERAS, "eval_accuracy": 0.0},  # exactly 0: a broken held-out set
        {**KERAS, "eval_accuracy": 0.975},  # the metric shows no gap (1.2 % against 2.5 % error)
        {"loss": 0.035, "eval_loss": 2.6765},  # a loss pair alone
        {"loss": 0.035, "accuracy": 98.82, "eval_loss": 2.6765, "eval_accuracy": 0.5934},  # scales differ
        {"loss": 0.035, "wer": 0.159, "eval_loss": 2.6765, "val_wer": 1.4},  # a WER over 1: nothing right
    )
    for pairs in cases:
        (f,) = transfer.detect_endpoint_loss_gap(_row(pairs))
        assert f.strength == transfer.ENDPOINT_LISTING and f.numbers["listing"], pairs
        findings = [f]
        (r,) = few_points(rank_causes(findings, _row(pairs)), findings)
        assert r.confidence <= FEW_POINTS_CAP
    # a perplexity pair (translate.py's 1.01 / 9e6) has no second measure: listed
    (f,) = transfer.detect_endpoint_loss_gap(_row({"perplexity": 1.01, "val_perplexity": 8.99e6}))
    assert f.numbers["listing"]


def test_a_normal_gap_with_a_metric_gap_stays_silent() -> None:
    # the loss ratio is the gate: a metric gap under a 1.1x loss pair is no finding of this detector
    assert transfer.detect_endpoint_loss_gap(_row({**KERAS, "loss": 0.5, "eval_loss": 0.55})) == []
