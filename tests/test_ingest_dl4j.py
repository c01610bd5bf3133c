"""Deeplearning4j consoles (readers/_dl4j.py, textlog_formats.parse_dl4j): ScoreIterationListener's "Score at
iteration N is x" is the training loss at iteration N, and an Evaluation.stats() block's Accuracy/Precision/Recall/F1
are held-out points on the last iteration seen. Fixtures are lines in the shape DL4J prints them (SLF4J prefix,
Java doubles); the silent cases keep other consoles' "Accuracy: x" and score sentences where they were."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points as _points
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_dl4j

_PREFIX = "06:38:16.402 [main] INFO org.deeplearning4j.optimize.listeners."


def _log(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p




def _block(acc: str) -> list[str]:
    return [
        f"{_PREFIX}EvaluativeListener - Reporting evaluation results:",
        "", "",
        "========================Evaluation Metrics========================",
        " # of classes:    5",
        f" Accuracy:        {acc}",
        " Precision:       0.6369",
        " Recall:          0.6318",
        " F1 Score:        0.6334",
        "Precision, recall & F1: macro-averaged (equally weighted avg. of 5 classes)",
        "", "",
        "=========================Confusion Matrix=========================",
        "    0    1    2    3    4",
        " 9505 2682  313   39   60 | 0 = 0",
    ]


def test_score_lines_are_the_training_loss_and_evaluation_blocks_held_out(tmp_path):
    lines = [f"{_PREFIX}ScoreIterationListener - Score at iteration {i} is {v}"
             for i, v in ((0, "1.6235184989295723"), (100, "1.3935213258387884"), (200, "1.0E-1"))]
    lines += _block("0.6162")
    lines += [f"{_PREFIX}ScoreIterationListener - Score at iteration 300 is NaN"]
    lines += _block("0.6318")
    run = load_run([_log(tmp_path, lines)])
    loss = run.series("loss")
    assert list(loss.steps) == [0, 100, 200, 300]
    assert [round(v, 4) for v in list(loss.values)[:3]] == [1.6235, 1.3935, 0.1]
    assert loss.values[3] != loss.values[3]  # Java's NaN survives as a non-finite point
    assert _points(run, "test_accuracy") == [(200, 0.6162), (300, 0.6318)]  # on the last iteration seen
    assert _points(run, "test_f1") == [(200, 0.6334), (300, 0.6334)]
    assert run.series("accuracy") is None or len(run.series("accuracy").steps) == 0  # no training-side copy


def test_lines_outside_an_evaluation_block_and_other_sentences_stay_unread_by_dl4j():
    st = State()
    assert parse_dl4j(" Accuracy:        0.63", st) is None  # no Evaluation Metrics banner before it
    assert parse_dl4j("Score at iteration 3 was 1.2", st) is None
    assert parse_dl4j("final score at iteration 7 is high", st) is None
    assert parse_dl4j("=========================Confusion Matrix=========================", st) is None
    assert parse_dl4j(" Accuracy:        0.63", st) is None  # a banner that is no evaluation opens nothing
    assert parse_dl4j("========================Evaluation Metrics========================", st) is None
    rec = parse_dl4j(" Accuracy:        0.63", st)
    assert rec is not None and rec.eval and rec.step is None and rec.metrics == {"test_accuracy": 0.63}
