"""lr_too_high listed beside dead units for an output that ignores its input (issue 8; the Keras CIFAR-10 SGD example
pinned at ln 10 and MLX's MNIST MLP at a constant test accuracy, both cured by a lower LR): a fires test at a known
step and silent ones for the same surface feature where the log says otherwise. Small synthetic series."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import not_learning
from traindoc.ingest.model import ConfigValue, Run, Series

SRC = "run/train.log"
EPOCHS = np.arange(1, 9)
# ln 10 = 2.30259 to the printed digits from the first epoch: the output is uniform over the 10 classes
PINNED = np.array([2.3037, 2.3034, 2.3032, 2.3034, 2.3033, 2.3034, 2.3033, 2.3033])


def _run(loss: np.ndarray, lr: float | None = None, optimizer: str | None = None) -> Run:
    run = Run()
    run.add_series(Series("loss", EPOCHS, loss, SRC))
    if lr is not None:
        run.config["lr"] = ConfigValue("lr", lr, "run/command.txt", 1, "command_line", f"{lr:g}")
    if optimizer is not None:
        run.meta["optimizer"] = optimizer
    return run.finalize()


def test_a_loss_pinned_at_ln_k_lists_an_lr_too_high_below_dead_units() -> None:
    run = _run(PINNED)
    (f,) = not_learning.detect_constant_output_lr(run)
    assert f.cause == "lr_too_high" and f.step == 1  # pinned from the first logged epoch
    # listed in the tie beside dead units and detached labels (tests/test_constant_output_tie.py), below 0.5
    assert f.strength == not_learning.CONSTANT_TIE_ORIGIN < 0.5 and f.numbers["listing"]
    assert any("CS231n" in e for e in f.evidence)


def test_constant_output_lr_silent_when_the_lr_is_in_range_the_loss_moves_or_the_run_learns() -> None:
    # Adam at 1e-4 is inside its range: the LR is not the reading
    assert not_learning.detect_constant_output_lr(_run(PINNED, lr=1e-4, optimizer="adam")) == []
    # at chance but not pinned (the output still follows the input, noisily): no constant output to explain
    noisy = 2.3026 + np.array([0.04, -0.05, 0.06, -0.03, 0.05, -0.06, 0.04, -0.05])
    assert not_learning.detect_constant_output_lr(_run(noisy)) == []
    # a run that learns
    assert not_learning.detect_constant_output_lr(_run(np.linspace(2.3, 0.9, 8))) == []
