"""LR-GCCF's training and test prints (Chen et al.'s linear residual graph convolutional collaborative filtering,
PyTorch; the BARS benchmark's logs).

    epoch:0 time:22.2	 train loss:0.6933=0.6931+ val loss:0.6928 test loss:0.6928
    epoch:130time:119.25     test hit:0.1517 ndcg:0.1257 recall:0.1481

The training script prints one line per epoch (counted from 0, the step): the epoch's mean training loss, then `=` its
BPR term (the loss without the L2 term, the script's `loss2`) and a `+` with nothing after it, then the BPR loss on
the validation and on the test pairs. Read as `loss`, `bpr_loss`, `val_loss` and `test_loss`; the epoch's wall time
is no metric. The test script scores saved checkpoints and prints, per epoch it loads, the top-k hit ratio, NDCG and
recall on the test split (`test_hit`, `test_ndcg`, `test_recall`); the rows of bare numbers it prints before are not
read. The generic rules read the training line with its wall time as a metric `time`, stepped by line order, and
nothing of the test print (issue 8, session 31: tests/corpus/realworld/bars-lr-gccf-gowalla-350ep, blind).

Guards: whole lines only; the epoch must not go back within a file (a second run: left alone).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_TRAIN = re.compile(rf"^epoch:(\d+) time:{NUM}\s+train loss:({NUM})=({NUM})\+ val loss:({NUM}) test loss:({NUM})$")
_TEST = re.compile(rf"^epoch:(\d+)time:{NUM}\s+test hit:({NUM}) ndcg:({NUM}) recall:({NUM})$")


def parse_lr_gccf(line: str, st: State) -> Record | None:
    """A training or test line (module docstring), or None for any other line."""
    text = line.strip()
    m = _TRAIN.match(text)
    names: tuple[str, ...] = ("loss", "bpr_loss", "val_loss", "test_loss")
    if m is None:
        m = _TEST.match(text)
        names = ("test_hit", "test_ndcg", "test_recall")
        if m is None:
            return None
    epoch = int(m.group(1))
    if counter_restarted(st.extra, f"lr_gccf_{names[0]}", epoch, strict=True):
        return None
    metrics: dict[str, float] = {}
    for name, raw in zip(names, m.groups()[1:], strict=True):
        value = parse_number(raw)
        if value is not None:
            metrics[name] = value
    if not metrics:
        return None
    return Record(epoch, metrics, eval=names[0] != "loss", epoch=epoch, from_epoch=True)
