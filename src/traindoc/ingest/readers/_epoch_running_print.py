"""A hand-written loop's `Epoch N is running...` banner and the loss it prints on the next line.

Teaching notebooks that train with a custom `tf.GradientTape` or torch loop print a banner every k epochs and then the
epoch's training loss on its own line, either bare (`print(f'{loss}')`) or named (`Train loss: x`):

    Epoch 0 is running...
    80217030656.0
    Epoch 100 is running...
    669609.5

    Epoch 10 is running...
    Train loss: nan

The generic rules read nothing from the bare form (a number alone names no metric) and step the named form by line
order, so the epoch the banner prints is lost. Here the first line after a banner is read as epoch N's value: a bare
number as the training `loss` (what such a loop prints under its banner; the named form shows the same place holds
the training loss), a `Train loss` / `Test loss` / `Validation loss` line under its own name. First met in real-world
faulty logs (issue 8, session 30: tests/corpus/realworld/g4-dsr-debugging-dl-*), unreadable or stepped by line
order blind.

Guards: only the first line after a banner is read (one value per banner), a bare number only when it is the whole
line, and a named line only for a loss (an accuracy or a count under a banner is not this print).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_BANNER = re.compile(r"^Epoch\s+(\d+)\s+is\s+running\s*\.*$", re.I)
_BARE = re.compile(rf"^({NUM})$")
_NAMED = re.compile(rf"^(train(?:ing)?|test|val(?:idation)?)\s+loss\s*:\s*({NUM})$", re.I)
_NAME = {"train": "loss", "training": "loss", "test": "test_loss", "val": "eval_loss", "validation": "eval_loss"}


def parse_epoch_running(line: str, st: State) -> Record | None:
    """The banner (remembered, no measurement) or the first line after it (epoch N's loss); None otherwise."""
    text = line.strip()
    banner = _BANNER.match(text)
    if banner:
        st.extra["running_epoch"] = int(banner.group(1))
        return None
    epoch = st.extra.get("running_epoch")
    if not isinstance(epoch, int) or not text:
        return None
    st.extra["running_epoch"] = None  # one value per banner
    bare, named = _BARE.match(text), _NAMED.match(text)
    if bare is not None:
        key, raw = "loss", bare.group(1)
    elif named is not None:
        key, raw = _NAME[named.group(1).lower()], named.group(2)
    else:
        return None
    value = parse_number(raw)
    if value is None:
        return None
    st.epoch = epoch
    return Record(epoch, {key: value}, epoch=epoch, from_epoch=True)
