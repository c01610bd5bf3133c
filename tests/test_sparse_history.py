"""tools/sparse_history.py and tools/sparse_ablation.py: a dense run seen as a Keras-like epoch-level history.

- an evaluation closes an epoch: the training loss is the epoch's mean, the validation values are the epoch-end
  pass, the LR (curves+lr only) the one in effect at the epoch's end; gradient norms never survive;
- the CSVLogger file is read back by the real CSV reader with one point per epoch;
- a NaN inside an epoch makes that epoch's mean NaN (Keras' running mean); a pre-training evaluation is dropped;
- without an evaluation clock the run is cut into about 20 rows; more than 50 epochs are thinned;
- the ablation reads dev stacks only.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import sparse_ablation  # noqa: E402
import sparse_history  # noqa: E402
from traindoc.ingest.loader import load_run  # noqa: E402
from traindoc.ingest.model import Run, Series  # noqa: E402


def _dense(n: int = 100, every: int = 10, eval_at_zero: bool = False) -> Run:
    run = Run()
    steps = np.arange(1, n + 1, dtype=np.int64)
    run.metrics["loss"] = Series("loss", steps, 2.0 / np.sqrt(steps))
    run.metrics["grad_norm"] = Series("grad_norm", steps, np.full(n, 0.5))
    run.metrics["lr"] = Series("lr", steps, 1e-3 * (1 - steps / (n + 1)))
    ev = np.arange(0 if eval_at_zero else every, n + 1, every, dtype=np.int64)
    run.metrics["eval_loss"] = Series("eval_loss", ev, 1.5 / np.sqrt(np.maximum(ev, 1)))
    run.metrics["eval_accuracy"] = Series("eval_accuracy", ev, np.linspace(0.3, 0.9, len(ev)))
    return run


def test_an_evaluation_closes_an_epoch():
    run = _dense()
    h = sparse_history.history(run, "curves+lr")
    assert h["epoch"] == [float(i) for i in range(10)]
    assert math.isclose(h["loss"][0], float(np.mean(2.0 / np.sqrt(np.arange(1, 11)))))
    assert math.isclose(h["val_loss"][-1], 1.5 / math.sqrt(100))
    assert math.isclose(h["learning_rate"][3], 1e-3 * (1 - 40 / 101))
    assert "grad_norm" not in h and set(h) == {"epoch", "loss", "val_loss", "val_accuracy", "learning_rate"}
    assert "learning_rate" not in sparse_history.history(run, "curves")


def test_the_csvlogger_file_reads_back_one_point_per_epoch(tmp_path):
    (tmp_path / sparse_history.FILE_NAME).write_text(
        sparse_history.csvlogger_text(sparse_history.history(_dense(), "curves+lr")), encoding="utf-8")
    back = load_run([str(tmp_path)])
    assert {k: len(s) for k, s in back.metrics.items() if k in ("loss", "eval_loss", "eval_accuracy", "lr")} == {
        "loss": 10, "eval_loss": 10, "eval_accuracy": 10, "lr": 10}
    assert back.series("grad_norm") is None


def test_nan_inside_an_epoch_and_a_pre_training_evaluation():
    run = _dense(eval_at_zero=True)
    run.metrics["loss"].values[54] = np.nan  # step 55, in the sixth epoch (steps 51-60)
    h = sparse_history.history(run, "curves")
    assert len(h["epoch"]) == 10  # the evaluation at step 0 closes no epoch
    assert math.isnan(h["loss"][5]) and all(math.isfinite(v) for i, v in enumerate(h["loss"]) if i != 5)


def test_other_clocks_and_thinning():
    run = _dense(n=300, every=1000)  # one evaluation at most: no evaluation clock, no epoch starts
    run.metrics.pop("eval_loss"), run.metrics.pop("eval_accuracy")
    assert len(sparse_history.history(run)["epoch"]) == sparse_history.TARGET_ROWS
    long = _dense(n=1000, every=5)  # 200 epochs: thinned to about 20, the last kept
    ends = sparse_history.epoch_ends(long, long.series("loss"))
    assert sparse_history.TARGET_ROWS <= len(ends) <= sparse_history.TARGET_ROWS + 1 and ends[-1] == 1000


def test_the_ablation_reads_dev_stacks_only(tmp_path):
    for name, stack in [("plain_pytorch-healthy-s0", "plain_pytorch"), ("keras-healthy-s0", "keras"),
                        ("lightning-lr_too_low-s1", "lightning")]:
        entry = tmp_path / "reallib" / name
        (entry / "run").mkdir(parents=True)
        (entry / "label.json").write_text(json.dumps({"cause": "healthy", "family": {"stack": stack}}))
    assert [e.name for e in sparse_ablation.dev_entries(tmp_path)] == ["lightning-lr_too_low-s1",
                                                                      "plain_pytorch-healthy-s0"]
