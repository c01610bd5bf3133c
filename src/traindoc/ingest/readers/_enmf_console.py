"""ENMF's TensorFlow training script as the BARS benchmark runs it (Chen et al.'s efficient non-sampling matrix
factorisation, with BARS's top-k evaluator): an epoch's loss lines, then every `verbose` epochs an evaluation block.

    2020-11-05 14:24:55.457867 run epoch 1:  time=17.97s
    2020-11-05 14:25:13.430076 loss=0.0705, loss_no_reg=0.0705, loss_reg=0.0000

    2020-11-05 14:25:13.430126 evaluate at epoch 1
    2020-11-05 14:26:00.009660 hitrate@20=0.0540, recall@20=0.0081, ndcg@20=0.0064
    2020-11-05 14:26:00.009767 hitrate@50=0.0923, recall@50=0.0151, ndcg@50=0.0086

`run epoch N` opens the epoch (the step); its `loss=` line is the epoch's training loss (`loss`) and its two parts
(`loss_no_reg`, `loss_reg`). ENMF's whole-data loss subtracts the positives' weighted scores from a term over every
user-item pair, so it falls far below zero as training goes (0.07 -> -3000 here) by design, not as a fault. The
evaluation lines score the test split (the script's `--test_data`) at the epoch `evaluate at epoch N` names: read as
held-out, `test_<metric>@<k>`. The generic rules read the loss line stepped by line order and nothing of the
evaluation (issue 8, session 31: tests/corpus/realworld/bars-enmf-tf-gowalla-whole-data-loss, blind).

Guards: whole lines only; a loss line is read only after a `run epoch` line, an evaluation line only after an
`evaluate at epoch` line, and the epoch must not go back (a second run in the same file: left alone).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_RUN = re.compile(rf"^run epoch (\d+):\s+time={NUM}s$")
_LOSS = re.compile(rf"^loss=({NUM}), loss_no_reg=({NUM}), loss_reg=({NUM})$")
_EVAL_AT = re.compile(r"^evaluate at epoch (\d+)$")
_TOPK = re.compile(rf"^((?:[a-z]+@\d+=({NUM})(?:, |$))+)")
_PAIR = re.compile(rf"([a-z]+@\d+)=({NUM})")


def parse_enmf(line: str, st: State) -> Record | None:
    """An ENMF loss or evaluation line (module docstring), or None for any other line."""
    text = line.strip()
    m = _RUN.match(text) or _EVAL_AT.match(text)
    if m is not None:
        epoch = int(m.group(1))
        if not counter_restarted(st.extra, "enmf_epoch", epoch):
            st.extra["enmf_at"] = (epoch, text.startswith("evaluate"))
        return None
    at = st.extra.get("enmf_at")
    if at is None:
        return None
    epoch, evaluating = at
    metrics: dict[str, float] = {}
    if not evaluating:
        lm = _LOSS.match(text)
        if lm is None:
            return None
        pairs = zip(("loss", "loss_no_reg", "loss_reg"), lm.groups(), strict=True)
    else:
        tm = _TOPK.match(text)
        if tm is None or tm.group(0) != text:
            return None
        pairs = ((f"test_{k}", v) for k, v in _PAIR.findall(text))
    for name, raw in pairs:
        value = parse_number(raw)
        if value is not None:
            metrics[name] = value
    if not metrics:
        return None
    return Record(epoch, metrics, eval=evaluating, epoch=epoch, from_epoch=True)
