"""The training print of MiniMind (jingyaogong/minimind) and the from-scratch LLM scripts written after it.

    Epoch:[0/19](100/24681) loss:5.251 lr:0.00020000 epoch_Time:98.0min:
    Epoch:[1/2](9/6791) loss:2.925 lr:0.000001099999 epoch_Time:40.0min:

`Epoch:[e/E](i/N)` is the epoch of E and the iteration of N within it; then `name:value` pairs: the training loss
(multiplied back by the accumulation steps), the LR, and the minutes the epoch has left (`epoch_Time:...min:`, a
clock, not a metric). Read blind (issue 8, session 35: realworld g14s35-ploract-llama3-style-r1-distill-sft-2ep, an
R1-distillation SFT in this print; minimind-26-pretrain-epoch0-record before it), the generic rules read the loss and
the LR but stepped them by line order: iterations 9, 19, ..., 6789 of epoch 1 and those of epoch 2 became steps
1..1358, so the epoch boundary and the spacing were lost. Here the global step is (e - base) * N + i.

MiniMind counts epochs from 0 (`for epoch in range(args.epochs)`, printed as is: [0/19]); scripts after it print
`epoch + 1` ([1/2] .. [2/2]). The first epoch the log shows decides: 0 means 0-based, anything else 1-based (an
excerpt of a 0-based log that starts at a later epoch is then one epoch early on the step axis, its spacing kept). N
counts one epoch's iterations, E the epochs planned; neither is taken as the run's planned length (an excerpt of the
first epoch of 19 says nothing of where the LR schedule ends).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(r"^Epoch:\s*\[(\d+)\s*/\s*(\d+)\]\s*\((\d+)\s*/\s*(\d+)\)\s+(.*)$")
# "loss:2.925", "lr:0.000001099999"; "epoch_Time:40.0min:" ends in a unit and is a clock
_PAIR = re.compile(rf"([A-Za-z][A-Za-z0-9_]*):({NUM})(?=\s|$)")
_CLOCKS = ("epoch_time", "time", "eta")
_BASE = "minimind_epoch_base"


def parse_minimind_epoch(line: str, st: State) -> Record | None:
    """One `Epoch:[e/E](i/N) loss:x lr:y ...` line (module docstring), or None for any other line."""
    text = line.strip()
    if not text.startswith("Epoch:"):
        return None
    m = _LINE.match(text)
    if m is None:
        return None
    e, n_epochs, i, n = (int(m.group(k)) for k in (1, 2, 3, 4))
    if n <= 0 or i > n or e > n_epochs:
        return None
    metrics: dict[str, float] = {}
    for name, value in _PAIR.findall(m.group(5)):
        if name.lower() in _CLOCKS:
            continue
        v = parse_number(value)
        if v is not None:
            metrics[name] = v
    if "loss" not in metrics:
        return None  # every line of this print carries its loss; without it this is some other sentence
    base = st.extra.setdefault(_BASE, 0 if e == 0 else 1)
    epoch = max(e - base, 0)
    st.epoch, st.steps_per_epoch = epoch, n
    return Record(epoch * n + i, metrics, epoch=epoch)
