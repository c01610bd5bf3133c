"""segmentation_models_pytorch's epoch runners (`smp.utils.train.TrainEpoch` / `ValidEpoch`, verbose).

The library's training loop (its CamVid example and the scripts written from it) prints `Epoch: N` and then, per
runner, one tqdm bar whose postfix holds the running means of the loss and of each metric, `name - value`:

    Epoch: 0
    train: 100%|██████████| 46/46 [00:12<00:00,  3.59it/s, dice_loss - 0.2156, iou_score - 0.6585]
    valid: 100%|██████████| 101/101 [00:03<00:00, 32.53it/s, dice_loss - 0.3525, iou_score - 0.5599]

The runner puts the loss first (`logs[loss.__name__]`, then `logs[metric.__name__]` per metric), so the first pair is
the criterion whatever it is called (`dice_loss`, `jaccard_loss`, `bce_loss`); the others keep their names. The bar
is named after the runner's stage: `train` is the training split, any other stage (`valid`, `test`) a held-out one,
its loss `val_loss` and its metrics `val_<name>`. The generic rules read none of it (`name - value` is no pair they
know; issue 8, session 31: tests/corpus/realworld/smp-camvid-fpn-healthy read only the example's one
`Decrease decoder learning rate to 1e-5!` print, as the LR).

Step: `Epoch: N` counts from 0; the bar's total is the number of training batches per epoch, so the points of epoch
N fall at (N + 1) * total (the held-out bar at the step of the training bar before it). Only a finished bar (its
count equal to its total) is a point: an interrupted or in-progress bar's means cover part of an epoch.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_EPOCH = re.compile(r"^Epoch:\s*(\d+)\s*$")
_BAR = re.compile(r"^(\w+):\s+\d{1,3}%\|[^|]*\|\s*(\d+)/(\d+)\s*\[[^\]]*?,\s*((?:[A-Za-z_][\w.]*\s+-\s+\S+"
                  r"(?:,\s*)?)+)\]\s*$")
# A pair is tried only from the start of a run of name characters, the first letter of the run the name: a name
# reaches the end of its run wherever it starts in it, so a later start reads the same pair, and trying every
# letter of a long run with no " - " after it was quadratic (docs/architecture.md). A pair ends at "," or the end,
# so the next one is never tried from inside a run.
_PAIR = re.compile(r"(?<![\w.])(?:(?![A-Za-z_])[\w.])*([A-Za-z_][\w.]*)\s+-\s+(\S+?)(?:,|$)")


def parse_smp_epoch_runner(line: str, st: State) -> Record | None:
    """A finished runner bar (module docstring), or None; `Epoch: N` lines set the epoch."""
    text = line.strip()
    ep = _EPOCH.match(text)
    if ep is not None:
        st.extra["smp_epoch"] = int(ep.group(1))
        return None
    m = _BAR.match(text)
    if m is None or "smp_epoch" not in st.extra:
        return None
    done, total = int(m.group(2)), int(m.group(3))
    if done != total or total == 0:
        return None
    pairs = _PAIR.findall(m.group(4).strip())
    if not pairs:
        return None
    held_out = m.group(1).lower() != "train"
    metrics: dict[str, float] = {}
    for i, (name, raw) in enumerate(pairs):
        v = parse_number(raw)
        if v is None:
            continue
        key = "loss" if i == 0 else name
        metrics[f"val_{key}" if held_out else key] = v
    if not metrics:
        return None
    epoch = st.extra["smp_epoch"]
    if not held_out:
        st.extra["smp_step"] = (epoch + 1) * total
    step = st.extra.get("smp_step", (epoch + 1) * total)
    return Record(step, metrics, eval=held_out, epoch=epoch)
