"""`param_imbalance`: parameters sit mostly in embeddings, leaving the blocks little capacity."""

from traindoc.causes.model import Cause, PlanPolicy, Remedy, Strategy

CAUSE = Cause(
    id="param_imbalance",
    group="Architecture and model behaviour",
    what="parameters sit mostly in embeddings, leaving the blocks little capacity",
    evidence="embedding + unembedding share above ~50% (vocab x d_model vs 12 x d_model^2 x layers)",
    typical_fix="tie embeddings, smaller vocab, fewer d_model / more layers",
    tell_apart=(
        "A property of the architecture, visible from the parameter counts in the run's meta record or config "
        "(vocab x d_model against the blocks), whatever the loss did."
    ),
    detectors=("detect_param_imbalance",),
    remedy=Remedy(
        "Most parameters sit in the embeddings, leaving the blocks little capacity",
        "Tie the input/output embeddings, use a smaller vocabulary or move capacity into layers",
        "medium",
        "medium",
        "medium",
        quick_wins=("Tie input and output embeddings",),
    ),
    plan=PlanPolicy((Strategy("tie_and_balance"),), complete=(Strategy("tie_and_balance"),)),
)
