"""Deeplearning4j (Java) consoles: the training score per iteration and the evaluation blocks.

DL4J logs through SLF4J, one line per event behind a `HH:MM:SS.mmm [thread] LEVEL logger.Class - ` prefix. Its
`ScoreIterationListener(n)` prints the network's score every n iterations:

    06:38:16.402 [main] INFO org.deeplearning4j.optimize.listeners.ScoreIterationListener - Score at iteration 0 is 1.62

The score is `Model.score()`: the loss function's value on the last minibatch (plus the l1/l2 terms when the
configuration has any), i.e. the training loss at that iteration. The generic `key: value` rules see no pair in that
sentence ("iteration 0 is 1.62" names no metric before its number), so a DL4J run was read without any loss.

`Evaluation.stats()` (printed by `EvaluativeListener` during training, or by the user after `net.evaluate(iter)`)
prints a block under a `=====...Evaluation Metrics...=====` banner (`=====...Scores...=====` before 1.0):

    ========================Evaluation Metrics========================
     # of classes:    5
     Accuracy:        0.6318
     Precision:       0.6369
     Recall:          0.6318
     F1 Score:        0.6334
    Precision, recall & F1: macro-averaged (equally weighted avg. of 5 classes)

    =========================Confusion Matrix=========================

Those figures are measured on the iterator handed to the evaluation, which DL4J's examples and listeners give the
test set: they are held-out task metrics (`test_accuracy`, ...), placed on the last training iteration seen. Read
line by line they were training-side `accuracy` points. The block ends at the next banner line.

This module only recognises the lines; textlog_formats.parse_dl4j turns them into records (it imports nothing from
there, which imports it).
"""

from __future__ import annotations

import re

# Java's Double.toString: "1.6235184989295723", "1.0E-4", "NaN", "Infinity", "-Infinity"
_JAVA_DOUBLE = r"-?(?:\d+(?:\.\d+)?(?:E-?\d+)?|NaN|Infinity)"
_SCORE = re.compile(rf"\bScore at iteration (\d{{1,18}}) is ({_JAVA_DOUBLE})\s*$")
# "===== title =====" or a bare rule of ten or more "=": the bare rule is its own branch, as "={5,}={5,}" split a run
# of "=" every way (quadratic on a long rule with something after it, docs/architecture.md)
_BANNER = re.compile(r"^\s*(?:={5,}([A-Za-z ]+)|={5})={5,}\s*$")
_EVAL_TITLES = {"Evaluation Metrics", "Scores"}
_METRIC = re.compile(rf"^\s*(Accuracy|Precision|Recall|F1 Score|Top \d+ Accuracy):\s+({_JAVA_DOUBLE})\s*$")
_NAMES = {"Accuracy": "accuracy", "Precision": "precision", "Recall": "recall", "F1 Score": "f1"}


def score_line(text: str) -> tuple[int, float] | None:
    """(iteration, score) of a ScoreIterationListener line, or None."""
    if "Score at iteration" not in text:
        return None
    m = _SCORE.search(text)
    return None if m is None else (int(m.group(1)), float(m.group(2)))


def banner(text: str) -> str | None:
    """'eval' for the banner that opens an Evaluation.stats() block, 'other' for any other '=====' banner, None for
    a line that is no banner."""
    m = _BANNER.match(text)
    if m is None:
        return None
    return "eval" if (m.group(1) or "").strip() in _EVAL_TITLES else "other"


def eval_metric(text: str) -> tuple[str, float] | None:
    """(held-out metric name, value) of a line inside an evaluation block, or None."""
    m = _METRIC.match(text)
    if m is None:
        return None
    label = m.group(1)
    name = _NAMES.get(label) or label.lower().replace(" ", "_")  # "Top 5 Accuracy" -> top_5_accuracy
    return f"test_{name}", float(m.group(2))
