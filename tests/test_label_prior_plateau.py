"""detect_label_prior_plateau (evidence/detectors/not_learning.py): labels detached from their inputs leave the label
distribution as the only thing to learn; the loss falls a little in the first updates and then training and held-out
losses sit together at the prior's entropy. Constructed series, no training."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.model import ConfigValue, Run, Series

STEPS = np.arange(1, 301, 5)  # 60 logged points
EVALS = STEPS[5::6]  # 10 evaluations, the first at step 26


def prior_run(held: np.ndarray | None = None, loss: np.ndarray | None = None, config: dict | None = None,
              summary: dict | None = None, seed: int = 0) -> Run:
    """A tiny LM on shuffled targets: 3.0 -> 2.55 within ~15 steps, 1 % minibatch noise; held-out flat at 2.56."""
    rng = np.random.default_rng(seed)
    if loss is None:
        loss = (2.55 + 0.45 * np.exp(-(STEPS - 1) / 15)) * (1 + 0.01 * rng.standard_normal(STEPS.size))
    if held is None:
        held = 2.56 * (1 + 0.003 * rng.standard_normal(EVALS.size))
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log"))
    run.add_series(Series("eval_loss", EVALS, held, "run/train.log"))
    for k, v in (config or {"lr": 3e-4, "optimizer": "adam"}).items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    if summary:
        run.meta["param_summary"] = {**summary, "source": "run/train.log"}
    return run.finalize()


def test_fires_at_the_first_evaluation_as_a_listing_over_seeds():
    for seed in range(5):
        got = nl.detect_label_prior_plateau(prior_run(seed=seed))
        assert len(got) == 1, seed
        f = got[0]
        assert f.cause == "data_pipeline_bug" and f.step == int(EVALS[0])
        assert f.strength == nl.PRIOR_STRENGTH < 0.5 and f.numbers["listing"]


def test_sole_reading_when_the_log_rules_out_the_look_alikes():
    """Every parameter trainable, GELU (never dead), two layers (no vanishing gradient), a stated LR in range."""
    cfg = {"lr": 3e-4, "optimizer": "adam", "act": "gelu", "depth": 2}
    run = prior_run(config=cfg, summary={"trainable": 18900, "total": 18900})
    assert {"frozen_params", "vanishing_gradients", "dead_units"} <= set(nl.ruled_out(run))
    (f,) = nl.detect_label_prior_plateau(run)
    assert f.strength == nl.SOLE_READING >= 0.5 and not f.numbers["listing"]


def test_silent_when_the_held_out_loss_keeps_improving_or_the_train_loss_drifts_down():
    rng = np.random.default_rng(1)
    assert nl.detect_label_prior_plateau(prior_run(held=np.linspace(2.56, 2.30, EVALS.size))) == []
    falling = (2.55 + 0.45 * np.exp(-(STEPS - 1) / 15)) * (1 - 0.0004 * STEPS) * (1 + 0.01 * rng.standard_normal(
        STEPS.size))
    assert nl.detect_label_prior_plateau(prior_run(loss=falling)) == []


def test_silent_on_a_real_learner_and_a_train_loss_below_the_held_out_one():
    rng = np.random.default_rng(2)
    learner = (0.4 + 2.6 * np.exp(-(STEPS - 1) / 60)) * (1 + 0.01 * rng.standard_normal(STEPS.size))
    assert nl.detect_label_prior_plateau(prior_run(loss=learner, held=np.full(EVALS.size, 0.45))) == []
    memorising = (2.3 + 0.7 * np.exp(-(STEPS - 1) / 15)) * (1 + 0.01 * rng.standard_normal(STEPS.size))
    assert nl.detect_label_prior_plateau(prior_run(loss=memorising)) == []  # 2.3 vs 2.56 held-out: a gap


def test_silent_when_the_weights_stopped_moving():
    """A late loss repeated to every digit is an LR at 0 (the scheduler rules' picture), not detached labels."""
    loss = np.round(2.55 + 0.45 * np.exp(-(STEPS - 1) / 15), 4)
    loss[STEPS > 100] = 2.5512
    assert nl.detect_label_prior_plateau(prior_run(loss=loss, held=np.full(EVALS.size, 2.5601))) == []
