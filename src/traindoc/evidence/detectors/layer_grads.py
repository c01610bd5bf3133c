"""Vanishing gradients read from the per-layer gradient norms a run logs (docs/diagnose.md, "Runs that do not learn").

The global grad norm is dominated by the output-side layers, so a deep net whose first layers get nothing can show
a normal total (detect_vanishing_gradients reads only that). Back-propagation multiplies the error signal by each
layer's Jacobian on its way to the input: with saturating units (sigmoid' <= 1/4) and no normalisation it shrinks
geometrically with depth, so the input-side layers' gradient is orders of magnitude below the output side's
(Hochreiter 1991; Glorot & Bengio 2010, who measure the back-propagated gradients of deep sigmoid/tanh nets
shrinking layer by layer towards the input). A healthy net keeps its per-layer norms within one to two orders of
magnitude (ReLU with He init, normalised or residual stacks: ~10x in the gradient probe's measurements,
probe/gradient_flow.py; layer widths alone set the norms apart by sqrt(size), up to a few tens), so three orders of
magnitude, held over most of the run, is well outside healthy and is the textbook reading of vanishing gradients.
"""

from __future__ import annotations

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence.context import cite_series, config_bool, layer_grad_norms, progress
from traindoc.evidence.detectors.not_learning import frozen_share, never_learned
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run

# Input side / output side: the median norm of the first third of the layers over that of the last third (the
# probe's split), per logged step. < 1e-3: three orders of magnitude, one beyond the ~100x a healthy net's layers
# (sizes included) can differ by; 4^-5 ~ 1e-3 is what five sigmoid layers do at best.
RATIO = 1e-3
# "Sustained": at >= 75 % of the steps the family was logged, so a transient (the first steps of a fresh init, a
# step where the output layer's gradient spikes) neither makes nor breaks it; >= 5 such steps.
SUSTAINED = 0.75
MIN_POINTS = 5
# The loss "not learning well": it kept more than half of its starting value (progress < 0.5, evidence/context.py).
# With the first layers untrained the model is only as good as its last layers; a run that still halves its loss
# learns well enough that the ratio alone is listed (0.3), not asserted.
MAX_PROGRESS = 0.5


def detect_layer_grad_decay(run: Run) -> list[Finding]:
    """Input-side layers' grad norm < 1e-3 of the output side's at >= 75 % of the logged steps, with a loss that
    kept more than half its start (0.6; at chance or < 10 % progress 0.75). Exactly-zero input-side grads are
    frozen layers (frozen_params), not vanishing ones: silent."""
    lg = layer_grad_norms(run)
    if lg is None:
        return []
    n = len(lg.blocks)
    k = max(1, n // 3)
    inp = np.median(lg.values[:, :k], axis=1)
    out = np.median(lg.values[:, -k:], axis=1)
    ok = out > 0
    if int(ok.sum()) < MIN_POINTS:
        return []
    inp, out, steps = inp[ok], out[ok], lg.steps[ok]
    if float(np.median(inp)) == 0.0:
        return []  # no gradient at all reaches the first layers: frozen (or detached), not a decaying signal
    frozen, _ = config_bool(run, *KEYS["freeze"])
    if frozen or frozen_share(run) is not None:
        return []  # frozen parameters explain an input side without gradient
    ratio = inp / out
    low = (ratio < RATIO) & (inp > 0)
    if int(low.sum()) < MIN_POINTS or low.mean() < SUSTAINED:
        return []
    j = int(np.argmax(low))  # the first step it holds at
    med = float(np.median(ratio[low]))
    first, last = lg.blocks[:k], lg.blocks[-k:]
    row = lg.values[ok][j]
    profile = ", ".join(f"{b} {fmt(float(x))}" for b, x in zip(lg.blocks, row, strict=True))
    ev = [f"per-layer grad norms of {lg.stack or 'the model'}'s {n} layers at step {int(steps[j])}, input side "
          f"first: {profile} {cite_series(lg.series)}",
          f"the first {k} layers' grad norm ({first[0]}..{first[-1]}) is < {fmt(RATIO)} of the last {k} layers' "
          f"({last[0]}..{last[-1]}) at {int(low.sum())} of {low.size} logged steps ({low.mean():.0%}, median ratio "
          f"{fmt(med)}): the error signal vanishes on its way back to the input"]
    prog = progress(run, "loss")
    nl = never_learned(run)
    if nl is not None:
        ev += nl.evidence
        strength = 0.75
    elif prog is not None and prog < 0.1:
        ev.append(f"the loss decreased only {max(prog, 0):.1%} over the run")
        strength = 0.75
    elif prog is not None and prog < MAX_PROGRESS:
        ev.append(f"the loss decreased only {prog:.0%} over the run (kept more than half its start): the model "
                  f"learns through its last layers only")
        strength = 0.6
    else:
        strength = 0.3
    return [Finding("detect_layer_grad_decay", "vanishing_gradients", strength,
                    "the input-side layers' gradients are orders of magnitude below the output side's", ev,
                    int(steps[j]), {"ratio_median": med, "share_below": float(low.mean()), "layers": n,
                                    "loss_progress": prog})]


DETECTORS = [detect_layer_grad_decay]
