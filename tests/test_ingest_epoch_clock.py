"""One Keras run seen through its CSVLogger file (epoch counted from 0) and its console (`Epoch 1/N`) is one series
on one clock: epochs completed, 1..n (readers/csv_metrics.py). The fixture is one real Keras 3 fit writing both
files (tests/data/ingest/generate.py keras_console_csv)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from traindoc.ingest.loader import load_run

RUN = Path(__file__).parent / "data" / "ingest" / "keras_console_csv"


def _csv_column(name: str) -> list[float]:
    with open(RUN / "log.csv", newline="") as f:
        return [float(r[name]) for r in csv.DictReader(f)]


def test_csvlogger_and_console_of_one_fit_read_on_one_clock() -> None:
    csv_run, console_run, both = load_run([RUN / "log.csv"]), load_run([RUN / "train.log"]), load_run([RUN])
    epochs = len(_csv_column("loss"))
    assert epochs == 12
    for name in ("loss", "eval_loss", "accuracy", "eval_accuracy"):
        assert list(csv_run.series(name).steps) == list(range(1, epochs + 1)), name
        assert list(console_run.series(name).steps) == list(range(1, epochs + 1)), name
        assert len(both.series(name)) == epochs, name  # not 13 points, one epoch apart
    # the console rounds to 4 decimals: the same value per epoch, so the same epoch
    np.testing.assert_allclose(console_run.series("eval_loss").values, _csv_column("val_loss"), atol=6e-5)
    np.testing.assert_allclose(both.series("loss").values, _csv_column("loss"), atol=6e-5)
    assert both.epoch_starts == [(e, e) for e in range(1, epochs + 1)]


def test_a_table_counting_epochs_from_one_keeps_its_numbers(tmp_path: Path) -> None:
    f = tmp_path / "results.csv"  # Ultralytics writes epoch + 1
    f.write_text("epoch,train/box_loss,val/box_loss\n1,0.9,1.0\n2,0.8,0.95\n3,0.7,0.9\n")
    run = load_run([f])
    assert list(run.series("train/box_loss").steps) == [1, 2, 3]


def test_a_step_column_is_never_shifted(tmp_path: Path) -> None:
    f = tmp_path / "metrics.csv"
    f.write_text("step,epoch,loss\n0,0,2.0\n10,0,1.5\n20,1,1.2\n")
    assert list(load_run([f]).series("loss").steps) == [0, 10, 20]
