"""A 3-7 row epoch history at chance on every row, with the held-out loss at chance at every evaluation, never
learned (not_learning._short_history_at_chance): too short for the trend test, strict on every row instead."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text
from traindoc.evidence.detectors import not_learning
from traindoc.ingest.loader import load_run

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def test_three_epoch_rows_at_ln8_never_learned():
    """flax-vanishing_gradients-s0 (14 sigmoid layers, 8 classes): train 2.1042, 2.0824, 2.0749 and test 2.0825,
    2.0819, 2.0820 around ln 8 = 2.0794, test accuracy 14.84 % at every epoch. Blind it read as healthy."""
    run = load_run([str(REALLIB / "flax-vanishing_gradients-s0" / "run")])
    nl = not_learning.never_learned(run)
    assert nl is not None and nl.k == 8 and nl.first_step == 1
    (f,) = not_learning.detect_saturating_depth(run)
    assert f.cause == "vanishing_gradients" and f.strength == 0.7


def test_short_history_that_leaves_chance_on_held_out_learned(tmp_path):
    # silent: the same training rows, but the held-out loss leaves ln 8 (2.0794) by > 3 % at the last epoch
    rows = [(2.1042, 2.0825), (2.0824, 2.0419), (2.0749, 1.9620)]
    text = "".join(f"epoch: {e}, train_loss: {a}, test_loss: {b}\n" for e, (a, b) in enumerate(rows, 1))
    assert not_learning.never_learned(read_text(tmp_path, text)) is None


def test_short_regression_history_is_not_at_chance():
    # silent: flax-healthy-s6, a regression task, three epoch rows 0.3385, 0.2515, 0.2593
    run = load_run([str(REALLIB / "flax-healthy-s6" / "run")])
    assert not_learning.never_learned(run) is None
