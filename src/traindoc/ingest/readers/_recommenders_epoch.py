"""Microsoft Recommenders' LightGCN `fit()` epoch line: `Epoch e (train)Xs[ + (eval)Ys]: train loss = ... [, k = v]`.

`recommenders.models.deeprec.models.graphrec.lightgcn.LightGCN.fit` prints one line per epoch:

    Epoch 4 (train)0.9s: train loss = 0.22621 = (mf)0.22512 + (embed)0.00109
    Epoch 5 (train)0.8s + (eval)0.4s: train loss = 0.22219 = (mf)0.22098 + (embed)0.00121, recall = 0.16303, ...

The training loss is the sum after `train loss =`: the BPR ranking loss `(mf)` plus the embeddings' L2 term `(embed)`,
read as `loss`, `mf_loss` and `embed_loss`. Every `eval_epoch` epochs the line adds the top-k ranking metrics on the
split it evaluates (`recall`, `ndcg`, `precision`, `map`; the line's own `(eval)` marks them), read as held-out
(`eval_<name>`). The step is the epoch (counted from 1). The generic rules read nothing here (issue 8, session 30:
tests/corpus/realworld/recommenders-lightgcn-movielens100k-50-epochs, unreadable blind): the epoch's timings are glued
to their labels and the loss is a sum printed with its terms.

Guards: the whole line must be the print; the epoch must not go back (a second `fit` in the same file).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_LINE = re.compile(
    rf"^Epoch (\d+) \(train\)({NUM})s(?: \+ \(eval\)({NUM})s)?: train loss = ({NUM}) = \(mf\)({NUM}) \+ "
    rf"\(embed\)({NUM})((?:, [A-Za-z][\w@]* = {NUM})*)$")
_PAIR = re.compile(rf", ([A-Za-z][\w@]*) = ({NUM})")


def parse_recommenders_epoch(line: str, st: State) -> Record | None:
    """One epoch line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    epoch = int(m.group(1))
    if counter_restarted(st.extra, "rec_epoch", epoch, strict=True):
        return None
    metrics: dict[str, float] = {}
    for name, raw in (("loss", m.group(4)), ("mf_loss", m.group(5)), ("embed_loss", m.group(6))):
        value = parse_number(raw)
        if value is not None:
            metrics[name] = value
    for name, raw in _PAIR.findall(m.group(7) or ""):
        value = parse_number(raw)
        if value is not None:
            metrics[f"eval_{name}"] = value
    return Record(epoch, metrics, epoch=epoch, from_epoch=True) if metrics else None
