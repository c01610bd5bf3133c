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

_TERM = rf"([A-Za-z][A-Za-z ]{{0,30}}?) loss = ({NUM})"
_LINE = re.compile(rf"^Epoch (\d+): {_TERM}((?: \| {_TERM})+)\s*$")
_MORE = re.compile(rf" \| {_TERM}")


def parse_grad_tts(line: str, st: State) -> Record | None:
    """One epoch's loss terms, or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    pairs = [(m.group(2), m.group(3)), *_MORE.findall(m.group(4))]
    metrics: dict[str, float] = {}
    for name, text in pairs:
        value = parse_number(text)
        if value is None:
            return None
        metrics["_".join(name.lower().split()) + "_loss"] = value
    epoch = int(m.group(1))
    st.epoch = epoch
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
