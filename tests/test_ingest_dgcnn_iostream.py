"""DGCNN-family run.log lines (ingest/readers/_dgcnn_iostream.py): `Train e, ...` / `Test e, ...` at the epoch, the
test pairs held out, the epoch never a metric; lines with other pairs or words left to the other readers."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._dgcnn_iostream import parse_dgcnn_iostream
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

# the head of tests/corpus/realworld/g6s34-pointformer-dgcnn-style-modelnet40-250ep/run/run.log
EXCERPT = """\
Namespace(batch_size=36, dataset='modelnet40', dropout=0.5, emb_dims=1024, epochs=250, eval=False, exp_name='exp', lr=0.001, momentum=0.9, no_cuda=False, num_points=1024, seed=1029, test_batch_size=2, use_sgd=True)
Using GPU : 0 in 1 devices
Train 0, loss: 3.414308, train acc: 0.171958, train avg acc: 0.077117
Test 0, loss: 3.087843, test acc: 0.219611, test avg acc: 0.135500
Train 1, loss: 3.108795, train acc: 0.243997, train avg acc: 0.105335
Test 1, loss: 3.104563, test acc: 0.158023, test avg acc: 0.097500
"""  # noqa: E501

# a fork's print (pythonLoader/MultiPointMixup's checkpoints/exp/run.log): no training accuracy, a running best
FORK = """\
Train 0, loss: 3.492956
Test 0, loss: 3.181736, test acc: 0.220827, test avg acc: 0.136250, best test acc: 0.220827
Train 1, loss: 3.104944
Test 1, loss: 2.849949, test acc: 0.350486, test avg acc: 0.232227, best test acc: 0.350486
"""


def test_pointformer_log_reads_250_epochs_apart():
    run = load_run([REALWORLD / "g6s34-pointformer-dgcnn-style-modelnet40-250ep" / "run"])
    assert set(run.metrics) == {"loss", "accuracy", "class_avg_accuracy", "eval_loss", "eval_accuracy",
                                "eval_class_avg_accuracy"}  # no series named "Train" / "Test"
    loss, test = points(run, "loss", 6), points(run, "eval_accuracy", 6)
    assert [s for s, _ in loss] == list(range(250)) and len(test) == 250
    assert loss[0] == (0, 3.414308) and test[-1] == (249, 0.933144)
    assert points(run, "eval_loss", 6)[0] == (0, 3.087843)  # the test loss apart from the training loss


def test_excerpt_and_fork(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run = load_run([write_run_dir(tmp_path / "a", EXCERPT)])
    assert points(run, "accuracy", 6) == [(0, 0.171958), (1, 0.243997)]
    assert points(run, "eval_loss", 6) == [(0, 3.087843), (1, 3.104563)]
    run = load_run([write_run_dir(tmp_path / "b", FORK)])
    assert points(run, "loss", 6) == [(0, 3.492956), (1, 3.104944)]
    assert points(run, "eval_accuracy", 6) == [(0, 0.220827), (1, 0.350486)]
    assert not any("best" in k for k in run.metrics)


def test_part_segmentation_pairs():
    rec = parse_dgcnn_iostream("Train 3, loss: 0.2, train acc: 0.93, train avg acc: 0.80, train iou: 0.75", State())
    assert rec.step == 3 and rec.metrics == {"loss": 0.2, "accuracy": 0.93, "class_avg_accuracy": 0.8, "iou": 0.75}
    rec = parse_dgcnn_iostream("Test 3, loss: 0.3, test acc: 0.9, test avg acc: 0.7, test iou: 0.7", State())
    assert rec.eval and rec.metrics["eval_iou"] == 0.7


def test_other_lines_are_not_this_family():
    for line in (
        "Train Epoch: 3 [1280/60000 (2%)]\tLoss: 0.301",  # the PyTorch MNIST example
        "Train 3, loss: 0.5, val acc: 0.8",  # a pair DGCNN does not print
        "Test :: test acc: 0.917342, test avg acc: 0.894919",  # DGCNN's --eval line: no epoch
        "Train 3 loss: 0.5",
        "Test 3, acc: 0.9, loss: 0.5",  # the loss first, as DGCNN prints it
        "Training 3, loss: 0.5",
    ):
        assert parse_dgcnn_iostream(line, State()) is None, line
