"""DGCNN-family `run.log` lines: `Train <epoch>, loss: x, train acc: a, ...` and `Test <epoch>, loss: x, test acc: a`.

The PyTorch DGCNN (Wang et al. 2019, "Dynamic Graph CNN for Learning on Point Clouds"; WangYueFT/dgcnn's pytorch
folder and antao97/dgcnn.pytorch) writes its progress through a small `IOStream` to
`checkpoints/<exp_name>/run.log` (`outputs/<exp_name>/run.log` in antao97's), and the point-cloud codebases built on
it (PCT, CurveNet, PointFormer / DuPMAM, the mixup and registration projects) kept the print:

    Train 12, loss: 2.279057, train acc: 0.595035, train avg acc: 0.418694
    Test 12, loss: 2.367147, test acc: 0.640194, test avg acc: 0.518314
    Test 12, loss: 2.309464, test acc: 0.656807, test avg acc: 0.534169, best test acc: 0.683549   (a fork)
    Train 3, loss: 0.2, train acc: 0.93, train avg acc: 0.80, train iou: 0.75                        (part seg)

The number after `Train` / `Test` is the epoch (from 0), the step; the `Test` line is the held-out evaluation of the
same epoch. Read blind (issue 8, session 34: tests/corpus/realworld/g6s34-pointformer-dgcnn-style-modelnet40-250ep),
the generic rules took the epoch itself for a metric named `Train` / `Test`, merged the training and test losses
into one `loss` series of 500 points and stepped every line by its order. Here the pairs are read at the epoch:
`loss`, `train acc` (the overall accuracy), `train avg acc` (the mean per-class accuracy) and `train iou` under
`loss`, `accuracy`, `class_avg_accuracy`, `iou`, and the `Test` line's under their `eval_` names; a `best test acc`
running maximum is not a point. The line is matched whole (the split word, the epoch, then only `name: number`
pairs whose names are the split's own), so a `Train 3, loss: 0.5` print of another loop reads the same way and a
line with other words after the epoch stays with the other readers.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^(Train|Test)\s+(\d+),\s*(loss:\s*{NUM}(?:,\s*[a-z][a-z ]*:\s*{NUM})*)$")
_PAIR = re.compile(rf"([a-z][a-z ]*?):\s*({NUM})")
# the pair names each split prints, and what they are read as (None: a running best, no point)
_NAMES = {
    "Train": {"loss": "loss", "train acc": "accuracy", "train avg acc": "class_avg_accuracy", "train iou": "iou"},
    "Test": {"loss": "eval_loss", "test acc": "eval_accuracy", "test avg acc": "eval_class_avg_accuracy",
             "test iou": "eval_iou", "best test acc": None, "best test iou": None},
}


def parse_dgcnn_iostream(line: str, st: State) -> Record | None:
    """A DGCNN-family `Train e, ...` / `Test e, ...` line (module docstring), or None."""
    text = line.strip()
    if not text.startswith(("Train ", "Test ")):
        return None
    m = _LINE.match(text)
    if m is None:
        return None
    split, epoch = m.group(1), int(m.group(2))
    names = _NAMES[split]
    metrics: dict[str, float] = {}
    for name, raw in _PAIR.findall(m.group(3)):
        if name not in names:
            return None  # a pair this family does not print: another loop's line
        key = names[name]
        value = parse_number(raw)
        if key is not None and value is not None:
            metrics[key] = value
    if not metrics:
        return None
    st.epoch = epoch
    return Record(epoch, metrics, eval=split == "Test", epoch=epoch, from_epoch=True)
