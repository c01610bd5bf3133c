"""Reinforcement-learning runs: the objective is the reward, and the logged "losses" are surrogates.

A policy-gradient / actor-critic run (PPO, A2C, RLHF's PPO step) logs a policy surrogate (`policy_gradient_loss`,
`act_loss`: an advantage-weighted log-ratio centred on 0 by construction, Schulman et al. 2017, "Proximal Policy
Optimization Algorithms", eq. 7), a value regression whose target moves with the policy (`value_loss`, `cri_loss`)
and an entropy bonus (`entropy_loss`, negative by construction), and often their sum (`total_loss`, SB3's
`train/loss`). None of them is a supervised loss: the surrogate is near zero or negative at every step of a healthy
run, and it rises whenever the advantages grow. What the run optimises is the episode return, logged as a reward
(`ep_rew_mean`, `episode_reward`, `reward_score`, ...). The supervised-loss rules (a loss that collapses to ~0, that
rises after its minimum, that plateaus at chance) read these curves as the faults they would be in supervised
training; `rl_run` names the runs where they must stay off.

A run is read as RL only on two signals together: a reward series and at least one policy-gradient / actor-critic
loss name. Either alone is not enough: preference training (DPO, ORPO) logs "rewards/chosen" beside a real
log-sigmoid loss, and a WGAN logs a "critic" loss against a generator's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.ingest.model import Run

# the return of an episode under the names RL libraries log it: SB3's rollout/ep_rew_mean, RLlib's
# episode_reward_mean, DeepSpeed-Chat's "average reward score", tianshou's rew, a plain reward / return
_REWARD_RE = re.compile(r"(?:^|[_/ .-])(?:ep_?rew\w*|episode_?(?:reward|return)\w*|ep_?ret\w*|rew|rewards?|returns?)"
                        r"(?:[_/ .-]|$)", re.I)
# a policy-gradient / actor-critic loss term: policy(_gradient)_loss, pg_loss, actor/act_loss, value/vf_loss,
# critic/cri_loss, entropy_loss, a clipped surrogate; "loss_policy"-style too
_RL_LOSS_RE = re.compile(r"(?:^|[_/ .-])(?:policy(?:_gradient)?|pg|actor|act|value|vf|critic|cri|entropy|surr\w*)"
                         r"[_ .-]?loss$|^loss[_/ .-](?:policy|pg|actor|value|vf|critic|entropy)", re.I)
MIN_POINTS = 3  # a reward trend needs at least a start, a middle and an end


@dataclass(frozen=True)
class RlRun:
    """Why the run is read as RL: its reward series and its policy-gradient / actor-critic loss names."""

    reward: str
    losses: tuple[str, ...]

    @property
    def evidence(self) -> str:
        return (f"a reinforcement-learning run: it logs a reward ({self.reward}) and policy-gradient / actor-critic "
                f"losses ({', '.join(self.losses[:3])}), surrogates whose level and trend are no supervised loss's")


def _raw(run: Run, name: str) -> str:
    s = run.metrics[name]
    return s.raw_name or name


def rl_run(run: Run) -> RlRun | None:
    """The RL reading of the run (module docstring), or None for every run that lacks either signal."""
    def compute() -> RlRun | None:
        names = [n for n, s in sorted(run.metrics.items()) if len(s)]
        reward = next((n for n in names if (_REWARD_RE.search(n) or _REWARD_RE.search(_raw(run, n)))
                       and int(np.isfinite(run.metrics[n].values).sum()) >= MIN_POINTS), None)
        losses = tuple(_raw(run, n) for n in names if _RL_LOSS_RE.search(n) or _RL_LOSS_RE.search(_raw(run, n)))
        if reward is None or not losses:
            return None
        return RlRun(_raw(run, reward), losses)
    return stats.cached(run, "rl_run", compute)
