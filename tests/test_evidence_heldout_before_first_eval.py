"""A held-out loss first scored already below where the training loss started improved before its first evaluation
(heldout.improved_before_first_eval): a first evaluation that is the best then reads as memorisation, not as a
shortcut absent from the held-out data (dev corpus runs, docs/diagnose.md)."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence import heldout
from traindoc.evidence.context import loss_series
from traindoc.evidence.detectors.data import detect_label_leakage, detect_overfitting
from traindoc.evidence.detectors.transfer import detect_heldout_never_improves
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Series

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def strength(findings, cause: str) -> float:
    return max((f.strength for f in findings if f.cause == cause), default=0.0)


def test_memorising_run_scored_first_below_the_untrained_loss():
    """flax-overfitting-s1 (32 training samples): train loss 3.20, 2.79, 2.48 at steps 1-10; eval_loss 2.00 at its
    first evaluation (step 30), then rising to 4.06 while the train loss reaches 0.09. Blind it read as
    label_leakage at 0.96."""
    run = load_run([str(REALLIB / "flax-overfitting-s1" / "run")])
    got = heldout.improved_before_first_eval(loss_series(run), run.series("eval_loss"))
    assert got is not None and round(got[0], 2) == 2.79 and round(got[1], 2) == 2.0
    assert detect_heldout_never_improves(run) == []
    assert strength(detect_label_leakage(run), "label_leakage") < 0.3
    assert strength(detect_overfitting(run), "overfitting") >= 0.7


def test_leaked_run_first_scored_at_the_untrained_level_stays_leakage():
    """plain_pytorch-label_leakage-s3: the held-out loss is first scored at 3.15, above the training loss's start
    2.77, and only rises: nothing learned transfers, the leakage reading stands."""
    run = load_run([str(REALLIB / "plain_pytorch-label_leakage-s3" / "run")])
    assert heldout.improved_before_first_eval(loss_series(run), run.series("eval_loss")) is None
    assert strength(detect_heldout_never_improves(run), "label_leakage") == 0.55


def test_only_training_points_up_to_the_first_evaluation_set_the_start():
    # silent: the training loss falls from 2.0 before the first evaluation, which scores 1.9 (> 0.8 x 2.0); the
    # later, lower training points must not become the start
    loss = Series("loss", [1, 2, 3, 10, 20, 30], [2.0, 2.0, 2.0, 0.5, 0.2, 0.1])
    ev = Series("eval_loss", [5, 15, 25], [1.9, 2.5, 3.0])
    assert heldout.improved_before_first_eval(loss, ev) is None
    assert heldout.improved_before_first_eval(loss, Series("eval_loss", [5, 15], [1.5, 2.5])) == (2.0, 1.5)
    assert heldout.improved_before_first_eval(None, ev) is None
    assert heldout.improved_before_first_eval(loss, Series("eval_loss", [0], [1.0])) is None  # scored before training
