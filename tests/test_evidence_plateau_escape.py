"""A loss stuck at chance for the first quarter of a run that then trains (not_learning.plateau_escape): listed as
vanishing_gradients at a known step on a real course run and a constructed series, silent where a warmup, a logged
grad norm, an LR under its range, an ordinary learner, a slow crawl or an off-chance plateau explain the curve."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
STEPS = np.arange(0, 400, 4)  # 100 logged points
K = 10


def plateau_then_escape(exit_step: int = 140, end: float = 0.08, seed: int = 0) -> np.ndarray:
    """ln 10 with 0.3 % batch noise up to exit_step, then an exponential fall towards `end`."""
    noise = 1 + 0.003 * np.random.default_rng(seed).standard_normal(STEPS.size)
    after = np.clip(STEPS - exit_step, 0, None)
    base = end + (math.log(K) - end) * np.exp(-after / 30)
    return base * noise


def build(loss: np.ndarray, config: dict[str, object] | None = None, lr: np.ndarray | None = None,
          grad_norm: bool = False) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log"))
    if lr is not None:
        run.add_series(Series("lr", STEPS, lr, "run/train.log"))
    if grad_norm:
        run.add_series(Series("grad_norm", STEPS, np.full(STEPS.size, 0.3), "run/train.log"))
    for k, v in (config or {"lr": 0.1, "optimizer": "sgd"}).items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    return run.finalize()


def test_fires_on_the_course_run_stuck_at_ln10_for_17_epochs():
    run = load_run([str(REALWORLD / "g1s31-stat453-ss21-l11-weight-normal-std0.001-stuck-17-epochs" / "run")])
    got = nl.plateau_escape(run)
    assert len(got) == 1
    f = got[0]
    assert f.cause == "vanishing_gradients" and f.strength == nl.PLATEAU_ESCAPE
    assert f.step == 0 and f.numbers["chance_classes"] == 10
    # epoch 18 starts at step 17 * 210 = 3570; its batch 100 line is the first off the plateau
    assert f.numbers["plateau_exit_step"] == 3670
    assert f.numbers["end_over_start"] < 0.05
    assert any(x.cause == "vanishing_gradients" for x in nl.detect_vanishing_gradients(run))


def test_fires_on_a_constructed_plateau_at_chance_then_a_fall():
    got = nl.plateau_escape(build(plateau_then_escape()))
    assert len(got) == 1 and got[0].step == 0
    assert 140 <= got[0].numbers["plateau_exit_step"] <= 160


def test_silent_where_a_warmup_or_schedule_explains_the_plateau():
    warm = np.minimum(1.0, (STEPS + 4) / 160) * 0.1
    assert nl.plateau_escape(build(plateau_then_escape(), lr=warm)) == []
    assert nl.plateau_escape(build(plateau_then_escape(), {"lr": 0.1, "optimizer": "sgd",
                                                           "warmup_steps": 150})) == []
    # a constant logged LR explains nothing: the rule still fires
    assert nl.plateau_escape(build(plateau_then_escape(), lr=np.full(STEPS.size, 0.1))) != []


def test_silent_with_a_grad_norm_or_an_lr_under_its_range():
    assert nl.plateau_escape(build(plateau_then_escape(), grad_norm=True)) == []
    assert nl.plateau_escape(build(plateau_then_escape(), {"lr": 1e-7, "optimizer": "adam"})) == []


def test_silent_on_learners_crawls_and_off_chance_plateaus():
    # an ordinary learner: the loss leaves chance at once
    assert nl.plateau_escape(build(plateau_then_escape(exit_step=0))) == []
    # a plateau over only the first tenth: not stuck a quarter of the run
    assert nl.plateau_escape(build(plateau_then_escape(exit_step=40))) == []
    # a slow crawl that stalls above half its start: the slow-start reading's (lr_too_low), not this one
    assert nl.plateau_escape(build(plateau_then_escape(end=1.6))) == []
    # a plateau at 1.87 is between ln 6 and ln 7: no chance level
    assert nl.plateau_escape(build(plateau_then_escape() * 1.87 / math.log(K))) == []
