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



def _with_grads(run: Run, grads: dict[str, np.ndarray]) -> Run:
    for name, values in grads.items():
        run.add_series(Series(name, STEPS, values, "run/metrics.jsonl"))
    return run.finalize()


RELU2 = {"lr": 3e-4, "optimizer": "adam", "act": "relu", "depth": 2, "bias_init": "null"}


def _live(rng: np.random.Generator, level: float) -> np.ndarray:
    return level * (1 + 0.2 * rng.random(STEPS.size))


def test_gradient_at_every_logged_weight_crosses_off_the_freeze():
    """Per-parameter grad norms of an input-side weight and the head's, non-zero at every logged step: the weights
    train, so a freeze (which leaves a .grad of None) is crossed off; with the rest ruled out, the sole reading."""
    rng = np.random.default_rng(3)
    run = _with_grads(prior_run(config=RELU2), {"grad_norm/pos": _live(rng, 0.03),
                                                "grad_norm/head.weight": _live(rng, 0.3)})
    w = nl.weights_with_gradient(run)
    assert w is not None and w[0] == ["head.weight", "pos"]
    assert "frozen_params" in nl.ruled_out(run)
    (f,) = nl.detect_label_prior_plateau(run)
    assert f.step == int(EVALS[0]) and f.strength == nl.SOLE_READING and not f.numbers["listing"]


def test_a_lone_head_a_bias_an_embedding_or_a_zero_gradient_leaves_the_freeze_listed():
    """A trained head alone (four frozen layers under it stay at chance: tests/data/layer_grads), a bias or an
    embedding beside it, or any logged parameter at 0 (a frozen layer): frozen_params stays listed."""
    rng = np.random.default_rng(4)
    head = {"grad_norm/head.weight": _live(rng, 0.3)}
    for extra in ({}, {"grad_norm/head.bias": _live(rng, 0.3)}, {"grad_norm/tok_emb.weight": _live(rng, 0.3)},
                  {"grad_norm/net.0.weight": np.zeros(STEPS.size), "grad_norm/net.2.weight": _live(rng, 0.1)}):
        run = _with_grads(prior_run(config=RELU2), {**head, **extra})
        assert nl.weights_with_gradient(run) is None, extra
        assert "frozen_params" not in nl.ruled_out(run), extra
        (f,) = nl.detect_label_prior_plateau(run)
        assert f.strength == nl.PRIOR_STRENGTH and f.numbers["listing"], extra
