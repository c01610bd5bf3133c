"""Metric histories people save themselves: lists in a torch.save'd dict (alone, or beside the weights in a
checkpoint; readers/checkpoints.py through readers/history_dict.add_histories) and numpy's .npy/.npz
(readers/numpy_arrays.py). The files are written here by the real torch and numpy."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.names import history_metric_name

CURVE = [2.3 * math.exp(-i / 10) + 0.1 for i in range(40)]


@pytest.mark.parametrize("raw, name", [
    ("train_losses", "loss"), ("val_losses", "eval_loss"), ("loss_history", "loss"), ("val_accs", "eval_accuracy"),
    ("lr_history", "lr"), ("lrs", "lr"), ("epoch_losses", "loss"), ("val_accuracies", "eval_accuracy"),
    ("train_loss_list", "loss"), ("grad_norms", "grad_norm"), ("val_loss", "eval_loss"),
])
def test_history_names_as_people_write_them(raw: str, name: str) -> None:
    assert history_metric_name(raw) == name


def test_a_torch_saved_history_dict_is_read(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"train_losses": CURVE, "val_losses": [v + 0.1 for v in CURVE], "epoch": 40}, tmp_path / "hist.pt")
    run = load_run([tmp_path / "hist.pt"])
    assert list(run.series("loss").values) == CURVE
    assert run.series("eval_loss") is not None and run.series("epoch") is None
    assert run.sources[0].format == "torch_saved_history"


def test_histories_saved_beside_the_weights_are_read_with_the_parameter_counts(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(8, 4)
    torch.save({"model_state_dict": model.state_dict(), "optimizer": None, "epoch": 40,
                "history": {"train_loss": CURVE, "val_acc": [0.5 + 0.01 * i for i in range(40)]},
                "losses": [torch.tensor(v) for v in CURVE[:5]]},  # tensors are not read as values
               tmp_path / "ckpt.pt")
    run = load_run([tmp_path / "ckpt.pt"])
    assert run.params is not None and run.params.total == 8 * 4 + 4
    assert len(run.series("loss")) == 40 and len(run.series("eval_accuracy")) == 40


def test_a_checkpoint_without_histories_still_reads_as_before(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"model": torch.nn.Linear(8, 4).state_dict(), "step": 10}, tmp_path / "ckpt.pt")
    run = load_run([tmp_path / "ckpt.pt"])
    assert run.params is not None and not run.metrics


def test_numpy_saved_curves_are_read_by_name(tmp_path: Path) -> None:
    np.save(tmp_path / "train_losses.npy", np.array(CURVE))
    np.savez(tmp_path / "history.npz", val_loss=np.array(CURVE) + 0.1, val_acc=np.linspace(0.5, 0.9, 40),
             embeddings=np.zeros((10, 4)), labels=np.arange(100))
    run = load_run([tmp_path])
    assert list(run.series("loss").values) == CURVE and list(run.series("loss").steps) == list(range(1, 41))
    assert set(run.metrics) == {"loss", "eval_loss", "eval_accuracy"}


def test_numpy_files_that_are_not_histories_are_left_alone(tmp_path: Path) -> None:
    np.save(tmp_path / "features.npy", np.zeros((100, 3)))  # no metric name
    np.save(tmp_path / "val_loss_grid.npy", np.zeros((5, 5)))  # 2-D: not a curve
    np.save(tmp_path / "losses.npy", np.array([{"a": 1}] * 5, dtype=object), allow_pickle=True)  # would unpickle
    run = load_run([tmp_path])
    assert not run.metrics


def test_an_npz_whose_header_promises_more_than_it_holds_is_not_read(tmp_path: Path) -> None:
    np.savez(tmp_path / "h.npz", loss=np.array(CURVE))
    raw = zipfile.ZipFile(tmp_path / "h.npz").read("loss.npy")
    with zipfile.ZipFile(tmp_path / "cut.npz", "w") as z:
        z.writestr("loss.npy", raw[: len(raw) - 80])  # the last 10 values cut off
    run = load_run([tmp_path / "cut.npz"])
    assert run.series("loss") is None
    assert run.warnings
