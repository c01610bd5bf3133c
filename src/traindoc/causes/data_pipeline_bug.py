"""`data_pipeline_bug`: the data fed is not the data intended."""

from traindoc.causes.model import Cause, Manual, PlanPolicy, Remedy, Strategy

CAUSE = Cause(
    id="data_pipeline_bug",
    group="Data and labels",
    what="the data fed is not the data intended",
    evidence="loss zero from the start; one class only; identical batches; loss periodic with the epoch; NaN in inputs",
    typical_fix="fix the loader, check a batch by eye",
    detectors=("detect_data_pipeline_bug", "detect_loss_exactly_zero", "detect_nan_from_start", "detect_chance_labels",
               "detect_huge_loss_before_nan", "detect_loss_unbounded_below",
               "detect_saturation_inputs",
               "detect_memorised_noise_labels", "detect_heldout_nonfinite", "detect_heldout_nan_first",
               "detect_nan_confined_terms",
               "detect_perfect_overlap", "detect_same_batch_every_step", "detect_label_prior_plateau",
               "detect_code_separate_permutations", "detect_heldout_accuracy_zero",
               "detect_no_ground_truth_boxes"),
    remedy=Remedy(
        "The data fed is not the data intended",
        "Fix the loader and check a batch by eye",
        "critical",
        "medium",
        "low",
        quick_wins=("Print and inspect one batch", "Shuffle the training set every epoch"),
    ),
    # the standard switches where the code shows them (a training DataLoader that does not shuffle, inputs and
    # labels permuted by separate draws: plan/fix_data.py); else the manual step, with the exact lines it found
    plan=PlanPolicy((Strategy("fix_data_pipeline"), Manual("inspect a batch by eye and fix the loader"))),
)
