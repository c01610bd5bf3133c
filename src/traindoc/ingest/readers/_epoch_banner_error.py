"""A hand-written loop's epoch banner and its one-word cost print: `== EPOCH:  e / N  ==` ... `Error:  x`.

From-scratch networks (NumPy MLPs written for teaching, sar-gupta/neural-network-from-scratch and its copies) print a
banner per epoch, the progress through the training set, and the epoch's cost under the word "Error":

    == EPOCH:  1 / 5  ==
    Training with  59951 / 60000
    Error:  nan

The value is the cost the loop descends (the cross-entropy summed or averaged over the epoch), so it is read as the
training `loss` of epoch e, the step being the epoch as printed. The generic rules read nothing here: the banner has
no `key: value` and "Error" alone names no loss. First met in a real-world faulty log (issue 8, session 28:
tests/corpus/realworld/g32-nn-from-scratch-10-log-of-zero-error-nan), unreadable blind.

Guards: an `Error:` line is read only as the first one after a banner (one cost per epoch; a banner's epoch counts
up to its total), and only a bare number (a percentage or a fraction `a/b` is an error rate or a count, not this
print).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_BANNER = re.compile(r"^[=#*-]{2,}\s*EPOCH\s*:?\s*(\d+)\s*/\s*(\d+)\s*[=#*-]{2,}$", re.I)
_ERROR = re.compile(rf"^Error\s*:\s*({NUM})$")


def parse_epoch_banner_error(line: str, st: State) -> Record | None:
    """The banner (remembered, no measurement) or the first `Error: x` after it (the epoch's loss); None otherwise."""
    text = line.strip()
    banner = _BANNER.match(text)
    if banner:
        epoch, total = int(banner.group(1)), int(banner.group(2))
        st.extra["banner_epoch"] = epoch if 0 <= epoch <= total else None
        return None
    m = _ERROR.match(text)
    epoch = st.extra.get("banner_epoch")
    if m is None or not isinstance(epoch, int):
        return None
    loss = parse_number(m.group(1))
    if loss is None:
        return None
    st.extra["banner_epoch"] = None  # one cost per epoch
    st.epoch = epoch
    return Record(epoch, {"loss": loss}, epoch=epoch, from_epoch=True)
