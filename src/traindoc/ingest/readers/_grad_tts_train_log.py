"""Grad-TTS's per-epoch train.log: `Epoch N: duration loss = x | prior loss = y | diffusion loss = z`.

Grad-TTS (Popov et al. 2021, "Grad-TTS: A Diffusion Probabilistic Model for Text-to-Speech") trains its text encoder,
duration predictor and score-based decoder on one objective, the sum of three terms, and its `train.py` appends the
epoch means of the three to `{log_dir}/train.log` (`logs/new_exp/` by default), one line per epoch:

    Epoch 1: duration loss = 0.745 | prior loss = 2.309 | diffusion loss = 0.159

Each `<name> loss = <value>` is read as the term `<name>_loss` (spaces to underscores: `duration_loss`,
`prior_loss`, `diffusion_loss`), stepped by the printed epoch. The run logs no total; the terms are the loss's named
parts (evidence/context.py, loss_terms), which the detectors sum. Forks that add a term print it the same way
(`| vq loss = x`), so any number of terms is read. The generic rules read this line wrong: they kept the second and
third terms, under their spaced names, and lost the first one (the one behind the `Epoch N:` counter). First met in
a real-world healthy log (issue 8, session 35: tests/corpus/realworld/g15s35-grad-tts-train-log-22ep), read so
blind.

Guards: the line must open with `Epoch N:` and hold at least two `<name> loss = <value>` terms joined by ` | `, and
nothing else, so that a one-metric print (`Epoch 3: loss = 0.5`, the generic rules' case) or another family's pipe
table is not claimed.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_EPOCH = re.compile(r"^Epoch (\d+): ")
_TERM = re.compile(rf"^([A-Za-z][A-Za-z ]{{0,30}}?) loss = ({NUM})$")


def parse_grad_tts(line: str, st: State) -> Record | None:
    """One epoch's loss terms, or None for any other line."""
    text = line.strip()
    head = _EPOCH.match(text)
    parts = text[head.end():].split(" | ") if head else []
    if len(parts) < 2:
        return None
    metrics: dict[str, float] = {}
    for part in parts:
        term = _TERM.match(part.strip())
        value = parse_number(term.group(2)) if term else None
        if term is None or value is None:
            return None
        metrics["_".join(term.group(1).lower().split()) + "_loss"] = value
    epoch = int(head.group(1)) if head else 0
    st.epoch = epoch
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
