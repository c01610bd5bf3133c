"""The console of Facebook's DLRM reference script (dlrm_s_pytorch.py) and its forks.

    Finished training it 1/3 of epoch 0, -1.00 ms/it, loss 0.451893, accuracy 0.000%
    Finished training it 1024/306968 of epoch 0, 66.33 ms/it, loss 0.520510
    Testing at - 1024/306968 of epoch 0, loss 0.477, accuracy 77.645 %, best 77.645 %
    Testing at - 10240/306968 of epoch 0, loss 0.465, recall 0.21, precision 0.62, f1 0.32, ap 0.51, auc 0.74,
        best auc 0.74, accuracy 78.1 %, best accuracy 78.1 %

(the last two as one line). Read blind (issue 8, session 29: tests/corpus/realworld/g36-dlrm-readme-tiny-sample-run,
the README's sample run), the generic rules took "Finished training it 1/3" for a metric named "Finished training it"
with value 1 and stepped the loss by line order. Here the iteration counter is the step: the script counts
iterations within an epoch (`it j/N of epoch k`), so the global step is k*N + j; "loss" is the training loss
averaged over the print interval, "accuracy" the training accuracy in percent as printed. A "Testing at" line is an
evaluation at the same step: its loss and metrics are held-out values; "best ..." repeats an earlier best and is not
read; ms/it is throughput, not a metric. N counts one epoch's iterations, not the run's, so no planned length is
taken from it.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_TRAIN = re.compile(r"^Finished training it\s+(\d+)\s*/\s*(\d+)\s+of epoch\s+(\d+)\s*,(.*)$")
_TEST = re.compile(r"^Testing at\s*-\s*(\d+)\s*/\s*(\d+)\s+of epoch\s+(\d+)\s*,(.*)$")
# "loss 0.45", "accuracy 0.000%", "auc 0.74": a lower-case word (or "best <word>") and a number, comma-separated
_PAIR = re.compile(rf"^\s*((?:best\s+)?[a-z][a-z0-9_]*)\s+({NUM})\s*%?\s*$")
_TEST_NAMES = {"loss": "eval_loss", "accuracy": "eval_accuracy", "auc": "eval_auc", "ap": "eval_ap",
               "recall": "eval_recall", "precision": "eval_precision", "f1": "eval_f1"}


def _pairs(rest: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in rest.split(","):
        m = _PAIR.match(part)
        if m is None or m.group(1).startswith("best"):
            continue  # "-1.00 ms/it" is throughput; "best ..." an earlier best repeated
        v = parse_number(m.group(2))
        if v is not None:
            out[m.group(1)] = v
    return out


def parse_dlrm(line: str, st: State) -> Record | None:
    """A training or testing line of dlrm_s_pytorch.py (module docstring), or None for any other line."""
    text = line.strip()
    if not (text.startswith("Finished training it") or text.startswith("Testing at")):
        return None
    m = _TRAIN.match(text) or _TEST.match(text)
    if m is None:
        return None
    j, n, epoch = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if n <= 0 or j > n:
        return None
    values = _pairs(m.group(4))
    if "loss" not in values:
        return None  # every DLRM line prints its loss; without it this is some other sentence
    step = epoch * n + j
    st.epoch, st.steps_per_epoch = epoch, n
    if text.startswith("Testing"):
        metrics = {_TEST_NAMES.get(k, f"eval_{k}"): v for k, v in values.items()}
        return Record(step, metrics, eval=True, epoch=epoch)
    return Record(step, values, epoch=epoch)
