"""KotlinDL's training console (_kotlindl_console.py), first met in two healthy real-world logs (issue 8): the epoch
lines `<logger> - epochs: N loss: x metric: y` and the printed `EvaluationResult(...)`. Blind, the generic rules read
the epochs, but took the evaluation after training for training series (`lossValue`, an `accuracy` point at the last
epoch). The "reads" cases load the corpus entries; the silent cases call the parser on lines of other formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._kotlindl_console import parse_kotlindl
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _points(entry: str, name: str) -> list[tuple[int, float]]:
    return points(load_run([REALWORLD / entry / "run"]), name)


def test_readme_run_reads_epochs_and_the_evaluation_as_test_points():
    entry = "kotlindl-mnist-dense-readme"
    run = load_run([REALWORLD / entry / "run"])
    assert "lossValue" not in run.metrics and "accuracy" not in run.metrics
    loss = _points(entry, "loss")
    assert loss[0] == (1, 1.5532) and loss[-1] == (10, 1.4758) and len(loss) == 10
    metric = _points(entry, "metric")
    assert metric[0] == (1, 0.9168) and metric[-1] == (10, 0.9867) and len(metric) == 10
    assert _points(entry, "test_loss") == [(10, 1.4856)]
    assert _points(entry, "test_accuracy") == [(10, 0.9761)]


def test_tutorial_run_with_the_abbreviated_logger_name():
    loss = _points("kotlindl-docs-training-a-model", "loss")
    assert loss[0] == (1, 0.2876) and loss[-1] == (10, 0.0233) and len(loss) == 10


def test_list_metrics_and_validation_of_later_releases():
    # the layout of GraphTrainableModel's epoch line when fit() is given validation data (metrics printed as lists)
    st = State()
    rec = parse_kotlindl("[main] INFO org.jetbrains.kotlinx.dl.api.core.GraphTrainableModel - epochs: 3 loss: 0.31"
                         " metric: [0.91, 0.05] val loss: 0.35 val metrics: [0.9, 0.06]", st)
    assert rec is not None and rec.step == 3 and rec.from_epoch
    assert rec.metrics == {"loss": 0.31, "metric": 0.91, "metric_2": 0.05, "val_loss": 0.35, "val_metric": 0.9,
                           "val_metric_2": 0.06}
    rec = parse_kotlindl("EvaluationResult(lossValue=0.4, metrics={ACCURACY=0.88, MAE=0.1})", st)
    assert rec is not None and rec.step is None and rec.eval
    assert rec.metrics == {"test_loss": 0.4, "test_accuracy": 0.88, "test_mae": 0.1}


def test_evaluation_without_training_before_it_is_not_read():
    assert parse_kotlindl("EvaluationResult(lossValue=0.4, metrics={ACCURACY=0.88})", State()) is None


@pytest.mark.parametrize("line", [
    "epochs: 0 loss: 0.6942843198776245",  # a PyTorch script's own print: no metric
    "Epoch 1/10",
    "1875/1875 [==============================] - 6s 3ms/step - loss: 1.5839 - accuracy: 0.8797",
    "o.d.o.l.ScoreIterationListener - Score at iteration 10 is 0.9634",
    "epochs: 1 loss: nan-ish metric: 0.9",
    "EvaluationResult(lossValue=1.4, metrics={})trailing",
    "Epoch 50: Loss: 0.5502449, Accuracy: 0.8776042",
])
def test_kotlindl_parser_silent_on_other_lines(line: str):
    assert parse_kotlindl(line, State()) is None
