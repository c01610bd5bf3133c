"""Reinforcement-learning runs (evidence/rl.py): a policy-gradient / actor-critic surrogate is no supervised loss.

A PPO run's total loss (policy surrogate + value - entropy) sits near zero or below by construction and its policy
surrogate rises whenever the advantages grow; the supervised-loss rules (label_leakage's early collapse, a rise read
as divergence) stay off it once the run shows a reward and an RL loss name. Fires: the same curves with no reward
(a supervised run) keep their readings; a NaN in a surrogate is still a NaN. Silent: the RL runs. Not RL: preference
training's "rewards/chosen" beside a real loss, a reward with no RL loss name.

An LLM policy-gradient trainer (GRPO in TRL / Unsloth) logs a plain `loss`, 0 at the first steps by construction and
rising with the KL, beside the reward, the completions' length and the KL: read as RL on all three. Without the
completion length (KTO logs a KL beside `rewards/chosen`) or without the KL it stays a supervised loss. A notebook
whose table keeps only `Step | Training Loss` is read as RL when its code constructs a GRPOTrainer and no other
trainer; an SFTTrainer's notebook, or one that constructs both, keeps the supervised reading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from traindoc.evidence import run_detectors
from traindoc.evidence.context import loss_series, nan_watch_series
from traindoc.evidence.rl import rl_run
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

STEPS = np.arange(0, 150)


def ppo_total_loss(seed: int = 0) -> np.ndarray:
    """SB3-style total_loss: 0.36 at the start, ~0 from the 6th update on, then slightly negative."""
    rng = np.random.default_rng(seed)
    v = 0.36 * np.exp(-STEPS / 2.0) - 0.015 + 0.004 * rng.standard_normal(STEPS.size)
    return v


def make_run(reward: bool, nan_at: int | None = None, seed: int = 0) -> Run:
    run = Run()
    loss = ppo_total_loss(seed)
    if nan_at is not None:
        loss[nan_at:] = np.nan
    run.add_series(Series("loss", STEPS, loss, "run/progress.csv", "total_loss"))
    rng = np.random.default_rng(seed + 10)
    run.add_series(Series("policy_gradient_loss", STEPS, -0.005 + 0.004 * rng.standard_normal(STEPS.size),
                          "run/progress.csv", "policy_gradient_loss"))
    run.add_series(Series("value_loss", STEPS, 0.25 * np.exp(-STEPS / 10.0), "run/progress.csv", "value_loss"))
    if reward:
        run.add_series(Series("ep_rew_mean", STEPS, -550 + 630 * (1 - np.exp(-STEPS / 40.0)), "run/progress.csv",
                              "ep_rew_mean"))
    return run.finalize()


def actor_critic_run(reward: bool) -> Run:
    """DeepSpeed-Chat step-3 style: act_loss and cri_loss (no total) that fall below 0 and then rise back."""
    run = Run()
    steps = np.arange(0, 400)
    shape = np.where(steps < 200, 0.3 - 0.45 * steps / 200, -0.15 + 0.2 * (steps - 200) / 200)
    run.add_series(Series("act_loss", steps, shape, "run/train.log", "act_loss"))
    run.add_series(Series("cri_loss", steps, 0.5 * shape, "run/train.log", "cri_loss"))
    if reward:
        run.add_series(Series("average reward score", steps, -0.6 + 5 * (1 - np.exp(-steps / 100.0)),
                              "run/train.log", "average reward score"))
    return run.finalize()


def causes(run: Run, at_least: float = 0.3) -> set[str]:
    return {f.cause for f in run_detectors(run) if f.strength >= at_least}


def test_a_ppo_total_loss_near_zero_is_no_collapse() -> None:
    for seed in (0, 1, 2):
        run = make_run(reward=True, seed=seed)
        assert rl_run(run) is not None and "ep_rew_mean" in rl_run(run).evidence
        assert loss_series(run) is None
        assert "label_leakage" not in causes(run, 0.0)


def test_the_same_curve_without_a_reward_still_reads_as_a_collapse() -> None:
    run = make_run(reward=False)
    assert rl_run(run) is None and loss_series(run) is not None
    assert "label_leakage" in causes(run)


def test_an_actor_loss_rising_from_below_zero_is_no_divergence_in_an_rl_run() -> None:
    assert "lr_too_high" in causes(actor_critic_run(reward=False))
    run = actor_critic_run(reward=True)
    assert rl_run(run) is not None
    assert "lr_too_high" not in causes(run, 0.0)


def test_a_nan_in_a_surrogate_is_still_read() -> None:
    run = make_run(reward=True, nan_at=100)
    assert loss_series(run) is None
    watch = nan_watch_series(run)
    assert watch is not None and not np.isfinite(watch.values[-1])


def test_preference_rewards_or_a_bare_reward_are_no_rl_run() -> None:
    # DPO's rewards beside a real loss and a bare eval reward; KTO's, with the KL it logs (no completion length)
    for extra in ({"rewards/chosen": 0.01, "eval_reward": 0.02}, {"rewards/chosen_sum": 0.01, "kl": 0.001}):
        run = Run()
        run.add_series(Series("loss", STEPS, 0.69 * np.exp(-STEPS / 50.0) + 0.1, "run/log.txt", "loss"))
        for name, slope in extra.items():
            run.add_series(Series(name, STEPS, slope * STEPS, "run/log.txt", name))
        run = run.finalize()
        assert rl_run(run) is None and loss_series(run) is not None, extra


def grpo_run(kl: bool = True, length: bool = True, seed: int = 0) -> Run:
    """TRL GRPOTrainer style, one row per step: loss exactly 0 for the first 30 steps then beta * KL (~1e-3), the
    mean reward rising 0.5 -> 2 with the noise of a few sampled completions."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, 251)
    kl_v = np.where(steps <= 30, 0.0, 0.03 * (1 - np.exp(-(steps - 30) / 60.0)))
    run = Run()
    run.add_series(Series("loss", steps, np.round(0.04 * kl_v, 4), "run/nb.ipynb", "Training Loss"))
    run.add_series(Series("reward", steps, 0.5 + 1.5 * (1 - np.exp(-steps / 80.0)) + 0.6 * rng.standard_normal(250),
                          "run/nb.ipynb", "reward"))
    run.add_series(Series("reward_std", steps, 0.8 + 0.2 * rng.standard_normal(250), "run/nb.ipynb", "reward_std"))
    if kl:
        run.add_series(Series("kl", steps, kl_v, "run/nb.ipynb", "kl"))
    if length:
        run.add_series(Series("completion_length", steps, 200 + 40 * rng.standard_normal(250), "run/nb.ipynb",
                              "completion_length"))
    return run.finalize()


