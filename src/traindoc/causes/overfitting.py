"""`overfitting`: the model memorises the training set."""

from traindoc.causes.model import Cause, ExplainedBy, PlanPolicy, Remedy, SetKey, Strategy
from traindoc.causes.outcomes import EVAL_LOSS_NEAR_MIN

CAUSE = Cause(
    id="overfitting",
    group="Data and labels",
    what="the model memorises the training set",
    evidence="train loss keeps falling while validation loss turns up; growing gap",
    typical_fix="more data/regularisation, early stopping at the best validation step",
    tell_apart=(
        "Validation loss turns up while train loss keeps falling, after a healthy start; leakage instead "
        "shows an implausibly low train loss from early on."
    ),
    detectors=("detect_overfitting", "detect_heldout_metric_degrades", "detect_accuracy_gap",
               "detect_endpoint_loss_gap"),
    remedy=Remedy(
        "The model memorises the training set: validation loss turns up",
        "Stop at the best validation step (early stopping) and add data or regularisation",
        "medium",
        "low",
        "low",
        quick_wins=("Enable early stopping on validation loss", "Keep the best-validation checkpoint"),
        default_changes=(
            {"target": "config", "key": "early_stopping_patience", "after": "3", "description": "stop early"},
        ),
    ),
    explained_by=(
        ExplainedBy("label_leakage", 0.5),
        ExplainedBy("lr_too_high", 0.6),
        ExplainedBy("data_pipeline_bug", 0.5),
        # gradients never cleared are summed over the pass, so every step is larger than the one before (the
        # effective LR grows through the epoch): a held-out loss that turns up is the overshoot that growing step
        # gives, the lr_too_high reading above, here with the mechanism shown (the loop's code or a summed grad norm).
        # 0.5, as for the other causes whose specific evidence explains a held-out rise
        ExplainedBy("zero_grad_missing", 0.5),
    ),
    outcomes=(EVAL_LOSS_NEAR_MIN,),
    plan=PlanPolicy(
        (
            SetKey(
                "early_stopping_patience",
                "patience_or_2",
                "stop after 2 evaluations without improvement and keep the best checkpoint",
                computed=True,
            ),
            Strategy("raise_train_cap"),
        ),
        mode="all",
        complete=(Strategy("raise_train_cap"),),
    ),
)
