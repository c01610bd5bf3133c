"""FastSHAP's verbose print (ingest/readers/_fastshap_print.py): the validation loss at the banner's epoch, the
"new best" echo not read as a training loss; a `Val loss = x` line with no banner left to other readers."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._fastshap_print import parse_fastshap
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

# the first and the last epochs of tests/corpus/realworld/scvi-tools-fastshap-explainer-64ep/run/train.log
EXCERPT = """\
----- Epoch = 1 -----
Val loss = 5.208660

New best epoch, loss = 5.208660

----- Epoch = 2 -----
Val loss = 1.557097

New best epoch, loss = 1.557097

----- Epoch = 63 -----
Val loss = 0.011099

----- Epoch = 64 -----
Val loss = 0.011100

Stopping early at epoch = 63
"""


def test_tutorial_run_reads_the_validation_loss_per_epoch():
    run = load_run([REALWORLD / "scvi-tools-fastshap-explainer-64ep" / "run"])
    got = points(run, "eval_loss", 6)
    assert [s for s, _ in got] == list(range(1, 65))
    assert got[0] == (1, 5.20866) and got[58] == (59, 0.011098)
    assert set(run.metrics) == {"eval_loss"}  # the "new best" echo is no training loss


def test_excerpt(tmp_path):
    run = load_run([write_run_dir(tmp_path, EXCERPT)])
    assert points(run, "eval_loss", 6) == [(1, 5.20866), (2, 1.557097), (63, 0.011099), (64, 0.0111)]
    assert "loss" not in run.metrics


def test_guards_and_other_prints():
    st = State()
    assert parse_fastshap("Val loss = 0.5", st) is None  # no banner yet: some other loop's print
    assert parse_fastshap("New best epoch, loss = 0.5", st) is None
    for line in ("---------- Epoch 3 ----------", "Epoch = 3", "Val loss: 0.5", "Val loss = 0.5 (best)"):
        assert not (rec := parse_fastshap(line, State())) or not rec.metrics, line
    st = State()
    assert parse_fastshap("----- Epoch = 3 -----", st).claimed
    assert parse_fastshap("Val loss = 0.25", st).metrics == {"eval_loss": 0.25}
    assert parse_fastshap("Val loss = 0.24", st) is None  # one value per banner


def test_plain_val_loss_prints_stay_with_the_generic_rules(tmp_path):
    text = "".join(f"Train loss = {1 / e:.4f}\nVal loss = {1.2 / e:.4f}\n" for e in range(1, 6))
    run = load_run([write_run_dir(tmp_path, text)])
    assert len(points(run, "eval_loss")) == 5 and len(points(run, "loss")) == 5


def test_second_training_in_the_same_file_is_not_read(tmp_path):
    # the explainer's print after the surrogate's: the epoch goes back, the first training is kept
    text = EXCERPT + "----- Epoch = 1 -----\nVal loss = 9.000000\n\n"
    run = load_run([write_run_dir(tmp_path, text)])
    assert points(run, "eval_loss", 6)[0] == (1, 5.20866) and len(points(run, "eval_loss")) == 4
