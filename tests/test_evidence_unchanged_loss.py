"""A loss that does not move at all (evidence/detectors/unchanged_loss.py): the recurrence and bit-constancy rules
fire at a known step on constructed series and on the real corpus logs they were written for, and stay silent on
look-alikes (a learner, a too-low LR printed to 4 digits, a converged loss, an LR logged at zero, a loss at 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.detectors import unchanged_loss as ul
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
REALLIB = Path(__file__).parent / "corpus" / "reallib"


def build(loss: np.ndarray, lr: np.ndarray | None = None) -> Run:
    steps = np.arange(loss.size, dtype=np.int64) * 10
    run = Run()
    run.add_series(Series("loss", steps, np.asarray(loss, dtype=float), "run/train.log"))
    if lr is not None:
        run.add_series(Series("lr", steps, lr, "run/train.log"))
    return run.finalize()


def batch_losses(seed: int, n: int = 8) -> np.ndarray:
    """n minibatch losses printed to 4 decimals, as a console shows them."""
    return np.round(1.0 + 0.3 * np.random.default_rng(seed).random(n), 4)


def findings(run: Run) -> list:
    return ul.detect_loss_recurs(run) + ul.detect_loss_froze_after_moving(run) + ul.detect_loss_never_moved(run)


def test_a_frozen_model_on_an_unshuffled_loader_repeats_its_losses_every_epoch():
    epoch = batch_losses(0)
    run = build(np.concatenate([epoch, epoch, epoch[:4]]))
    (f,) = ul.detect_loss_recurs(run)
    assert f.cause == "frozen_params" and f.strength >= 0.5
    assert f.step == 80  # the first repeat: point 8 (step 80) equals point 0
    assert f.numbers["lag"] == 8


@pytest.mark.parametrize("seed", range(5))
def test_a_learning_run_on_the_same_batches_does_not_recur(seed):
    # the same batch order every epoch, but the weights move: each epoch's losses are 3 % lower
    epoch = batch_losses(seed)
    loss = np.round(np.concatenate([epoch * 0.97**e for e in range(4)]), 4)
    assert findings(build(loss)) == []


def test_a_loss_that_moved_and_then_froze_to_every_digit_is_dead_units():
    loss = np.array([0.2001447729236289] + [0.29602579662457984] * 10)
    (f,) = findings(build(loss))
    assert f.cause == "dead_units" and f.step == 10 and f.numbers["moved_first"]


def test_a_loss_that_never_moved_is_frozen_params():
    (f,) = findings(build(np.full(8, 16771.4415)))
    assert f.cause == "frozen_params" and f.step == 0 and not f.numbers["moved_first"]


@pytest.mark.parametrize(
    "loss",
    [
        np.array([2.1412, 2.1399, 2.1384, 2.1384, 2.1384, 2.1384, 2.1384, 2.1384]),  # 5 digits: a too-low LR
        np.array([0.6931] * 10),  # at chance, 4 digits: the not-learning rules read it
        np.array([0.9, 0.3, 0.01] + [0.0002] * 8),  # converged to the printed floor
        np.array([2.3, 1.2] + [0.0] * 8),  # exactly 0: a data fault's trace
        np.array([0.7, -55.0284, -55.0284, -55.0284, -55.0284, -55.0284, -55.0284]),  # negative BCE: labels
        np.array([100.0] * 8),  # a capped perplexity
    ],
)
def test_look_alikes_of_a_frozen_loss_stay_silent(loss):
    assert findings(build(loss)) == []


def test_an_lr_logged_at_zero_owns_the_still_loss():
    loss = np.full(8, 10.904531)
    assert findings(build(loss)) != []
    assert findings(build(loss, lr=np.zeros(8))) == []


def test_a_16bit_loss_holding_its_grid_value_stays_silent():
    # a slowly falling loss computed in bfloat16 (or float16) prints one grid value for many steps while it moves
    # by less than the grid's step: printed in full (.item()) and to 6 digits, it is no frozen model
    moving = 0.9 - 0.0001 * np.arange(12)
    mant, exp = np.frexp(moving)
    for bits in (8, 11):  # bfloat16, float16 significands
        grid = np.ldexp(np.round(np.ldexp(mant, bits)), exp - bits)
        assert np.unique(grid).size < 6  # the grid really holds its values over >= 5 points
        for printed in (grid, np.round(grid, 6)):
            assert findings(build(np.concatenate([[1.4], printed]))) == []
    assert ul.on_16bit_grid(0.89453125) and ul.on_16bit_grid(0.894531)  # 229/256, in full and to 6 digits
    assert not ul.on_16bit_grid(0.498765) and not ul.on_16bit_grid(0.712341)  # float32 values at 6 digits


def test_significant_digits():
    assert ul.significant_digits(16771.4415) == 9
    assert ul.significant_digits(0.6931) == 4
    assert ul.significant_digits(100.0) == 1
    assert ul.significant_digits(0.29602579662457984) == 17


@pytest.mark.parametrize(
    "entry, cause",
    [
        ("trace-5-lora-loss-repeats-each-epoch", "frozen_params"),
        ("haiku-510-loss-repeats-each-epoch", "frozen_params"),
        ("keras-108-tanh-output-regression-flat", "dead_units"),
        ("flux-798-relu-conv-loss-frozen", "dead_units"),
    ],
)
def test_fires_on_the_real_logs(entry, cause):
    run = load_run([str(REALWORLD / entry / "run")])
    assert {f.cause for f in findings(run)} == {cause}


@pytest.mark.parametrize(
    "entry",
    [
        "whisper-large-v2-ja-trainer-state",  # 52 points at 0.0002: converged
        "litgpt-2151-lr-zero-not-learning",  # 10.9 while the LR is 0: the schedule's fault
        "tf-12287-loss-pinned-0p6931",  # pinned at ln 2 to 4 digits: the not-learning rules' case
        "minimind-26-pretrain-epoch0-record",  # a healthy LM run
    ],
)
def test_silent_on_real_look_alikes(entry):
    assert findings(load_run([str(REALWORLD / entry / "run")])) == []


def test_silent_on_a_dev_too_low_lr_run_printed_to_4_digits():
    assert findings(load_run([str(REALLIB / "flax-lr_too_low-s2" / "run")])) == []
