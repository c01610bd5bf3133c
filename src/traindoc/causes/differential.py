"""The differential: for each symptom a log can establish, the causes that commonly produce it, most common first.

This is the one place the symptom -> candidate-causes table lives (docs/diagnose.md, "The differential", gives the
reasoning for every row). A symptom says *that* something is wrong, rarely *which* cause: an engineer reading
"the loss went NaN" answers with a short list (lower the LR? fp16? a log of 0? bad inputs? exploding gradients?),
and each cause module's `tell_apart` says what separates it from the others on its row. The diagnosis
(traindoc.diagnosis.differential) lists the candidates a run's detectors did not already weigh, below every cause
with evidence of its own (unless the log shows their telling evidence) and never at the report threshold; what it
needs to see for each candidate to rank it up, down or cross it off is named here too (`telling`), and decided there.

Plain data: this package imports no stage.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    cause: str
    # what would show this cause in a log when it is at work; where the log could show it and does not, the
    # candidate ranks below those the log cannot see (docs/diagnose.md, "The differential")
    telling: str


@dataclass(frozen=True)
class Symptom:
    id: str
    what: str  # the symptom, as the evidence line names it
    candidates: tuple[Candidate, ...]  # most common first: the order an engineer checks them in


SYMPTOMS: tuple[Symptom, ...] = (
    Symptom("nonfinite", "the loss went non-finite (NaN/Inf)", (
        Candidate("lr_too_high", "a climbing loss or a rising LR before the NaN; an LR above its range"),
        Candidate("fp16_overflow", "float16 training (stated, or shown by the numbers); loss-scaler messages"),
        Candidate("nan_inf", "an unguarded log/div/sqrt in code; an anomaly trace naming the op"),
        Candidate("data_pipeline_bug", "NaN/Inf or out-of-range values in the inputs or targets"),
        # a loss that climbs into the NaN ranks these three and lr_too_high up alike: without a grad norm the log
        # cannot tell steps grown by the LR, the network, stale gradients or undivided micro-batches apart
        Candidate("grad_explosion", "a logged grad norm growing by orders of magnitude before the NaN; a loss "
                                    "that climbs into it"),
        Candidate("zero_grad_missing", "a logged grad norm that keeps growing (gradients summed across steps); a "
                                       "loss that climbs into the NaN"),
        Candidate("grad_accum_bug", "an effective step N times too large (accumulation not divided): a loss that "
                                    "climbs into the NaN"),
    )),
    Symptom("diverged", "the loss fell and then rose", (
        Candidate("lr_too_high", "an LR above its optimiser's range"),
        Candidate("grad_explosion", "a logged grad norm growing by orders of magnitude"),
        Candidate("zero_grad_missing", "a logged grad norm that keeps growing (gradients summed across steps)"),
        Candidate("grad_accum_bug", "an effective step N times too large (accumulation not divided)"),
        Candidate("scheduler_misuse", "a logged LR that rises or jumps where it should decay"),
        Candidate("fp16_overflow", "float16 training; loss-scaler messages"),
    )),
    Symptom("flat", "the loss does not fall", (
        Candidate("lr_too_high", "an LR above its range: a loss stuck at chance after the first updates saturated"),
        Candidate("data_pipeline_bug", "targets detached from inputs (labels shuffled, one class, masked)"),
        Candidate("dead_units", "ReLUs with a dead fraction; a grad norm that collapses"),
        Candidate("lr_too_low", "an LR below its optimiser's range"),
        Candidate("frozen_params", "a small trainable share; a grad norm of 0; a held-out loss that repeats exactly"),
        Candidate("vanishing_gradients", "a deep saturating net; grad norms near 0 from the start"),
        Candidate("scheduler_misuse", "a logged LR at or near 0 while training runs; a held-out loss that repeats "
                                      "exactly"),
    )),
    Symptom("heldout_rises", "the held-out loss rose from its best", (
        Candidate("overfitting", "a training loss that keeps falling while the held-out loss rises"),
        Candidate("lr_too_high", "an unstable training loss; an LR above its range"),
        Candidate("label_leakage", "a training loss far below the held-out one from early on"),
        Candidate("grad_explosion", "a logged grad norm growing by orders of magnitude"),
        Candidate("zero_grad_missing", "a logged grad norm that keeps growing (gradients summed across steps)"),
        Candidate("grad_accum_bug", "an effective step N times too large (accumulation not divided)"),
        Candidate("data_pipeline_bug", "held-out data prepared differently from training data"),
    )),
    Symptom("gap", "the held-out loss ends far above the training loss", (
        Candidate("overfitting", "a held-out loss that turned up while the training loss kept falling"),
        Candidate("label_leakage", "a training loss near 0 early: a shortcut only the training batches carry"),
        Candidate("data_pipeline_bug", "held-out data prepared differently (normalisation, labels, split)"),
    )),
    Symptom("unstable", "the loss jumps up and comes back", (
        Candidate("lr_too_high", "an LR above its optimiser's range: steps that overshoot the minimum"),
        Candidate("data_pipeline_bug", "batches from different distributions (unshuffled, sorted, corrupt)"),
        Candidate("grad_explosion", "a logged grad norm spiking by orders of magnitude with the loss"),
        Candidate("zero_grad_missing", "a logged grad norm that keeps growing (gradients summed across steps)"),
        Candidate("grad_accum_bug", "an effective step N times too large (accumulation not divided)"),
        Candidate("fp16_overflow", "float16 training; loss-scaler messages at the jump"),
    )),
    Symptom("too_good_early", "the run is near-perfect from the start", (
        Candidate("label_leakage", "the target readable from the inputs: train near 0, held-out far above"),
        Candidate("overfitting", "a held-out loss that rises while the training loss falls"),
        Candidate("data_pipeline_bug", "a trivial target (one class, targets read from the inputs)"),
    )),
    Symptom("memorised", "the training loss fell to near 0 and no held-out loss is logged", (
        Candidate("overfitting", "a held-out loss that rises while the training loss falls (none is logged)"),
        Candidate("label_leakage", "the target readable from the inputs: a held-out loss far above (none logged)"),
        Candidate("data_pipeline_bug", "a trivial target (one class, targets read from the inputs)"),
    )),
)

BY_ID: dict[str, Symptom] = {s.id: s for s in SYMPTOMS}
