"""Label leak in the batch: one input feature alone determines the label.

For a (examples, features) float input and integer labels, sort the batch by each feature: if the labels then
form exactly one contiguous run per class, that single raw feature separates every class of the batch (a
decision stump per class boundary fits it perfectly). With >= 8 examples per class, a real feature rarely does;
a label copied into the features (an id, a target-derived column, the label itself with noise) always does.
Sequence models are covered by the causality probe (their leak is reading future tokens).
"""

from __future__ import annotations

import torch

from traindoc.evidence.finding import Finding
from traindoc.probe.inputs import ModelCall

MIN_PER_CLASS = 8


def probe_feature_leak(call: ModelCall) -> tuple[list[Finding], bool]:
    """(findings, whether the check could run on this batch)."""
    x, y = call.inputs(), call.targets()
    if x is None or y is None or x.dim() != 2 or not x.is_floating_point() or y.dim() != 1 or y.is_floating_point():
        return [], False
    if y.shape[0] != x.shape[0]:
        return [], False
    classes = torch.unique(y)
    if classes.numel() < 2 or x.shape[0] < MIN_PER_CLASS * classes.numel():
        return [], False
    leaks = []
    for j in range(x.shape[1]):
        order = torch.argsort(x[:, j].float(), stable=True)
        runs = int((y[order][1:] != y[order][:-1]).sum()) + 1
        if runs == classes.numel():
            leaks.append(j)
    if not leaks:
        return [], True
    return [Finding("probe_feature_leak", "label_leakage", 0.7,
                    f"input feature(s) {leaks[:5]} alone separate every class of the batch: the label is in the input",
                    [f"sorted by feature {j}, the {x.shape[0]} labels form exactly {classes.numel()} contiguous runs, "
                     f"one per class" for j in leaks[:3]], None, {"leaking_features": leaks[:20]}, [])], True
