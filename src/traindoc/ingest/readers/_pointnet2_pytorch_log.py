"""Pointnet_Pointnet2_pytorch training logs: an `Epoch e (i/N)` banner, then the epoch's figures, one per line.

The PyTorch PointNet / PointNet++ implementation (yanx27/Pointnet_Pointnet2_pytorch, forked widely) logs through
Python's logging (`'%(asctime)s - %(name)s - %(levelname)s - %(message)s'`, logger `Model`) into
`log/<task>/<log_dir>/logs/<model>.txt`, one banner per epoch and the epoch's figures after it:

    Epoch 12 (12/200):                                          classification (train_classification.py)
    Train Instance Accuracy: 0.841870
    Test Instance Accuracy: 0.873301, Class Accuracy: 0.825578
    Best Instance Accuracy: 0.873301, Class Accuracy: 0.832615

    Epoch 2 (2/251):                                            part segmentation (train_partseg.py)
    Learning rate:0.001000
    Train accuracy is: 0.91860
    eval mIoU of Airplane       0.738976                        (one line per shape category)
    Epoch 2 test Accuracy: 0.915000  Class avg mIOU: 0.70   Inctance avg mIOU: 0.79
    Best accuracy is: 0.91500

    **** Epoch 2 (2/128) ****                                   semantic segmentation (train_semseg.py)
    Learning rate:0.001000
    Training mean loss: 0.539021
    Training accuracy: 0.836284
    ---- EPOCH 002 EVALUATION ----
    eval mean loss: 0.767143
    eval point avg class IoU: 0.483694
    eval point accuracy: 0.791078
    eval point avg class acc: 0.610968
    class ceiling        weight: 0.090, IoU: 0.894              (one line per class)
    Eval mean loss: 0.767143                                    (the same two figures again)
    Best mIoU: 0.483694

The step is the banner's `i`, the epoch counted over restarts (a run resumed from its checkpoint prints `Epoch 1
(4/128)`: the script's own epoch counter restarts, `i` does not). Read blind (issue 8, session 34:
tests/corpus/realworld/g6s34-pointnet2-pytorch-*), the generic rules stepped every line by its line order but the
part-segmentation test line (`Epoch 2 test ...`, stepped by its epoch), merged the test and the running best `Class
Accuracy` into one series, and read every `Best ...` running maximum and every per-category IoU as a metric of its own.
Here the epoch's figures are read at the banner's step: the training accuracy and loss under `accuracy` / `loss`, the
test figures as held-out (`eval_accuracy`, `eval_class_accuracy`, `eval_loss`, the mean IoUs), the learning rate as
`lr`; the running best, the per-category and per-class lines, the repeated `Eval` pair, the BN momentum and the save
notes are claimed (Record.claimed), no point. Guards: nothing is read or claimed before a banner, so another log's
`eval mean loss:` line (the TensorFlow PointNet's, with no such banner) stays its own family's.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_BANNER = re.compile(r"^(?:\*{4}\s*)?Epoch\s+(\d+)\s+\((\d+)/(\d+)\)(?::|\s*\*{4})$")
_EPOCH = "pointnet2_epoch"
_V = rf"\s*({NUM})"

# one figure per line: the message's exact words, then the metric it is read as (held out when it starts "eval_")
_ONE = [
    (re.compile(rf"^Train Instance Accuracy:{_V}$"), "accuracy"),
    (re.compile(rf"^Train accuracy is:{_V}$"), "accuracy"),
    (re.compile(rf"^Training accuracy:{_V}$"), "accuracy"),
    (re.compile(rf"^Training mean loss:{_V}$"), "loss"),
    (re.compile(rf"^Learning rate:{_V}$"), "lr"),
    (re.compile(rf"^eval mean loss:{_V}$"), "eval_loss"),
    (re.compile(rf"^eval point avg class IoU:{_V}$"), "eval_miou"),
    (re.compile(rf"^eval point accuracy:{_V}$"), "eval_accuracy"),
    (re.compile(rf"^eval point avg class acc:{_V}$"), "eval_class_accuracy"),
]
_TEST_CLS = re.compile(rf"^Test Instance Accuracy:{_V},\s*Class Accuracy:{_V}$")
_TEST_PARTSEG = re.compile(
    rf"^Epoch\s+\d+\s+test Accuracy:{_V}\s+Class avg mIOU:{_V}\s+Inctance avg mIOU:{_V}$")
# this family's lines that hold no point: running bests, per-category / per-class figures, the evaluation's repeated
# pair, the BN momentum, section rules and save notes
_OWN = re.compile(
    r"^(?:Best (?:Instance Accuracy|accuracy is|class avg mIOU is|inctance avg mIOU is|mIoU)\b.*"
    rf"|eval mIoU of\s+\S.*\s{NUM}"
    rf"|class\s+\S+\s+weight:{_V},\s*IoU:{_V}"
    rf"|Eval (?:mean loss|accuracy):{_V}"
    rf"|BN momentum updated to:{_V}"
    r"|-+ EPOCH \d+ EVALUATION -+|-+ IoU -+"
    r"|Save model\.\.\.|Saving model\.+|Saving at \S.*)$")


def parse_pointnet2_pytorch(line: str, st: State) -> Record | None:
    """The banner (remembered, claimed), an epoch figure at the banner's step, a claimed own line; else None."""
    text = line.strip()
    m = _BANNER.match(text)
    if m is not None:
        st.extra[_EPOCH] = int(m.group(2))
        return Record(None, {}, claimed=True)
    step = st.extra.get(_EPOCH)
    if not isinstance(step, int):
        return None
    metrics: dict[str, float] = {}
    t = _TEST_CLS.match(text)
    if t is not None:
        metrics = _read(("eval_accuracy", t.group(1)), ("eval_class_accuracy", t.group(2)))
    elif (t := _TEST_PARTSEG.match(text)) is not None:
        metrics = _read(("eval_accuracy", t.group(1)), ("eval_class_avg_miou", t.group(2)),
                        ("eval_instance_avg_miou", t.group(3)))
    else:
        for pattern, key in _ONE:
            one = pattern.match(text)
            if one is not None:
                metrics = _read((key, one.group(1)))
                break
        else:
            return Record(None, {}, claimed=True) if _OWN.match(text) else None
    if not metrics:
        return None
    st.epoch = step
    held_out = all(k.startswith("eval_") for k in metrics)
    return Record(step, metrics, eval=held_out, epoch=step, from_epoch=True)


def _read(*pairs: tuple[str, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, raw in pairs:
        value = parse_number(raw)
        if value is not None:
            out[key] = value
    return out
