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

The LLM policy-gradient trainers (GRPO, RLOO: TRL, Unsloth, open-r1) log a plain "loss" instead, with the signs of
on-policy sampling beside it: the reward of the completions the policy generated, the length of those completions,
and the KL to the reference policy. Their "loss" is the same kind of surrogate: GRPO's advantages are centred within
each group of completions (Shao et al. 2024, "DeepSeekMath", section 4.1) and, with one update per batch, the
importance ratio is exactly 1 where the loss is computed, so the policy term is 0 by construction while its gradient
is not; what remains is beta times the KL, which grows as the policy leaves the reference. The logged loss is thus
0 at the first steps and rises through a healthy run. All three signals together read as RL: preference training on
fixed pairs (DPO, ORPO, KTO) generates no completions, so it logs no completion length, and supervised fine-tuning
logs no reward.

A notebook (or script) that came with the run can say the same when the log does not: a Trainer's notebook table
may keep only `Step | Training Loss`. When the run's code constructs a policy-gradient trainer (TRL's GRPOTrainer,
RLOOTrainer, PPOTrainer) and no other trainer (an SFTTrainer, a plain Trainer, a DPOTrainer beside it would leave open
which one printed the loss), its logged loss is that trainer's surrogate. Online DPO is left out: its loss is DPO's
log-sigmoid, a real loss.
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
# on-policy sampling (module docstring): the KL to the reference policy (TRL's kl, objective/kl, a kl_penalty) and
# the length of the sampled completions (TRL's completion_length, completions/mean_length, a response_length)
_KL_RE = re.compile(r"(?:^|[_/ .-])kl(?:_(?:div\w*|penalty|coef))?$", re.I)
_COMPLETION_RE = re.compile(r"(?:^|[_/ .-])(?:completions?|responses?)(?:[_/ .-](?:mean[_ ])?len(?:gth)?s?\b)", re.I)
# the policy-gradient trainers' constructors (module docstring), and any other trainer's: a supervised or preference
# trainer (SFTTrainer, DPOTrainer, ...), a plain Trainer (transformers, Lightning's pl.Trainer)
_TRAINER_CALL_RE = re.compile(r"\b(\w*?)Trainer\s*\(")
_PG_PREFIX_RE = re.compile(r"(?:GRPO|RLOO|PPO|PPOv2)$")
MIN_POINTS = 3  # a reward trend needs at least a start, a middle and an end


@dataclass(frozen=True)
class RlRun:
    """Why the run is read as RL: its reward series and its policy-gradient / actor-critic loss names, or, for an LLM
    policy-gradient trainer, its plain loss and the on-policy sampling series beside it (`sampled`)."""

    reward: str
    losses: tuple[str, ...]
    sampled: tuple[str, ...] = ()
    trainer: str = ""  # the policy-gradient trainer the run's code constructs, when the log names no reward

    @property
    def evidence(self) -> str:
        if self.trainer:
            return (f"a reinforcement-learning run: its code trains with {self.trainer}, so its {self.losses[0]} is a "
                    "policy-gradient surrogate (0 by construction at the first updates, then rising with the KL to "
                    "the reference, or negative), no supervised loss; the reward it optimises is not in the log")
        if self.sampled:
            return (f"a reinforcement-learning run: it logs a reward ({self.reward}) of completions its policy sampled "
                    f"({', '.join(self.sampled[:3])}); its {self.losses[0]} is a policy-gradient surrogate, 0 by "
                    "construction at the first updates and rising with the KL to the reference, no supervised loss")
        return (f"a reinforcement-learning run: it logs a reward ({self.reward}) and policy-gradient / actor-critic "
                f"losses ({', '.join(self.losses[:3])}), surrogates whose level and trend are no supervised loss's")


def _raw(run: Run, name: str) -> str:
    s = run.metrics[name]
    return s.raw_name or name


def _named(run: Run, name: str, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.search(name) or pattern.search(_raw(run, name)))


def rl_run(run: Run) -> RlRun | None:
    """The RL reading of the run (module docstring), or None for every run that lacks either signal."""
    def compute() -> RlRun | None:
        names = [n for n, s in sorted(run.metrics.items()) if len(s)]
        reward = next((n for n in names if _named(run, n, _REWARD_RE)
                       and int(np.isfinite(run.metrics[n].values).sum()) >= MIN_POINTS), None)
        if reward is None:
            return None
        losses = tuple(_raw(run, n) for n in names if _named(run, n, _RL_LOSS_RE))
        if losses:
            return RlRun(_raw(run, reward), losses)
        # an LLM policy-gradient trainer (module docstring): a plain loss, the KL to the reference and the length of
        # the sampled completions, all three
        kl = [n for n in names if _named(run, n, _KL_RE)]
        length = [n for n in names if _named(run, n, _COMPLETION_RE)]
        if not kl or not length or run.series("loss") is None:
            return None
        return RlRun(_raw(run, reward), (_raw(run, "loss"),), tuple(_raw(run, n) for n in (*length, *kl)))

    def compute_all() -> RlRun | None:
        found = compute()
        if found is not None or run.series("loss") is None:
            return found
        trainer = _policy_gradient_trainer(run)
        if trainer is None:
            return None
        return RlRun("", (_raw(run, "loss"),), trainer=trainer)
    return stats.cached(run, "rl_run", compute_all)


def _policy_gradient_trainer(run: Run) -> str | None:
    """`Name(` of the one policy-gradient trainer the run's code constructs (module docstring), as `file` cites it;
    None when none is constructed, or when another trainer is constructed too."""
    from traindoc.evidence import code_files  # the code readers import the evidence context, which imports this

    texts = code_files.file_texts(run)
    calls = [(path, m) for path, text in texts.items() for m in _TRAINER_CALL_RE.finditer(text)]
    pg = [(path, m) for path, m in calls if _PG_PREFIX_RE.search(m.group(1))]
    if not pg or len(pg) < len(calls):
        return None
    path, m = pg[0]
    line = texts[path].count("\n", 0, m.start()) + 1
    return f"{m.group(0).rstrip('( ')} [{code_files.where(path, line)}]"
