"""Cross-validation folds in one text log: k trainings of one recipe, printed one after the other.

Competition code trains the same model on k splits in one script and prints each fold's epochs under a banner
("-------------   Fold 2 / 5  -------------", "========== fold: 1 training =========="), or names the fold (and the
seed of a multi-seed average) on every epoch line ("seed: 0, FOLD: 1, EPOCH: 10, train_loss: 0.0086, ..."). Every
fold starts from a fresh model, so its epoch counter starts over: read as one run, the folds land on the same steps
and the last value logged at a step wins (Run.finalize), which splices folds of unequal length (early stopping ends
each fold at another epoch) into one curve that no training drew, with a jump where the longer fold shows through.

A fold (or seed) that changes, followed by a training step that goes back, is read as a new training: the points
of the earlier folds are set aside and the fold read last is the run diagnosed (the one a log cut short, or a crash,
ends in). A fold counter whose steps keep rising (a global step across folds) is one curve already and stays so; a
fold number on a summary line after the training ("Fold 0 AUC: 0.81") is followed by no step that goes back and
changes nothing.
"""

from __future__ import annotations

import re

# A line that only announces a fold, between decorations: "-------------   Fold 1 / 5  -------------",
# "========== fold: 0 training ==========", "### FOLD 3", "=== FOLD 0 STARTED ===", "[Fold 2/5]", "Training fold 4",
# "training in fold 2" (a Kaggle solution's LightGBM folds, avito-18th-lgb-10fold-rmse-early-stop).
_BANNER = re.compile(r"^[\W_]*(?:(?:training|train|start(?:ing)?)\s+(?:(?:on|in|for)\s+)?)?(?:cv\s+)?"
                     r"fold\s*[:#=]?\s*(\d+)(?:\s*(?:/|of)\s*\d+)?"
                     r"(?:\s+(?:training|started|start|begins?))?[\W_]*$", re.I)
# The fold, or the seed, named on a metric line of its own: "FOLD: 0, EPOCH: 10, ...", "Fold 0 | Epoch 1 | ...",
# "[fold 1] epoch 3 ...". A whole word only: "n_folds: 5", "folder 3" and "5-fold CV" name no fold.
_PAIR = re.compile(r"(?<![\w-])(fold|seed)\s*[:=#]?\s*(\d+)(?![\w.])", re.I)


def fold_banner(text: str) -> int | None:
    """The fold a banner line announces, or None for any other line."""
    if "old" not in text and "OLD" not in text:
        return None
    m = _BANNER.match(text.strip())
    return int(m.group(1)) if m else None


def fold_key(text: str) -> tuple[int, ...] | None:
    """The (seed, fold) a metric line names, as a key that changes when a new training starts; None when it names
    neither."""
    if "old" not in text and "OLD" not in text and "eed" not in text and "EED" not in text:
        return None
    found = {m.group(1).lower(): int(m.group(2)) for m in _PAIR.finditer(text)}
    if not found:
        return None
    return (found.get("seed", -1), found.get("fold", -1))
