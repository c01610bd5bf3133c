"""A loss that compounds by one constant factor from its first logged point: gradient descent past its stable step.

Read by detectors in several modules (detect_lr_too_high, detect_grad_explosion, detect_steady_climb), so it lives
at the evidence level, computed once per run.
"""

from __future__ import annotations

import re

from traindoc.evidence import stats
from traindoc.evidence.code_files import file_texts
from traindoc.evidence.context import loss_series, mid_run
from traindoc.evidence.growth import Compounding, compounding_growth, constant_factor
from traindoc.ingest.model import Run

# A recurrent core named in the run's config or code: where the network recurs (or is deep), gradients can grow
# through it (Pascanu et al. 2013), so a compounding loss keeps its explosion reading whatever its shape.
_RECURRENT = re.compile(r"\b(?:nn\.)?(?:RNN|LSTM|GRU|SimpleRNN|RNNCell|LSTMCell|GRUCell)\b|\b(?:rnn|lstm|gru)\b",
                        re.IGNORECASE)


def _recurrent(run: Run) -> bool:
    """The run's config (keys or string values) or code names a recurrent layer."""
    for k, cv in run.config.items():
        if _RECURRENT.search(k) or (isinstance(cv.value, str) and _RECURRENT.search(cv.value)):
            return True
    return any(_RECURRENT.search(t) for t in file_texts(run).values())


def geometric_from_start(run: Run) -> Compounding | None:
    """A loss that compounds from its first logged point by one constant factor per evenly spaced point
    (evidence/growth.py, constant_factor), in a log with no grad norm and a model not known to recur: the
    divergence of gradient descent whose step is past 2/lambda_max (LeCun et al. 1998, "Efficient BackProp" §5:
    the error along the top curvature direction is multiplied by |1 - lr*lambda| > 1 at every update), which starts
    with the first update and needs no depth. Exploding gradients (Pascanu et al. 2013) are a depth/recurrence
    effect whose rate changes as the weights grow, and usually start after the run has learned; a grad norm, where
    one is logged, is read by detect_grad_explosion itself. None where any of that fails. Computed once per run
    (detect_lr_too_high and detect_grad_explosion both read it)."""
    def compute() -> Compounding | None:
        loss = loss_series(run)
        if loss is None or run.series("grad_norm") is not None or run.series("grad_2.0_norm_total") is not None:
            return None
        st, v = loss.finite()
        if v.size == 0 or v.size != len(loss.values) or mid_run(run, loss):
            return None
        lc = compounding_growth(st, v)
        if lc is None or lc.first_step != int(st[0]) or not constant_factor(st, v, lc) or _recurrent(run):
            return None
        return lc
    return stats.cached(run, "geometric_from_start", compute)
