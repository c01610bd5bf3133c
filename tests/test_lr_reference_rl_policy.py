"""The LR of an LLM policy-gradient run (GRPO, RLOO, RLHF's PPO) is judged against the RL policy range, not
from-scratch AdamW's (evidence/context.py `rl_policy`; docs/diagnose.md, "Fine-tuning ranges").

realworld g14s35-hotpotqa-agent-qwen25-3b-trl-grpo-1875-steps (TRL GRPO at 5e-6 on a Qwen2.5-3B SFT checkpoint,
reward 0.63 -> 0.69, KL to the reference 0.02 -> 2.7) read lr_too_low 0.67 against AdamW's 3e-4 before.
"""

from __future__ import annotations

import numpy as np

from traindoc.evidence import context
from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.model import ConfigValue, Run, Series

STEPS = np.arange(19, 1875, 20)  # 93 logging points, every 20 updates, as the GRPO log prints them
SRC = "run/grpo.log"


def grpo_run(lr: float, sampled: bool = True) -> Run:
    """A GRPO-like log: a surrogate loss 0 at first and rising with beta x KL, a slowly rising reward of sampled
    completions, the KL to the reference, the completion length, a grad norm ~20 and a linearly decaying LR."""
    rng = np.random.default_rng(0)
    n = STEPS.size
    kl = np.concatenate([[0.02], 2.5 * (1 - np.exp(-np.arange(1, n) / 10))]) + 0.1 * rng.random(n)
    run = Run()
    run.add_series(Series("loss", STEPS, 0.01 * kl, SRC))
    run.add_series(Series("grad_norm", STEPS, 20 + 5 * rng.random(n), SRC))
    run.add_series(Series("lr", STEPS, lr * np.linspace(1.0, 0.01, n), SRC))
    run.add_series(Series("reward", STEPS, 0.63 + 0.06 * (1 - np.exp(-STEPS / 300)) + 0.01 * rng.standard_normal(n),
                          SRC))
    if sampled:
        run.add_series(Series("kl", STEPS, kl, SRC))
        run.add_series(Series("completion_length", STEPS, 105 + 8 * rng.standard_normal(n), SRC))
    run.put_config(ConfigValue("optim", "adamw_torch", SRC, 1, "log_line", "adamw_torch"))
    return run.finalize()


def lr_too_low(run: Run) -> float:
    return max((f.strength for f in nl.detect_lr_too_low(run)), default=0.0)


def test_a_grpo_policy_at_5e_6_is_inside_the_rl_range() -> None:
    run = grpo_run(5e-6)
    assert context.rl_policy(run) is not None
    ft = context.fine_tune(run)
    assert ft is not None and "policy-gradient" in ft.why
    (cfg,) = [c for c in context.configured_lrs(run) if c.group == "main"]
    assert cfg.family == "adamw_rl_policy"
    assert lr_too_low(run) < 0.5


def test_a_grpo_policy_orders_of_magnitude_under_the_rl_floor_still_fires() -> None:
    # 1e-8 is 100x under DeepSeekMath's and TRL's 1e-6, 30x under Tulu 3's 3e-7
    run = grpo_run(1e-8)
    (cfg,) = [c for c in context.configured_lrs(run) if c.group == "main"]
    assert cfg.family == "adamw_rl_policy"
    assert lr_too_low(run) >= 0.5


def test_without_the_kl_and_the_completion_length_the_run_is_no_policy_fine_tune() -> None:
    """A reward alone does not make an RL policy run (a preference trainer logs rewards/chosen beside a real loss):
    the from-scratch range applies, and 5e-6 is 60x under it."""
    run = grpo_run(5e-6, sampled=False)
    assert context.rl_policy(run) is None and context.fine_tune(run) is None
    (cfg,) = [c for c in context.configured_lrs(run) if c.group == "main"]
    assert cfg.family == "adamw"
    assert lr_too_low(run) >= 0.5
