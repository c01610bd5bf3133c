"""`label_leakage`: the target is visible to the model (shift bug, non-causal attention, answer in the input)."""

from traindoc.causes.model import Cause, FixCode, PlanPolicy, Remedy

CAUSE = Cause(
    id="label_leakage",
    group="Data and labels",
    what="the target is visible to the model (shift bug, non-causal attention, answer in the input)",
    evidence=(
        "train loss falls to ~0 implausibly fast or far below what held-out data reaches; changing future "
        "tokens changes earlier predictions"
    ),
    typical_fix="fix the shift or the causal mask",
    tell_apart=(
        "Train loss far below anything the held-out set reaches, very early; check the causal mask "
        "(`is_causal`) and the target shift before blaming overfitting."
    ),
    detectors=("detect_label_leakage", "detect_train_below_heldout_first_epoch", "detect_heldout_never_improves",
               "detect_code_noncausal_attention", "detect_code_label_in_features",
               "detect_code_fit_before_split"),
    locators=("locate_noncausal_attention",),
    templates=("causal_mask", "causal_mask_manual"),
    remedy=Remedy(
        "The targets are visible to the model (non-causal attention or a shift bug)",
        "Restore the causal mask / the one-token label shift",
        "critical",
        "low",
        "low",
        quick_wins=("Check that changing a future token does not change earlier predictions",),
    ),
    plan=PlanPolicy((FixCode(),), fix_all_sites=True),
)