def test_a_grpo_loss_at_zero_then_rising_is_no_pipeline_bug() -> None:
    for seed in (0, 1, 2):
        run = grpo_run(seed=seed)
        rl = rl_run(run)
        assert rl is not None and rl.sampled and "completion_length" in rl.evidence
        assert loss_series(run) is None
        assert not causes(run, 0.0) & {"data_pipeline_bug", "label_leakage", "lr_too_high"}


def test_without_the_completion_length_or_the_kl_the_zero_loss_still_reads_as_a_pipeline_bug() -> None:
    for run in (grpo_run(length=False), grpo_run(kl=False)):
        assert rl_run(run) is None and loss_series(run) is not None
        found = [f for f in run_detectors(run) if f.cause == "data_pipeline_bug" and f.strength >= 0.5]
        assert found and found[0].step == 1


# a GRPO loss in a notebook table with no reward column: 0.0129 at step 10, ~0 from step 20, then around 0 and
# negative (the HF cookbook's VLM GRPO recipe has this shape)
_GRPO_LOSSES = [0.0129, 0.0, -0.0392, 0.0034, -0.0566, -0.0366, 0.0255, -0.0066, 0.1006, -0.0028, -0.0177, 0.009,
                0.0136, 0.0, 0.0338, 0.0388, -0.048, -0.0439, -0.0057, 0.002, -0.0521, 0.0032, 0.0318, 0.0333,
                -0.0196, 0.0208, 0.0398, -0.0299, -0.0379, -0.0428]


def _trainer_notebook(path: Path, trainer_cell: str) -> Path:
    rows = "".join(f"<tr><td>{10 * (i + 1)}</td><td>{v:.6f}</td></tr>" for i, v in enumerate(_GRPO_LOSSES))
    table = ("<table border=\"1\" class=\"dataframe\"><thead><tr style=\"text-align: left;\"><th>Step</th>"
             f"<th>Training Loss</th></tr></thead><tbody>{rows}</tbody></table>")
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
              "source": trainer_cell.splitlines(keepends=True)},
             {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": ["trainer.train()\n"],
              "outputs": [{"output_type": "display_data", "metadata": {},
                           "data": {"text/plain": ["<IPython.core.display.HTML object>"], "text/html": [table]}}]}]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": cells}))
    return path


_GRPO_CELL = ("from trl import GRPOConfig, GRPOTrainer\n"
              "trainer = GRPOTrainer(model=model, reward_funcs=[format_reward], args=args, train_dataset=ds)\n")
_SFT_CELL = "from trl import SFTTrainer\ntrainer = SFTTrainer(model=model, args=args, train_dataset=ds)\n"


def test_a_grpo_notebook_loss_without_a_reward_is_read_as_rl(tmp_path: Path) -> None:
    run = load_run([_trainer_notebook(tmp_path / "grpo.ipynb", _GRPO_CELL)])
    assert run.series("loss") is not None and len(run.series("loss")) == 30
    rl = rl_run(run)
    assert rl is not None and "GRPOTrainer" in rl.evidence and "code cell 1" in rl.evidence
    assert loss_series(run) is None
    assert not causes(run, 0.0) & {"label_leakage", "lr_too_high", "data_pipeline_bug"}


def test_an_sft_notebook_or_one_with_two_trainers_keeps_the_supervised_reading(tmp_path: Path) -> None:
    for name, cell in (("sft.ipynb", _SFT_CELL), ("both.ipynb", _GRPO_CELL + _SFT_CELL)):
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        run = load_run([_trainer_notebook(folder / name, cell)])
        assert rl_run(run) is None and loss_series(run) is not None
        found = [f for f in run_detectors(run) if f.cause == "label_leakage" and f.strength >= 0.5]
        assert found and found[0].step == 20, (name, found)
