"""The epoch lines of NGCF and LightGCN's TensorFlow code (Wang et al.'s NGCF, He et al.'s LightGCN, and the many
graph-recommender repositories built on that code; BARS's LightGCN_TF benchmark logs).

    Epoch 1 [35.9s]: train==[0.46090=0.46074 + 0.00016]
    Epoch 20 [48.3s + 12.1s]: train==[0.12572=0.12381 + 0.00191 + 0.00000], recall=[0.12334, 0.19212], ...
    Epoch 20: train==[0.06328=0.06139 + 0.00189 + 0.00000], recall=[0.11045, 0.19172], hitrate=[...], ...
    Epoch 20 [1434.2s + 764.0s]: test==[0.12572=0.12381 + 0.00191 + 0.00000], recall=[0.12334, 0.19212], ...
    Best Iter=[47]@[132063.9]	recall=[0.18202 0.28217], ...

`train==[total=bpr + reg(+ extra)]` is the epoch's training loss and its terms: read as `loss`, `mf_loss` (the BPR
ranking loss) and `emb_loss` (the embeddings' L2 term). Every `verbose` epochs the code evaluates on the test split:
the line then carries a second timing (`[train s + test s]`) and the top-k metrics as lists over the `--Ks` cut-offs,
read at the first cut-off as `test_<name>` (`recall=[0.12334, 0.19212]` -> `test_recall` 0.12334). BARS's version
prints that evaluation as `test==[...]`, the test split's loss (`test_loss`), and adds a line without the timing that
scores the training split (the model's own training pairs): its loss is the epoch's training loss, read, and its
metrics are no held-out point, not read. The step is the epoch. The
`Best Iter` summary repeats an evaluation already read. The generic rules read nothing here (issue 8, session 31:
tests/corpus/realworld/bars-lightgcn-tf-gowalla-1000ep, unreadable blind): the loss is a sum printed with its terms
inside brackets.

Guards: the whole line must be the print. An epoch that goes back is a run resumed from a checkpoint (the BARS log
repeats epochs 49-59 so, with the same values): read on, the later value of a step wins (ingest/model.py).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(
    rf"^Epoch (\d+)(?: \[({NUM})s(?: \+ ({NUM})s)?\])?: (train|test)==\[({NUM})=({NUM}) \+ ({NUM})(?: \+ {NUM})*\]"
    rf"((?:, [a-z]+=\[{NUM}(?:, {NUM})*\])*)$")
_LIST = re.compile(rf", ([a-z]+)=\[({NUM})")
_BEST = re.compile(r"^Best Iter=\[\d+\]@\[")


def parse_ngcf_epoch(line: str, st: State) -> Record | None:
    """One epoch line (module docstring), or None for any other line."""
    text = line.strip()
    m = _LINE.match(text)
    if m is None:
        return Record(None, {}, claimed=True) if _BEST.match(text) and "ngcf_epoch" in st.extra else None
    epoch = int(m.group(1))
    st.extra["ngcf_epoch"] = epoch
    split, lists = m.group(4), m.group(8)
    if lists and m.group(3) is None:
        # BARS's extra evaluation on the training split (no evaluation timing): its loss is the epoch's training
        # loss; its metrics score the pairs the model trains on, no held-out point
        lists = ""
    names = ("test_loss", "test_mf_loss", "test_emb_loss") if split == "test" else ("loss", "mf_loss", "emb_loss")
    metrics: dict[str, float] = {}
    for name, raw in zip(names, (m.group(5), m.group(6), m.group(7)), strict=True):
        value = parse_number(raw)
        if value is not None:
            metrics[name] = value
    for name, raw in _LIST.findall(lists or ""):
        value = parse_number(raw)
        if value is not None:
            metrics[f"test_{name}"] = value
    held_out = split == "test"
    return Record(epoch, metrics, eval=held_out, epoch=epoch, from_epoch=True) if metrics else None
