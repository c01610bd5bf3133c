"""A NaN that comes out of an objective built on the log of a model output (docs/diagnose.md, "A NaN in a log
objective").

Some loss terms take the log (or exp) of a quantity the model itself drives towards 0 or overflow, and go NaN in
any precision unless the code guards them:
- a KL divergence: a VAE's KL term reads log sigma^2 and exp(log sigma^2) (Kingma & Welling 2014), so a variance
  collapsing to 0 gives log 0 and a growing log-variance overflows exp; an RL policy's KL penalty (PPO, RLHF) reads
  log pi - log pi_ref, -inf where a token's probability underflows;
- the two players of an adversarial game: the minimax objective reads log D(x) and log(1 - D(G(z))) (Goodfellow et
  al. 2014), log 0 once the discriminator saturates unless the loss is computed from logits.
When the first non-finite loss of a run (evidence/context.py: NanContext, no lead before it) is one of these terms,
an experienced engineer's first answer is the guard (clamp the log-variance, an epsilon in the log, the loss from
logits): the op is where the fix goes whatever else helped it fail (float16 narrows the range the op has before it
fails, it does not create the op). From the first logged point the log cannot confirm it (no op is located in the
code, and nothing has run at the LR yet), so this only moves the op ahead of its level companions, below the report
threshold; after a stretch in which the run was stable at its LR (evidence/nan_prior.py: stable_before_nan) the
LR is out and the op is confirmed, as finite companion terms confirm it (detectors/numerics.py: detect_nan_inf,
OBJECTIVE_STABLE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traindoc.evidence import stats
from traindoc.evidence.context import _PLAYER_RE, cite_series, first_nonfinite, nan_context
from traindoc.ingest.model import Run

# "kl", "kld", "KLD Loss", "kl_loss", "actor/kl_loss", "ppo_kl", "kl_div", "kl_divergence", "kullback"
# held-out metrics: the NaN rules read the training losses (a held-out NaN first has its own rule, nan_inputs.py)
_HELD_OUT = re.compile(r"^(?:eval|val|vali|valid|validation|test|dev)[_ /.-]", re.I)
_KL_RE = re.compile(r"(?:^|[_/ .-])(?:kld?|kl_?div(?:ergence)?|kullback\w*)(?:[_/ .-]|$|loss$)", re.I)


@dataclass(frozen=True)
class LogObjective:
    kind: str  # "KL divergence" or "adversarial"
    terms: list[str]  # the terms non-finite at the NaN's step
    evidence: str


def log_objective(run: Run) -> LogObjective | None:
    return stats.cached(run, "nan_log_objective", lambda: _log_objective(run))


def _log_objective(run: Run) -> LogObjective | None:
    ctx = nan_context(run)
    if ctx is None or ctx.recovers or not ctx.loss_nan:
        return None
    series = [s for name, s in sorted(run.metrics.items()) if len(s) and not _HELD_OUT.match(name)]
    at_nan = [s for s in series if first_nonfinite(s) == ctx.step]
    kl = [s for s in at_nan if _KL_RE.search(s.name)]
    players = [s for s in series if _PLAYER_RE.search(s.name) and "loss" in s.name.lower()]
    if kl:
        kind, hit = "KL divergence", kl
    elif len(players) >= 2 and any(s in at_nan for s in players):
        kind, hit = "adversarial", [s for s in players if s in at_nan]
    else:
        return None
    what = ("a KL divergence, which reads the log of a variance or of a probability the model drives to 0"
            if kind == "KL divergence" else
            "a player's loss of an adversarial game, which reads log D and log(1 - D) of a discriminator that can "
            "saturate")
    ev = (f"{', '.join(s.name for s in hit[:3])} {'is' if len(hit) == 1 else 'are'} non-finite from step {ctx.step} "
          f"{cite_series(hit[0])}: {what}; unguarded (no epsilon, no clamp, not from logits) it is log 0 in any "
          f"precision, so the guard there is the first fix")
    return LogObjective(kind, [s.name for s in hit], ev)
