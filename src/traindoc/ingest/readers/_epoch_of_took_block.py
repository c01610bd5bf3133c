"""The Lasagne / TensorLayer epoch block: `Epoch e of N took ts`, then the epoch's indented `name: value` lines.

Lasagne's MNIST example (and the loops copied from it) and TensorLayer 1.x's `tl.utils.fit` print one block per
reported epoch:

    Epoch 1 of 500 took 1.858s                Epoch 10 of 500 took 0.356471s
      training loss:                1.233348    train loss: 0.085225
      validation loss:              0.405868    val loss: 0.097082
      validation accuracy:          88.78 %     val acc: 0.971700

The values are read as the generic rules read them (the same names and numbers, a held-out name marked held-out);
what this module adds is their step, the epoch the block's banner prints. Read by the generic rules alone, each
value took the next line number as its step, so the loss of epoch 10 sat at step 5 and the held-out values one and
two steps after their training loss (issue 8, session 29: tests/corpus/realworld/tensorlayer-tutorial-mnist-mlp-
dropout-40-epochs, which reports epochs 1, 10, 20, 30, 40).

Guards: a value line is read only inside a block (after a banner, until the next banner) and only under a training,
validation or test name (`train`/`training`/`val`/`validation`/`test` then `loss`/`acc`/`accuracy`); the epoch must
not go back (a second run in the same file starts again at 1: its blocks are not read).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_generic

_BANNER = re.compile(r"^Epoch\s+(\d+)\s+of\s+(\d+)\s+took\s+[\d.]+\s*s$")
_VALUE = re.compile(r"^(?:train(?:ing)?|val(?:idation)?|test)\s+(?:loss|acc(?:uracy)?)\s*:", re.I)


def parse_epoch_of_took(line: str, st: State) -> Record | None:
    """A banner (remembered) or a value line of the current block at its epoch; None for any other line."""
    text = line.strip()
    m = _BANNER.match(text)
    if m:
        epoch, total = int(m.group(1)), int(m.group(2))
        last = st.extra.get("took_epoch")
        if (isinstance(last, int) and epoch < last) or epoch > total:
            st.extra["took_done"] = True  # another run in the same file (or no such banner)
        st.extra["took_epoch"] = epoch
        return None
    epoch = st.extra.get("took_epoch")
    if not isinstance(epoch, int) or st.extra.get("took_done") or not _VALUE.match(text):
        return None
    rec = parse_generic(text, State())
    if rec is None or not rec.metrics:
        return None
    st.epoch = epoch
    return Record(epoch, dict(rec.metrics), eval=rec.eval, epoch=epoch, from_epoch=True)
