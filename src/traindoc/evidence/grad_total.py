"""The run's total gradient norm: the logged one, or, where a run logs only per-parameter norms, their total.

Some loggers record a gradient norm per parameter and no total: PyTorch-Ignite's `GradsScalarHandler` (one
`grads_norm/<param>` scalar per parameter, `reduction=torch.norm`), TensorBoard scalars written per layer by hand,
Lightning's `grad_norm(module, 2)` when its total is dropped. The global L2 norm (what `clip_grad_norm_` computes and
most loops log as "grad_norm") is the square root of the sum of the per-parameter L2 norms squared, exactly, so the
rules that read a total norm (a running sum, a ramp from the start, a sawtooth, a cycle) can read it there too.
Only L2 families count (a max-norm or 1-norm per parameter does not add up to the L2 total), and only the steps at
which every parameter of the family was logged (a total over part of the network is not the total).
"""

from __future__ import annotations

import re

import numpy as np

from traindoc.evidence import stats
from traindoc.ingest.model import Run, Series
from traindoc.ingest.names import layer_grad_param

# the norm type a per-parameter prefix names ("grad_2.0_norm/", "grad_inf_norm/"); no number means the L2 norm
_NORM_TYPE = re.compile(r"grad_(?P<p>[0-9.]+|inf)_norm")
# the family's name up to the per-parameter part ("train/grad_2.0_norm/", Ignite's "generator/grads_norm/")
_PREFIX = re.compile(r"^(.*?(?:grad_(?:[0-9.]+|inf)_norm|grads?_norms?|gradient_norms?)/)")
MIN_PARAMS = 2  # one parameter's norm is not a network's total


def total_grad_norm(run: Run) -> Series | None:
    """The logged total grad norm (`grad_norm`), else the L2 total of the largest family of logged per-parameter
    L2 norms (memoised), else None."""
    g = run.series("grad_norm")
    if g is not None:
        return g
    return stats.cached(run, "total_grad_norm", lambda: _from_parameters(run))


def _l2(prefix: str) -> bool:
    m = _NORM_TYPE.search(prefix)
    return m is None or (m.group("p") != "inf" and float(m.group("p")) == 2.0)


def _from_parameters(run: Run) -> Series | None:
    families: dict[str, list[Series]] = {}
    for name, s in run.metrics.items():
        param = layer_grad_param(name)
        if param is None or not len(s):
            continue
        m = _PREFIX.match(name.strip())
        prefix = m.group(1) if m else ""
        if _l2(prefix):
            families.setdefault(prefix, []).append(s)
    if not families:
        return None
    prefix, members = max(families.items(), key=lambda kv: (len(kv[1]), kv[0]))
    if len(members) < MIN_PARAMS:
        return None
    common = set(members[0].steps.tolist())
    for s in members[1:]:
        common &= set(s.steps.tolist())
    if not common:
        return None
    steps = np.array(sorted(common), dtype=np.int64)
    sq = np.zeros(steps.size)
    with np.errstate(over="ignore", invalid="ignore"):  # a blown-up norm squares to inf: the total is inf, as logged
        for s in members:
            # the last value logged at each common step (a step logged twice keeps its last value, as a reader would)
            idx = np.searchsorted(s.steps, steps, side="right") - 1
            sq = sq + s.values[idx] ** 2
        total = np.sqrt(sq)
    return Series("grad_norm", steps, total, members[0].source,
                  raw_name=f"L2 total of {len(members)} per-parameter grad norms ({members[0].raw_name}, ...)")
