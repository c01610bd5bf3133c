"""TensorBoard's "download CSV" (readers/csv_metrics.py, tensorboard_csv): one tag per file, the tag only in the
file name. The fixtures were written by TensorBoard's own scalars plugin from a real event file
(tests/data/ingest/generate.py tensorboard_csv)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers import csv_metrics

EXPORTS = Path(__file__).parent / "data" / "ingest" / "tensorboard_csv"


def _rows(path: Path) -> tuple[list[int], list[float]]:
    rows = list(csv.DictReader(path.open()))
    return [int(r["Step"]) for r in rows], [float(r["Value"]) for r in rows]


def test_each_export_is_the_metric_its_file_name_tags() -> None:
    run = load_run([EXPORTS])
    for name, canon in (("run-version_0-tag-train_loss.csv", "loss"), ("run-version_0-tag-val_loss.csv",
                                                                         "eval_loss")):
        steps, values = _rows(EXPORTS / name)
        s = run.series(canon)
        assert s is not None and list(s.steps) == steps
        np.testing.assert_array_equal(s.values, values)
    assert set(run.metrics) == {"loss", "eval_loss"}  # no "Step", "Value" or "Wall time" metric


def test_the_two_exports_of_an_overfitting_run_are_diagnosed_together() -> None:
    doc = diagnose(load_run([EXPORTS]), [str(EXPORTS)])
    assert doc["root_causes"][0]["cause"] == "overfitting"


def test_an_export_renamed_to_its_metric_is_read_by_its_stem_with_a_warning(tmp_path: Path) -> None:
    shutil.copy(EXPORTS / "run-version_0-tag-val_loss.csv", tmp_path / "val_loss.csv")
    run = load_run([tmp_path / "val_loss.csv"])
    assert run.series("eval_loss") is not None
    assert any("taken from the file name" in w for w in run.warnings)


def test_other_csvs_are_not_taken_for_an_export(tmp_path: Path) -> None:
    for header in (b"step,loss,lr\n", b"Wall time,Step,Value,Extra\n", b"epoch,Value\n"):
        assert csv_metrics.sniff_tensorboard_csv(tmp_path / "x.csv", header + b"1,2,3\n") == 0.0
