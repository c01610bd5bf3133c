"""lr_too_low read from the loss's shape (docs/diagnose.md, lr_too_low): a short epoch table that stays flat, and a
loss that falls slowly and linearly to the end of its planned run (no sign of convergence). A fires test at a known
reading and a silent one each; small synthetic series."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import not_learning
from traindoc.ingest.model import ConfigValue, Run, Series

SRC = "run/train.log"


def _run(loss: list[float] | np.ndarray, steps: np.ndarray | None = None, lr: float | None = None,
         optimizer: str | None = None, planned: int | None = None) -> Run:
    loss = np.asarray(loss, dtype=float)
    st = steps if steps is not None else np.arange(1, loss.size + 1)
    run = Run()
    run.add_series(Series("loss", st, loss, SRC))
    if lr is not None:
        run.config["lr"] = ConfigValue("lr", lr, "run/command.txt", 1, "command_line", f"{lr:g}")
    if optimizer is not None:
        run.meta["optimizer"] = optimizer
    if planned is not None:
        run.meta["planned_steps"] = planned
    return run.finalize()


def _linear(n: int = 10, fall: float = 0.15, plateau: int = 0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A loss at 2.3 falling `fall` of it linearly after `plateau` points, logged every 100 steps from step 0."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    ramp = np.clip((t - plateau) / max(1, n - 1 - plateau), 0, None)
    return np.arange(n) * 100, 2.3 * (1 - fall * ramp) + 0.005 * rng.standard_normal(n)


def test_a_short_flat_table_at_an_lr_far_under_its_range_is_confident() -> None:
    # five epochs within 2 % of the first (fastai's fit table), Adam at 1e-5 (30x under its 3e-4 reference)
    (f,) = not_learning.detect_lr_too_low(_run([1.349, 1.373, 1.346, 1.334, 1.321], lr=1e-5, optimizer="adam"))
    assert f.strength >= 0.7 and any("within 10% of its first value" in e for e in f.evidence)


def test_a_short_table_that_moves_is_not_flat() -> None:
    # five epochs falling 25 % (not halving, so not 'learns at every point'), or dipping 15 % and coming back: the
    # LR stays a finding under 0.5 (the loss is not flat)
    for loss in ([1.35, 1.25, 1.15, 1.08, 1.01], [1.35, 1.15, 1.30, 1.34, 1.33]):
        (f,) = not_learning.detect_lr_too_low(_run(loss, lr=1e-5, optimizer="adam"))
        assert f.strength < 0.5, loss


def test_a_slow_linear_loss_to_the_end_of_its_planned_run_is_listed() -> None:
    # CS231n's two-layer net shape: at chance for two points, then a linear fall of 15 % to iteration 900 of 1000;
    # no LR in the log: a candidate, never confirmed
    for seed in range(5):
        st, v = _linear(plateau=2, seed=seed)
        (f,) = not_learning.detect_lr_too_low(_run(v, st, planned=1000))
        assert f.strength == not_learning.LINEAR_ONLY and f.numbers["shape_only"], seed
        assert f.numbers["late_to_early_fall"] >= 0.9


def test_a_slow_linear_loss_beside_an_lr_far_under_its_range_is_confident() -> None:
    st, v = _linear()
    (f,) = not_learning.detect_lr_too_low(_run(v, st, lr=1e-5, optimizer="sgd", planned=1000))
    assert f.strength >= 0.9 and any("linear descent" in e for e in f.evidence)


def test_the_linear_shape_is_silent_where_it_says_nothing_about_the_lr() -> None:
    st, v = _linear()
    # the run converges: an exponential decay that has flattened by its end (a healthy curve), 25 % down
    t = np.arange(10)
    conv = 1.7 + 0.6 * np.exp(-t / 1.5)
    assert not_learning.detect_lr_too_low(_run(conv, st, planned=1000)) == []
    # no planned length in the log: an excerpt (the first steps of a long run, a warmup still climbing) reads alike
    assert not_learning.detect_lr_too_low(_run(v, st)) == []
    # the log stops at a third of the planned run
    assert not_learning.detect_lr_too_low(_run(v, st, planned=3000)) == []
    # the LR is stated and inside its optimiser's range: a slow healthy run (or a small model), not a small step
    assert not_learning.detect_lr_too_low(_run(v, st, lr=0.05, optimizer="sgd", planned=1000)) == []
    # the loss learns (falls 45 %), or only wanders (noise, no drift)
    assert not_learning.detect_lr_too_low(_run(_linear(fall=0.45)[1], st, planned=1000)) == []
    noise = 2.3 + 0.05 * np.random.default_rng(3).standard_normal(10)
    assert not any(f.numbers.get("shape_only") for f in not_learning.detect_lr_too_low(_run(noise, st, planned=1000)))


# deeplearning.ai's mini-batch gradient descent at lr 0.0007 on a 2-class task (g17-dlai-optimization-minibatch-gd):
# at ln 2 for the first tenth of the run, then a slow fall that stalls at two thirds of the start
SLOW_START = [0.690736, 0.685273, 0.647072, 0.619525, 0.576584, 0.607243, 0.529403, 0.460768, 0.465586, 0.464518]
STEPS_1000 = np.arange(10) * 1000


def test_a_slow_start_at_chance_that_stalls_is_listed_as_lr_too_low() -> None:
    (f,) = not_learning.detect_lr_too_low(_run(SLOW_START, STEPS_1000))
    assert f.strength == not_learning.LINEAR_ONLY < 0.5 and f.numbers["listing"] and f.step == 0
    assert f.numbers["chance_classes"] == 2


def test_the_slow_start_is_silent_where_it_says_nothing_about_the_lr() -> None:
    # the same model under Adam: most of the fall in the first tenth (g15-dlai-optimization-adam)
    adam = [0.68755, 0.173593, 0.150145, 0.072939, 0.125896, 0.104185, 0.116069, 0.031774, 0.112908, 0.197732]
    assert not_learning.detect_lr_too_low(_run(adam, STEPS_1000)) == []
    # the LR is stated and inside its range
    assert not_learning.detect_lr_too_low(_run(SLOW_START, STEPS_1000, lr=0.05, optimizer="sgd")) == []
    # a warmup plateau at ln 10, then the fall of a run that learns (ends under half its start)
    warm = [2.302, 2.300, 2.1, 1.6, 1.2, 0.9, 0.7, 0.6, 0.55, 0.5]
    assert not_learning.detect_lr_too_low(_run(warm, STEPS_1000)) == []
    # a start away from any chance level (a regression's MSE), or a loss that leaves chance at once
    assert not_learning.detect_lr_too_low(_run([1.5 * x / 0.690736 for x in SLOW_START], STEPS_1000)) == []
    assert not_learning.detect_lr_too_low(_run([0.69, 0.62] + SLOW_START[2:], STEPS_1000)) == []
