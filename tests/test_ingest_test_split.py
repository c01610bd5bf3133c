"""A run whose only held-out split is called "test" (the Flax / PyTorch MNIST examples evaluate on the test set every
epoch): its test curves are the held-out curves (Run._test_split_as_heldout); beside a validation split, or as a
final score, the test split stays apart."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text
from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import load_run

FLAX = Path(__file__).parent / "corpus" / "reallib"


def test_flax_epoch_log_test_curves_are_the_heldout_curves():
    run = load_run([str(FLAX / "flax-overfitting-s2" / "run")])
    ev, acc = run.series("eval_loss"), run.series("eval_accuracy")
    assert ev is not None and acc is not None
    assert ev.raw_name == "test_loss" and len(ev) == 75  # one evaluation per epoch line
    assert run.series("test_loss") is None
    # epoch 1 of the log: "test_loss: 2.0423, test_accuracy: 27.34"
    assert ev.value_at(1) == 2.0423 and acc.value_at(1) == 27.34


def test_memorising_flax_run_reads_as_overfitting_not_leakage():
    """64 training samples memorised: test_loss falls to 1.90 at epoch 2, then rises to 4.6 while train loss reaches
    2e-4. Before the test split was read as held-out this run read as label_leakage (0.68)."""
    path = FLAX / "flax-overfitting-s2" / "run"
    doc = diagnose(load_run([str(path)]), [str(path)])
    assert doc["root_causes"][0]["cause"] == "overfitting"


def test_test_split_beside_a_validation_split_stays_apart(tmp_path):
    lines = [f"epoch: {e}, train_loss: {1.0 / e:.4f}, val_loss: {0.9 + 0.01 * e:.4f}, test_loss: {0.95:.4f}"
             for e in range(1, 8)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert run.series("eval_loss") is not None and run.series("eval_loss").raw_name == "val_loss"
    assert run.series("test_loss") is not None and len(run.series("test_loss")) == 7


def test_final_test_score_is_not_a_heldout_curve(tmp_path):
    lines = [f"epoch: {e}, train_loss: {1.0 / e:.4f}" for e in range(1, 8)] + ["test_loss: 0.5000"]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert run.series("test_loss") is not None  # read, and kept under its own name
    assert run.series("eval_loss") is None
