"""Names for the evaluation lines of gradient-boosted-tree libraries (XGBoost, LightGBM), shared by their readers.

Both print, per boosting round, each watched data set's metric(s) under the set's name. The metric a booster reports
by default is its objective's loss (`rmse` / `l2` for regression, `logloss` / `binary_logloss` / `mlogloss` /
`multi_logloss` for classification; LightGBM's and XGBoost's parameter docs list these defaults), and it is what the
rounds descend: the first such loss-type metric of the training set is read as `loss`, of a validation set as
`val_loss` (traindoc's `eval_loss`). Every other metric keeps its own name (`auc`, `error`, `ndcg@5` ...), with the
`val_` prefix on a validation set, so the held-out rules read its direction from the name.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import parse_number

# loss-type metric names of XGBoost ("Learning Task Parameters": eval_metric) and LightGBM ("Metric Parameters")
_LOSS_METRICS = re.compile(
    r"^(?:rmse|rmsle|mse|mae|mape|l1|l2|l2_root|regression(?:_l[12])?|mean_(?:squared|absolute)_error|huber|fair|"
    r"poisson|gamma|gamma_deviance|tweedie|quantile|logloss|binary_logloss|binary|mlogloss|multi_logloss|"
    r"multiclass|softmax|cross_entropy|xentropy|cross_entropy_lambda|xentlambda|kullback_leibler|kldiv|"
    r"poisson-nloglik|gamma-nloglik|cox-nloglik|tweedie-nloglik(?:@[\d.]+)?|aft-nloglik|mphe)$"
)
# set names that are the training data: XGBoost's watchlist convention ("train", "dtrain"), LightGBM's own name for
# the training set in valid_sets ("training"); any other name is a held-out set
_TRAIN_SETS = re.compile(r"^(?:train(?:ing)?|dtrain|trn|learn)$", re.I)


def is_train_set(name: str) -> bool:
    return _TRAIN_SETS.match(name) is not None


def name_metric(set_name: str, metric: str, metrics: dict[str, float]) -> str:
    """The name under which one set's metric is read (module docstring); `metrics` is what the line gave so far."""
    train = is_train_set(set_name)
    loss_key = "loss" if train else "val_loss"
    if _LOSS_METRICS.match(metric.lower()) and loss_key not in metrics:
        return loss_key
    return metric if train else f"val_{metric}"


def read_cells(cells: list[str], cell: re.Pattern[str]) -> dict[str, float] | None:
    """One round line's `<set> <metric> <value>` cells (groups 1-3 of `cell`) named as above, or None when a cell is
    not such a pair (the line is then some other bracketed counter) or the line holds none."""
    metrics: dict[str, float] = {}
    for text in cells:
        c = cell.match(text.strip())
        if c is None:
            return None
        value = parse_number(c.group(3))
        if value is None:
            return None
        metrics[name_metric(c.group(1), c.group(2), metrics)] = value
    return metrics or None
