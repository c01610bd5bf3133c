"""torch's "var()/std(): degrees of freedom is <= 0" warning, and what it was raised on.

The warning says one thing only: a variance (or std) was taken over one element (a size-1 dim, a batch or group of
one), which returns NaN (unbiased estimator, n - 1 = 0). Two causes produce it in the corpus and the literature:
- an ACT halting head whose per-token halting variance is taken over a size-1 dim (act_variance_collapse, which
  logs halting metrics: act_halt_var, act_steps_mean);
- any other statistic over a one-element group, e.g. GRPO's per-group reward std with one generation per prompt
  (the std that normalises the advantages: NaN advantages, NaN gradients; axolotl-ai-cloud/axolotl#3353 review,
  lzhxmu/CPPO#3), i.e. an unguarded op (nan_inf).
What tells them apart is the run itself: halting metrics in the logs, or the source line Python echoes under the
warning (LogEvent.detail) naming a halting computation, make it ACT; a source line that names something else makes
it the NaN's op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traindoc.ingest.model import LogEvent, Run

DOF = re.compile(r"degrees of freedom is <= ?0", re.I)
# what an ACT halting computation is called (ACT, PonderNet, Universal Transformers): halt / ponder / act_* names
_ACT_WORDS = re.compile(r"halt|ponder|\bact_|_act\b|\bact\b", re.I)
ACT_SERIES = ("act_halt_var", "act_steps_mean")


@dataclass(frozen=True)
class DofReading:
    warnings: list[LogEvent]
    act_context: bool  # halting metrics are logged, or the warning's source line names a halting computation
    source_line: str | None  # the echoed source line of the first warning that has one

    @property
    def elsewhere(self) -> bool:
        """The warning's own source line names a computation that is not a halting variance."""
        return not self.act_context and self.source_line is not None


def dof_reading(run: Run) -> DofReading | None:
    warns = [e for e in run.events if e.tag in ("var_dof", "cov_dof") or DOF.search(e.message or "")]
    if not warns:
        return None
    source = next((e.detail for e in warns if e.detail), None)
    act = any(run.series(n) is not None for n in ACT_SERIES) or any(
        _ACT_WORDS.search(f"{e.message} {e.detail}".replace("degrees of freedom", "")) for e in warns)
    return DofReading(warns, act, source)
