"""`data_pipeline_bug`: the data fed is not the data intended."""

from traindoc.causes.model import Cause, Manual, PlanPolicy, Remedy

CAUSE = Cause(
    id="data_pipeline_bug",
    group="Data and labels",
    what="the data fed is not the data intended",
    evidence="loss zero from the start; one class only; identical batches; loss periodic with the epoch; NaN in inputs",
    typical_fix="fix the loader, check a batch by eye",
    detectors=("detect_data_pipeline_bug", "detect_nan_from_start", "detect_chance_labels",
               "detect_memorised_noise_labels"),
    remedy=Remedy(
        "The data fed is not the data intended",
        "Fix the loader and check a batch by eye",
        "critical",
        "medium",
        "low",
        quick_wins=("Print and inspect one batch", "Shuffle the training set every epoch"),
    ),
    plan=PlanPolicy((Manual("inspect a batch by eye and fix the loader"),)),
)
