"""The first-order-model family's `log.txt`: `00000012) perceptual - 54.56717; equivariance_value - 0.20584; ...`.

The First Order Motion Model code base (Siarohin et al., NeurIPS 2019) and the animation models built on it
(Thin-Plate Spline Motion Model, CVPR 2022; Motion Representations for Articulated Animation, CVPR 2021) keep a
`Logger` that, at the end of each epoch, appends one line to `<log_dir>/log.txt`: the epoch zero-padded, `) `, then
each loss term averaged over the epoch as `name - value` joined by `; `. Every term is a loss the training step
minimises (the perceptual pyramid loss, the equivariance terms, the keypoint prior, the warp and background losses,
the GAN and feature-matching terms), and the generator's step minimises their sum; the discriminator's own term
(`disc_gan`, `discriminator_gan`) is minimised by the other network.

So each term is read as `loss_<name>` (as printed where the name already says loss) and the generator terms' sum
as the training `loss`, the step being the epoch as printed. First met in a real-world healthy log (issue 8, session 34:
tests/corpus/realworld/tpsmm-fork-checkpoints-log-20ep), unreadable blind: the generic rules read no `name - value`.

Guards: the whole line must be the counter and the pairs (a numbered list item such as `1) Install the package` is
not read), every term a bare number, and the counter a run of digits (the code pads it to eight).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_PAIR = rf"[A-Za-z][\w]*\s-\s{NUM}"
_LINE = re.compile(rf"^(\d+)\)\s+({_PAIR}(?:;\s*{_PAIR})*);?$")
_ONE = re.compile(rf"([A-Za-z][\w]*)\s-\s({NUM})")


def _generator_term(name: str) -> bool:
    """False for the discriminator's own loss, which the generator's step does not minimise."""
    return not name.lower().startswith(("disc", "discriminator"))


def parse_fomm_log(line: str, st: State) -> Record | None:
    """One epoch's line: each term as `loss_<name>` (its own name where it says loss), the generator terms' sum as
    `loss`; None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    metrics: dict[str, float] = {}
    total = 0.0
    summed = False
    for name, raw in _ONE.findall(m.group(2)):
        value = parse_number(raw)
        if value is None:
            return None
        metrics[name if "loss" in name.lower() else f"loss_{name}"] = value
        if _generator_term(name):
            total += value
            summed = True
    if not summed:
        return None
    metrics["loss"] = total
    epoch = int(m.group(1))
    st.epoch = epoch
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
