"""Dead units as the damage of something else: listed below the cause that killed them (docs/diagnose.md, "Dead
units that died during the run").

Units die two ways. Some are dead from the first step: a large negative bias, an init that puts every
pre-activation below zero, a ReLU after a constant input; then dead_units is the cause and its fix is the init or
the activation. Others are alive at first and are killed later by an oversized update: "a large gradient flowing
through a ReLU neuron could cause the weights to update in such a way that the neuron will never activate on any
datapoint again ... as much as 40% of your network can be dead if the learning rate is set too high" (CS231n,
"Commonly used activation functions"; He et al. 2015 start ReLU nets with zero biases and a variance-keeping init
precisely so that they are alive at step 0). Then dead_units is a consequence: the fix is what made the step too
large (an LR far above its optimiser's range, gradients summed over micro-batches and stepped on each, gradients
never cleared, a blow-up), and an engineer names that and lists the dead units below it.

So a dead_units finding is demoted (capped at KILLED_LATER, below the origin) only when both hold:
- the log shows the units alive before they died (a death step): the grad norm collapsing >= 1000x from its early
  level (detect_dead_units), a loss that moved and then froze to every digit (detect_loss_froze_after_moving), or a
  grad norm that started >= 1.5x above the bias-only level of a constant output and ended inside it (`died_later`),
  or a saturated output whose loss and accuracy moved before they froze (detect_saturated_output after the first
  logged point);
- the log shows what killed them: an LR above its optimiser's reference (detect_lr_too_high's ratio > 1.25, the
  registry's "lr_above" test), an accumulation or zero_grad reading of its own (>= 0.4, the level those detectors
  list at), a gradient explosion finding (>= 0.4), a grad-norm spike >= 10x its early level or a loss that climbed to
  >= 3x its first value before the death step.
Evidence of units dead from the start (detect_dead_init: a negative bias init with a loss that never left chance)
keeps dead_units the cause and nothing is demoted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence.context import cite_series, config_number, loss_series
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run

# Findings that say the units were alive before they died, with the step they died at (Finding.step).
_DIED_AT = ("detect_dead_units", "detect_loss_froze_after_moving")
# A saturated output frozen with its loss and accuracy (detect_saturated_output) has a death step only when the
# frozen stretch starts after the first logged point: the loss and accuracy moved before they froze.
_FROZE_LATER = ("detect_saturated_output",)
# Findings of dead units that carry no death step; demoted only when the grad norm shows them alive first.
_AT_CHANCE = ("detect_loss_at_chance",)
# Dead from the first step: dead_units is the cause (a negative bias init with a loss that never left chance, 0.7).
_DEAD_FROM_START = ("detect_dead_init",)
# The same test the cause registry's "lr_above" rules use (diagnosis/ranking.py): the configured LR is more than
# 25 % over the top of its optimiser's reference range.
LR_ABOVE = 1.25
# Accumulation, zero_grad and explosion readings are listed at 0.4 by their detectors when the log cannot name one
# of them alone (detect_learned_then_lost, the accumulation blow-up listing); from there they are readings of their
# own, not noise.
ORIGIN_MIN = 0.4
# A grad-norm spike: >= 10x the median of its first tenth of points. Minibatch noise leaves the max of a healthy or
# dead-from-the-start run within ~2.2x of that median (the dev corpora's runs at chance: 1.4-2.2x), while an
# oversized update multiplies it by an order of magnitude (the accumulation and zero_grad runs: 16-260x).
SPIKE = 10.0
# A loss that climbs to >= 3x its first logged value before the units die: the first updates overshot (the test
# detect_lr_too_high uses for "the first updates overshoot": a loss that starts high and falls is initialisation,
# one that rises is the step size). Units dead from the first step leave the loss where the init put it.
OVERSHOOT = 3.0
# Dead units that are another cause's damage: the level detect_learned_then_lost already lists them at
# (not_learning.KILLED_LATER), and never above three quarters of the origin's own strength, so they rank below it.
KILLED_LATER = 0.3
BELOW_ORIGIN = 0.75
# `died_later`: the grad norm's first tenth (>= 3 points) at >= 1.5x the bias-only level (weights got gradient
# through live units; not_learning.WEIGHTS_GET_GRADIENT) and its last tenth inside the bias-only band (<= 1.3x,
# not_learning.BIAS_ONLY_BAND), having fallen >= 2x: the dev runs dead from the start have their first tenth at
# 0.76-1.23x the level and fall at most 1.5x (batch noise), so the 2x fall is beyond what noise gives.
FELL = 2.0


# Dead-unit readings that rest on a constant output alone (a loss pinned at chance, a saturated output, a loss frozen
# to every digit): the mechanism shows, not what put the units there.
_CONSTANT = ("detect_loss_at_chance", "detect_saturated_output", "detect_loss_froze_after_moving")
# The saturated output's other listed origins (epoch_curves): a step too large, inputs off their scale.
_SATURATION_ORIGINS = ("detect_saturation_blowup", "detect_saturation_inputs")


@dataclass
class Origin:
    cause: str
    strength: float
    evidence: str


def died_later(run: Run) -> tuple[int, str] | None:
    """A run at chance whose grad norm started with the weights getting gradient through live units and ended at the
    bias-only level of a constant output: the step it fell to that level and the evidence, else None."""
    from traindoc.evidence.detectors.not_learning import BIAS_ONLY_BAND, WEIGHTS_GET_GRADIENT, grad_level

    gl = grad_level(run)
    if gl is None:
        return None
    st, v = gl.series.finite()
    if v.size < 10:
        return None
    k = max(3, v.size // 10)
    early, late = float(np.median(v[:k])), float(np.median(v[-k:]))
    if not (early >= WEIGHTS_GET_GRADIENT * gl.level and late <= BIAS_ONLY_BAND[1] * gl.level and early >= FELL * late):
        return None
    idx = np.nonzero(v <= BIAS_ONLY_BAND[1] * gl.level)[0]
    step = int(st[idx[0]]) if idx.size else int(st[-k])
    return step, (f"grad_norm started at {fmt(early)} ({early / gl.level:.2g}x the {fmt(gl.level)} an output bias "
                  f"alone gets at chance: the weights got gradient through live units) and ended at {fmt(late)} "
                  f"({late / gl.level:.2g}x), from step {step}: the units were alive at first and died during the run")


def _spike_before(run: Run, step: int) -> str | None:
    g = run.series("grad_norm")
    if g is None:
        return None
    st, v = g.finite()
    if v.size < 10:
        return None
    k = max(3, v.size // 10)
    base = float(np.median(v[:k]))
    before = v[st <= step]
    if base <= 0 or before.size == 0:
        return None
    j = int(np.argmax(before))
    if float(before[j]) < SPIKE * base:
        return None
    return (f"grad_norm spiked to {fmt(float(before[j]))} at step {int(st[j])}, {float(before[j]) / base:.3g}x its "
            f"early {fmt(base)}, before the units died")


def _loss_rose_before(run: Run, step: int) -> str | None:
    loss = loss_series(run)
    if loss is None:
        return None
    st, v = loss.finite()
    before = v[st <= step]
    if before.size < 2 or before[0] <= 0:
        return None
    j = int(np.argmax(before))
    if j == 0 or float(before[j]) < OVERSHOOT * float(before[0]):
        return None
    return (f"the loss rose from {fmt(float(before[0]))} to {fmt(float(before[j]))} by step {int(st[j])}, "
            f"{float(before[j]) / float(before[0]):.3g}x its first value, before the units died "
            f"{cite_series(loss)}")


def origin(run: Run, findings: list[Finding], step: int | None) -> Origin | None:
    """What killed units that were alive before `step`, from the other findings and the grad norm, else None."""
    got: list[Origin] = []
    for f in findings:
        if f.cause == "lr_too_high" and float(f.numbers.get("lr_over_reference_high") or 0) > LR_ABOVE:
            got.append(Origin("lr_too_high", f.strength,
                              f"the LR is {float(f.numbers['lr_over_reference_high']):.3g}x the top of its "
                              "optimiser's reference range"))
        elif f.cause in ("grad_accum_bug", "zero_grad_missing", "grad_explosion") and f.strength >= ORIGIN_MIN:
            got.append(Origin(f.cause, f.strength, f"{f.summary} ({f.detector})"))
    if step is not None:
        spike = _spike_before(run, step)
        if spike is not None:
            best = max((o.strength for o in got), default=0.0)
            got.append(Origin("grad_explosion" if not got else max(got, key=lambda o: o.strength).cause,
                              max(best, ORIGIN_MIN), spike))
    if step is not None:
        rose = _loss_rose_before(run, step)
        if rose is not None:
            k, _ = config_number(run, *KEYS["grad_accum"])
            # the log cannot tell an LR too large from k summed micro-batch gradients stepped each time: with k >= 2
            # configured the accumulation is named (the user reads the loop), else the LR, the common reading
            named = "grad_accum_bug" if k is not None and k >= 2 else "lr_too_high"
            best = max((o.strength for o in got), default=0.0)
            got.append(Origin(max(got, key=lambda o: o.strength).cause if got else named, max(best, ORIGIN_MIN), rose))
    if not got:
        return None
    top = max(got, key=lambda o: o.strength)
    return Origin(top.cause, top.strength, "; ".join(dict.fromkeys(o.evidence for o in got)))


def demote(run: Run, findings: list[Finding]) -> list[Finding]:
    """The findings with dead_units capped below its origin where the log shows units alive first and what killed
    them (module notes); unchanged otherwise."""
    if any(f.detector in _DEAD_FROM_START and f.strength >= 0.5 for f in findings):
        return findings
    dead = [f for f in findings if f.cause == "dead_units"]
    if not dead:
        return findings
    loss = loss_series(run)
    start = int(loss.finite()[0][0]) if loss is not None and loss.finite()[0].size else None
    died = [f for f in dead if f.step is not None and (f.detector in _DIED_AT or (
        f.detector in _FROZE_LATER and start is not None and f.step > start))]
    steps = [f.step for f in died if f.step is not None]
    later = died_later(run) if any(f.detector in _AT_CHANCE for f in dead) else None
    if not steps and later is None:
        # no death step, but the output is constant and the stated LR far above its range: an LR that high kills
        # units within the first updates, before the first logged point (the dead units are its mechanism)
        # only where the LR reading stands on its own (>= 0.5: the optimiser known, its range exceeded); an LR above
        # the range of an optimiser the log does not name is a candidate, not what killed the units
        org = origin(run, findings, None)
        which = [f for f in dead if f.detector in _CONSTANT]
        lr_named = any(f.cause == "lr_too_high" and f.strength >= 0.5
                       and float(f.numbers.get("lr_over_reference_high") or 0) > LR_ABOVE for f in findings)
        if org is None or org.cause != "lr_too_high" or not which or not lr_named:
            return tie(run, findings)
        alive = "the output is constant from the first logged point"
    else:
        step = min(steps) if steps else later[0] if later else None
        org = origin(run, findings, step)
        if org is None:
            return tie(run, findings)
        which = [*died, *(f for f in dead if later is not None and f.detector in _AT_CHANCE)]
        alive = (later[1] if later is not None else f"the units were alive until step {step}")
    cap = min(KILLED_LATER, BELOW_ORIGIN * org.strength)
    # the demoted pieces together stay at the cap (the noisy-or of n findings at 1 - (1 - cap)^(1/n) is the cap)
    each = cap if len(which) == 1 else 1 - (1 - cap) ** (1 / len(which))
    note = (f"{alive}; what killed them is in the log ({org.evidence}): dead units made by an oversized update are "
            f"its damage, so {org.cause} is the cause to fix and dead_units is listed below it")
    ids = {id(f) for f in which}
    out = []
    for f in findings:
        if id(f) in ids and f.strength > each:
            f = replace(f, strength=each, evidence=[*f.evidence, note],
                        numbers={**f.numbers, "killed_by": org.cause})
        out.append(f)
    return out


def tie(run: Run, findings: list[Finding]) -> list[Finding]:
    """A constant output with nothing in the log to say what made it (not_learning.constant_output_unexplained: no LR
    stated, no look-alike's trace): the dead-unit readings resting on it alone are brought down to the tie level
    (not_learning.CONSTANT_TIE) as look-alike listings, and the saturated output's LR and data listings raised to
    just under it (CONSTANT_TIE_ORIGIN), so the report lists dead units, an LR too high and detached labels together
    below 0.5 instead of naming one. A dead-unit trace of its own (a logged dead fraction, a grad-norm collapse) keeps
    its strength."""
    from traindoc.evidence.detectors.not_learning import (
        CONSTANT_TIE,
        CONSTANT_TIE_ORIGIN,
        constant_output_unexplained,
    )

    got = constant_output_unexplained(run)
    dead = [f for f in findings if f.cause == "dead_units"]
    if got is None or not dead or any(f.detector not in _CONSTANT and f.strength > CONSTANT_TIE for f in dead):
        return findings
    which = [f for f in dead if f.detector in _CONSTANT]
    each = 1 - (1 - CONSTANT_TIE) ** (1 / max(len(which), 1))
    note = ("the output no longer depends on the input, the mechanism of dead or saturated units; no LR is stated and "
            "nothing in the log shows what put the units there (an LR too high kills them within the first updates, "
            "labels detached from their inputs give the same constant output): listed beside those, not named alone")
    ids = {id(f) for f in which}
    out = []
    for f in findings:
        if id(f) in ids:
            f = replace(f, strength=min(f.strength, each), evidence=[*f.evidence, note],
                        numbers={**f.numbers, "listing": True, "ambiguous": True})
        elif f.detector in _SATURATION_ORIGINS:
            f = replace(f, strength=max(f.strength, CONSTANT_TIE_ORIGIN), numbers={**f.numbers, "listing": True,
                                                                             "ambiguous": True})
        out.append(f)
    return out
