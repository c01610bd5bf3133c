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
from traindoc.evidence.context import LayerGrads, cite_series, config_bool, layer_grad_norms, progress
from traindoc.evidence.detectors.not_learning import MAX_DROP, frozen_share, never_learned
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run
from traindoc.ingest.names import layer_grad_param

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



# ------------------------------------------------------------------------------------------ layers with no gradient

# A parameter with requires_grad=False (or left out of the graph) gets no gradient at all: a logger that writes its
# norm writes exactly 0.0 at every step, never a small number. Back-propagation through a live network gives every
# weight a non-zero gradient at every step (a float32 sum of products of non-zero terms is exactly zero only by
# accident), and a vanishing one shrinks geometrically but stays non-zero (detect_layer_grad_decay). So whole layers
# at exactly 0 at every logged step, beside layers that do get gradient, are layers that do not train.
# One other mechanism gives the same zeros: a layer whose ReLUs are all dead outputs 0 for every input, so it and
# the layers feeding it get no gradient, and so does the layer it feeds (its input is 0). Its output is then the
# same for every input: the loss sits at chance (or, for a regression, at the target's variance, where it started).
# A loss that falls by more than not_learning.py's MAX_DROP (5 %, the most a run at chance relaxes from a skewed
# start) has an output that depends on its input, which a dead layer cannot give: the zeros are a freeze. While it
# has not, the zeros are listed (NO_GRADIENT_AT_CHANCE), dead units beside. A loss that still learns well (progress
# >= FLAT) is a head trained on a frozen backbone, a design (the same 0.25 detect_frozen_params gives the printed
# counts of such a run).
# A 0 is a real zero only in a log written at full precision: a text log printing 4 decimals writes a vanishing
# 3e-5 as 0.0000. Some logged per-layer value must carry digits beyond the 6th decimal (a float32 dumped to JSON or
# CSV always does; a printed "%.4f" or "%.6f" never does).
PRECISION_DECIMALS = 6
FLAT = 0.15  # code_lint.FLAT_PROGRESS, detect_frozen_params' "< 15 %": a loss that barely falls
NO_GRADIENT_FLAT = 0.55
NO_GRADIENT_AT_CHANCE = 0.45
NO_GRADIENT_LEARNS = 0.25


def detect_layers_without_gradient(run: Run) -> list[Finding]:
    """Whole layers whose logged grad norm is exactly 0 at every logged step while other layers' is not: those
    layers do not train (frozen_params). 0.55 when the loss falls but by < 15 % (the output follows its input, which
    rules out a dead layer) or when it has not moved and those layers' biases are exactly 0 too (a dead layer would
    leave the next layer's bias a gradient); 0.45 while it has not moved otherwise; silent at a
    confirmed chance level, where not_learning's look-alike listing reads the zeros; 0.25 when the loss learns (a
    frozen backbone by design)."""
    z = layers_without_gradient(run)
    if z is None:
        return []
    lg, frozen, trained = z
    n = lg.values.shape[0]
    ev = [f"{len(frozen)} of {len(lg.blocks)} layers of {lg.stack or 'the model'} ({_span(frozen)}) have a grad "
          f"norm of exactly 0 at all {n} logged steps ({int(lg.steps[0])}..{int(lg.steps[-1])}) while "
          f"{_span(trained)} get gradient {cite_series(lg.series)}: no gradient reaches them, so they never change"]
    prog = progress(run, "loss")
    nl = never_learned(run)
    if nl is not None:
        return []  # at chance: not_learning.ruled_out crosses off what these zeros exclude and lists the rest
    if (prog is None or prog < MAX_DROP) and biases_zero_too(run, frozen):
        ev.append("the loss has not moved, and those layers' biases get exactly 0 too: a layer of dead ReLUs would "
                  "leave the bias of the first layer it feeds a gradient (its input is 0, its error signal is not), so "
                  "these are whole modules taken out of training")
        strength = NO_GRADIENT_FLAT
    elif prog is None or prog < MAX_DROP:
        ev.append("the output does not follow its input: a layer of dead ReLUs (output 0 for every input) zeroes "
                  "the gradient of the layers up to the one it feeds the same way, so dead units are the other "
                  "reading")
        strength = NO_GRADIENT_AT_CHANCE
    elif prog < FLAT:
        ev.append(f"the loss fell only {prog:.1%} over the run: the output follows its input (a dead layer would "
                  "make it constant), and the layers left to train learn little")
        strength = NO_GRADIENT_FLAT
    else:
        ev.append(f"the loss fell {prog:.0%}: the layers that train learn, as a head fine-tuned on a frozen "
                  "backbone does by design")
        strength = NO_GRADIENT_LEARNS
    return [Finding("detect_layers_without_gradient", "frozen_params", strength,
                    "whole layers get no gradient at any logged step", ev, int(lg.steps[0]),
                    {"zero_layers": len(frozen), "layers": len(lg.blocks), "loss_progress": prog})]


def layers_without_gradient(run: Run) -> tuple[LayerGrads, list[str], list[str]] | None:
    """(per-layer norms, layers at exactly 0 at every logged step, layers with gradient) when both exist in a log
    written at full precision; None otherwise."""
    lg = layer_grad_norms(run)
    if lg is None or lg.values.shape[0] < MIN_POINTS:
        return None
    zero = np.all(lg.values == 0.0, axis=0)
    live = np.median(lg.values, axis=0) > 0
    if not zero.any() or not live.any():
        return None  # no gradient anywhere is the global rule's (detect_frozen_params: grad norm ~0)
    if not _full_precision(run):
        return None  # rounded values: a printed 0 may be a vanishing gradient (detect_layer_grad_decay's reading)
    frozen = [b for b, z in zip(lg.blocks, zero, strict=True) if z]
    trained = [b for b, ok in zip(lg.blocks, live, strict=True) if ok]
    return lg, frozen, trained


def biases_zero_too(run: Run, blocks: list[str]) -> bool:
    """Every one of `blocks` logs a bias whose grad norm is exactly 0 at every logged step, as its weights' is."""
    biases: dict[str, list[np.ndarray]] = {}
    for name, s in run.metrics.items():
        param = layer_grad_param(name)
        if param is None or not param.endswith("bias"):
            continue
        for b in blocks:
            if param.startswith(b + "."):
                biases.setdefault(b, []).append(s.finite()[1])
    return all(b in biases and all(v.size and np.all(v == 0.0) for v in biases[b]) for b in blocks)


def _full_precision(run: Run) -> bool:
    for name, s in run.metrics.items():
        if layer_grad_param(name) is None:
            continue
        _, v = s.finite()
        if np.any(v != np.round(v, PRECISION_DECIMALS)):
            return True
    return False


def _span(blocks: list[str]) -> str:
    return blocks[0] if len(blocks) == 1 else f"{blocks[0]}..{blocks[-1]}"


DETECTORS = [detect_layer_grad_decay, detect_layers_without_gradient]
