"""lr_too_high read from an epoch-mean training loss that climbs at every one of its last epochs (issue 8; Keras's
CIFAR-10 RMSprop example, whose loss fell for four epochs and then rose at each one after): a fires test at a known
step and silent ones for the same surface feature in runs that are not getting worse. Small synthetic series."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import optimisation
from traindoc.ingest.model import ConfigValue, Run, Series

SRC = "run/train.log"
EPOCHS = np.arange(1, 11)
# falls for four epochs to 1.09, then rises at each of the last five (13 % in all, a quarter of the fall given back)
CLIMB = np.array([1.59, 1.22, 1.12, 1.093, 1.104, 1.14, 1.186, 1.214, 1.237, 1.25])
ACC_FALLING = np.array([0.42, 0.57, 0.61, 0.63, 0.629, 0.62, 0.611, 0.603, 0.595, 0.59])


def _run(loss: np.ndarray, acc: np.ndarray | None = None, epoch_rows: bool = True, lr: float | None = None,
         optimizer: str | None = None) -> Run:
    run = Run()
    run.add_series(Series("loss", EPOCHS, loss, SRC))
    if epoch_rows:
        # a held-out loss at every row: the per-epoch history of Keras (bouncing.rows_are_epochs)
        run.add_series(Series("eval_loss", EPOCHS, loss * 0.9, SRC))
    if acc is not None:
        run.add_series(Series("accuracy", EPOCHS, acc, SRC))
    if lr is not None:
        run.config["lr"] = ConfigValue("lr", lr, "run/command.txt", 1, "command_line", f"{lr:g}")
    if optimizer is not None:
        run.meta["optimizer"] = optimizer
    return run.finalize()


def _finding(run: Run):
    out = optimisation.detect_lr_too_high(run)
    assert out, "detect_lr_too_high stayed silent"
    return out[0]


def test_an_epoch_loss_climbing_at_each_of_its_last_five_epochs_is_the_lr() -> None:
    f = _finding(_run(CLIMB, acc=ACC_FALLING))
    assert f.numbers.get("climb")
    assert any("rose at each of the last 5 epochs (1.1 at step 5 -> 1.25 at step 10) while the training accuracy "
               "fell" in e for e in f.evidence)
    assert f.step == 9  # the smoothed loss is 10 % above its minimum from epoch 9 (context.divergence's onset)
    assert f.strength >= optimisation.CLIMB_STRENGTH
    # without the climb the same rise is weighed as a rebound (it gives back under a quarter of the fall)
    wiggle = CLIMB.copy()
    wiggle[7] = 1.18  # one epoch of the five falls back
    g = _finding(_run(wiggle, acc=ACC_FALLING))
    assert not g.numbers.get("climb") and g.strength <= 0.5


def test_climb_silent_on_per_step_rows_rising_accuracy_a_falling_loss_or_an_lr_in_range() -> None:
    # per-step or running-average rows: a running mean drifts up for many rows after one bad batch
    assert not _finding(_run(CLIMB, acc=ACC_FALLING, epoch_rows=False)).numbers.get("climb")
    # the training accuracy rises over the same epochs: the fit improves, the loss is the model's confidence
    acc_up = np.array([0.42, 0.57, 0.61, 0.63, 0.64, 0.65, 0.66, 0.67, 0.68, 0.69])
    assert not _finding(_run(CLIMB, acc=acc_up)).numbers.get("climb")
    # a healthy run: the epoch means fall to the end
    assert optimisation.detect_lr_too_high(_run(np.linspace(1.6, 0.6, 10), acc=np.linspace(0.4, 0.8, 10))) == []
    # a known optimiser's range clears the LR (Adam at 1e-4): the climb is read, the LR not made its cause
    f = _finding(_run(CLIMB, acc=ACC_FALLING, lr=1e-4, optimizer="adam"))
    assert f.numbers.get("climb") and f.strength < 0.5
