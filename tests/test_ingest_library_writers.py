"""Logs as real libraries wrote them (tests/data/ingest/generate.py tb_writers, sklearn_mlp): PyTorch's
`SummaryWriter.add_scalars` (the split only in a subfolder's name), tensorboardX, scikit-learn's verbose MLP."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.tensorboard import scalars_name

DATA = Path(__file__).parent / "data" / "ingest"


@pytest.mark.parametrize("writer", ["add_scalars", "tensorboardx"])
def test_train_and_val_curves_of_a_tensorboard_writer_stay_apart(writer: str) -> None:
    run = load_run([DATA / "tb_writers" / writer])
    loss, ev = run.series("loss"), run.series("eval_loss")
    assert loss is not None and ev is not None
    assert list(loss.steps) == list(ev.steps) == list(range(0, 300, 10))
    # the generator's validation curve sits 0.2 above the training one and turns up after step 100
    assert bool(np.all(ev.values - loss.values >= 0.2 - 1e-6))
    assert int(ev.steps[np.argmin(ev.values)]) in range(100, 200)
    assert bool(np.all(np.diff(loss.values) < 0))


def test_add_scalars_reads_its_key_from_the_subfolder() -> None:
    run = load_run([DATA / "tb_writers" / "add_scalars"])
    assert run.series("loss").raw_name == "train/loss" and run.series("eval_loss").raw_name == "val/loss"
    assert run.series("lr") is not None  # the parent writer's own add_scalar tag is untouched
    assert scalars_name("loss", "loss_val") == "val/loss"
    assert scalars_name("lr", "lr_group1") == "lr/group1"
    assert scalars_name("train/loss", "train_loss_a") == "train/loss/a"
    assert scalars_name("loss", "version_0") is None and scalars_name("loss", "loss_") is None


def _printed(path: Path, pattern: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, path.read_text())]


@pytest.mark.parametrize("name", ["mlp_verbose.log", "mlp_early_stopping.log"])
def test_sklearn_mlp_verbose_lines(name: str) -> None:
    path = DATA / "sklearn" / name
    run = load_run([path])
    loss = _printed(path, r"Iteration \d+, loss = ([\d.]+)")
    assert run.series("loss").values.tolist() == loss
    assert list(run.series("loss").steps) == list(range(1, len(loss) + 1))
    scores = _printed(path, r"Validation score: ([\d.]+)")
    if scores:
        s = run.series("eval_score")
        assert s.values.tolist() == scores and list(s.steps) == list(range(1, len(scores) + 1))
    else:
        assert run.series("eval_score") is None


def test_tf2_summary_scalar_tensors_are_read() -> None:
    run = load_run([DATA / "tf_keras" / "tf2_scalar"])  # TF 2 writes tensor-valued summaries, no simple_value
    assert list(run.series("loss").steps) == list(range(0, 300, 10))
    assert bool(np.all(run.series("eval_loss").values - run.series("loss").values >= 0.2 - 1e-6))


KERAS_RUN = DATA / "tf_keras" / "keras_run"


@pytest.mark.parametrize("part", ["logs", "log.csv", "train.log", None], ids=["tensorboard", "csv", "console", "all"])
def test_one_keras_fit_through_tensorboard_csv_and_console_is_one_clock(part: str | None) -> None:
    run = load_run([KERAS_RUN / part if part else KERAS_RUN])
    with open(KERAS_RUN / "log.csv") as f:
        epochs = sum(1 for _ in f) - 1
    assert epochs == 8
    for name in ("loss", "eval_loss", "accuracy", "eval_accuracy"):
        s = run.series(name)
        assert s is not None and list(s.steps) == list(range(1, epochs + 1)), (part, name)
    if part in ("logs", None):
        # the validation folder's evaluation_*_vs_iterations copies (at the iteration count) are not a second clock
        assert not [n for n in run.metrics if "vs_iterations" in n]
        assert run.series("lr").raw_name == "epoch_learning_rate"


MM = DATA / "mmengine" / "run"


def test_mmengine_scalars_json_validation_records_are_held_out_at_the_epochs_last_step() -> None:
    import json

    rows = [json.loads(line) for line in (MM / "vis_data" / "scalars.json").read_text().splitlines()]
    train = [r for r in rows if "iter" in r]
    val = [r for r in rows if "iter" not in r]
    assert len(val) == 4 and all(r["step"] == e for e, r in enumerate(val, 1))  # MMEngine's "step": the epoch
    run = load_run([MM / "vis_data" / "scalars.json"])
    assert run.series("accuracy") is None  # a validation metric, not a training one
    ev = run.series("eval_accuracy")
    last_of_epoch = [max(r["step"] for r in train if r["epoch"] == e) for e in range(1, 5)]
    assert list(ev.steps) == last_of_epoch and ev.values.tolist() == [r["accuracy"] for r in val]
    assert list(run.series("loss").steps) == [r["step"] for r in train]
    # the same run's text log places them at the same steps: read together, one series
    both = load_run([MM])
    assert list(both.series("eval_accuracy").steps) == last_of_epoch


def test_ultralytics_results_csv_with_padded_headers() -> None:
    # a real runs/detect/train/results.csv (tests/data/ingest/ultralytics/README.md): headers and cells padded with
    # spaces, epochs counted from 0 (this Ultralytics 8.0 release), train/ and val/ loss components, three lr groups
    path = DATA / "ultralytics" / "results.csv"
    run = load_run([path])
    rows = path.read_text().splitlines()
    assert len(rows) == 26 and rows[1].split(",")[0].strip() == "0"
    for name in ("train/box_loss", "val/box_loss", "metrics/mAP50-95(B)", "lr", "lr/pg1"):
        s = run.series(name)
        assert s is not None and list(s.steps) == list(range(1, 26)), name
    assert run.series("val/cls_loss").values[0] == 2.822


FASTAI = DATA / "fastai"


@pytest.mark.parametrize("part", ["history.csv", "train.log", None], ids=["csvlogger", "console", "both"])
def test_fastai_history_and_console_are_one_run_with_held_out_metrics(part: str | None) -> None:
    import csv

    with open(FASTAI / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == [str(e) for e in range(6)]  # fastai counts epochs from 0
    run = load_run([FASTAI / part if part else FASTAI])
    assert run.series("accuracy") is None  # fastai's metrics are validation metrics
    for name, col in (("loss", "train_loss"), ("eval_loss", "valid_loss"), ("eval_accuracy", "accuracy")):
        s = run.series(name)
        assert list(s.steps) == list(range(1, 7)), (part, name)
        # the console prints 6 decimals of the value the CSV keeps
        np.testing.assert_allclose(s.values, [float(r[col]) for r in rows], atol=6e-7)


def test_detectron2_metrics_json() -> None:
    import json

    path = DATA / "detectron2" / "metrics.json"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    run = load_run([path])
    assert run.sources[0].format == "jsonl_metrics"
    loss = run.series("loss")
    assert loss.raw_name == "total_loss" and list(loss.steps) == [r["iteration"] for r in rows]
    assert loss.values.tolist() == [r["total_loss"] for r in rows]
    assert run.series("lr").values.tolist() == [r["lr"] for r in rows]
    assert "data_time" not in run.metrics and "eta_seconds" not in run.metrics


def test_keras_tensorboard_per_batch_run_reads_on_the_iteration_clock() -> None:
    # the same Keras fit with update_freq=2: train/ has batch_* tags at the global batch beside epoch_* at the epoch
    # index; validation/ has epoch_* and evaluation_*_vs_iterations. One clock: the iteration.
    run = load_run([DATA / "tf_keras" / "keras_batch"])
    loss, ev = run.series("loss"), run.series("eval_loss")
    assert loss.raw_name == "batch_loss" and ev.raw_name == "evaluation_loss_vs_iterations"
    iters = list(ev.steps)
    assert len(iters) == 8 and iters == sorted(iters) and iters[0] > 1
    assert int(loss.steps[-1]) == iters[-1]  # the last batch of the last epoch is where its evaluation sits
    # the per-epoch aggregates stay apart: never mixed into the per-batch series on another clock
    assert list(run.series("loss_epoch").steps) == list(range(1, 9))
    np.testing.assert_allclose(run.series("eval_loss_epoch").values, ev.values)
    assert len(loss) == len(set(loss.steps.tolist()))
