"""SuperGradients' per-epoch summary tree: `SUMMARY OF EPOCH N`, then one branch per split with one leaf per metric.

SuperGradients' `Trainer` (3.x) prints after every epoch:

    ===========================================================
    SUMMARY OF EPOCH 1
    ├── Train
    │   ├── CrossEntropyLoss = 1.9472
    │   │   ├── Epoch N-1      = 2.6516 (↘ -0.7044)
    │   │   └── Best until now = 2.6516 (↘ -0.7044)
    │   └── Accuracy = 0.2865
    └── Validation
        ├── CrossEntropyLoss = 1.6419
        └── Accuracy = 0.3895

(the arrows in ANSI colours, which normalise() strips). A leaf is read under its branch: `Train` / `Training` as the
training metric, `Validation` / `Valid` as `eval_<name>`, `Test` as `test_<name>`; the loss class name
(`CrossEntropyLoss`, `PPYoloELoss/loss`) is left to the shared naming table. The `Epoch N-1` and `Best until now`
sub-leaves repeat earlier epochs' values and are not read. The step is the epoch as printed (0-based). The generic
rules read every leaf as one series per name, the training and validation values interleaved (issue 8, session 30:
tests/corpus/realworld/super-gradients-notebook-transfer-learning-classification-15-epochs, read blind as 30 loss
points alternating 2.65 / 36.0 / 1.95 / 1.64 ...).

Guards: leaves are read only under a branch of a summary (a `├──` tree printed by anything else is not one); the
epoch must not go back (a second training printed into the same console starts again at 0: its summaries are not
read, as other loops' readers do).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, epoch_banner, parse_number

_BANNER = re.compile(r"^SUMMARY OF EPOCH (\d+)$")
_BRANCH = re.compile(r"^[├└]── (Train|Training|Validation|Valid|Test)$")
_LEAF = re.compile(rf"^(?:│\s+)*[├└]── (\S(?:.*\S)?)\s+=\s+({NUM})(?:\s+\(.*\))?$")
_REPEATS = ("Epoch N-1", "Best until now")
_PREFIX = {"Train": "", "Training": "", "Validation": "eval_", "Valid": "eval_", "Test": "test_"}


def parse_super_gradients(line: str, st: State) -> Record | None:
    """One metric leaf of an epoch summary (module docstring), or None."""
    text = line.strip()
    x = st.extra
    if epoch_banner(text, _BANNER, x, "sg_epoch"):
        x["sg_branch"] = None
        return None
    if x.get("sg_epoch_done") or "sg_epoch" not in x:
        return None
    b = _BRANCH.match(text)
    if b is not None:
        x["sg_branch"] = b.group(1)
        return None
    branch = x.get("sg_branch")
    leaf = _LEAF.match(text) if branch is not None else None
    if leaf is None:
        if not text.startswith(("│", "├", "└")):
            x["sg_branch"] = None  # the tree ended (the `====` rule, or any other line)
        return None
    name = leaf.group(1).strip()
    if name in _REPEATS:
        return None
    value = parse_number(leaf.group(2))
    if value is None:
        return None
    epoch = x["sg_epoch"]
    prefix = _PREFIX[branch]
    return Record(epoch, {prefix + name: value}, eval=bool(prefix), epoch=epoch, from_epoch=True)
