"""jwyang/faster-rcnn.pytorch's `trainval_net.py` console (and its forks): a three-line report every `disp_interval`.

    [session 1][epoch  1][iter  100/2892] loss: nan, lr: 1.00e-04
            fg/bg=(7/121), time cost: 19.324604
            rpn_cls: 0.6902, rpn_box: nan, rcnn_cls: 0.2591, rcnn_box 0.0000

(the continuation lines begin with tabs). The first line has the summed loss (its mean over the interval) and the
LR; the third the four loss terms (the script prints `rcnn_box` without a colon); the second the foreground and
background RoIs sampled in the last batch and the interval's wall time. The generic `key: value` rules read the
first line (with the iteration inside the epoch as the step, so a second epoch went back to step 0) and dropped the
loss terms, where the log shows which part of the detector went wrong (a NaN confined to the box-regression terms
while the classification terms stay finite).

Read here: the step is global, `(epoch - 1) * iters_per_epoch + iter`; the summed loss is `loss`, the terms
`loss_rpn_cls`, `loss_rpn_box`, `loss_rcnn_cls`, `loss_rcnn_box`, and the sampled RoI counts `rois_fg` and
`rois_bg` (a batch with no background RoI is what bad box annotations give), all on the step of the last header.
The time cost measures the machine and is not kept. Forks that add terms keep the same `name: value` shape.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_HEAD = re.compile(rf"^\[session (\d+)\]\[epoch\s*(\d+)\]\[iter\s*(\d+)\s*/\s*(\d+)\] loss: ({NUM}), lr: ({NUM})\s*$")
_ROIS = re.compile(r"^fg/bg=\((\d+)/(\d+)\), time cost: \S+\s*$")
_TERM = re.compile(rf"(?:^|,\s*)([a-z][a-z_]*):?\s+({NUM})(?=,|\s*$)")


def parse_frcnn_pytorch(line: str, st: State) -> Record | None:
    """One line of the three-line report (module docstring), or None for any other line."""
    m = _HEAD.match(line)
    if m:
        epoch, it, per_epoch = int(m.group(2)), int(m.group(3)), int(m.group(4))
        step = (epoch - 1) * per_epoch + it
        st.epoch, st.steps_per_epoch, st.last_step = epoch, per_epoch, step
        st.extra["frcnn_seen"] = True
        metrics = {k: v for k, v in (("loss", parse_number(m.group(5))), ("lr", parse_number(m.group(6))))
                   if v is not None}
        return Record(step, metrics, epoch=epoch)
    if not st.extra.get("frcnn_seen"):
        return None
    m = _ROIS.match(line)
    if m:
        return Record(st.last_step, {"rois_fg": float(m.group(1)), "rois_bg": float(m.group(2))}, epoch=st.epoch)
    if line.startswith("rpn_cls"):
        metrics = {f"loss_{k}": v for k, v in ((k, parse_number(s)) for k, s in _TERM.findall(line))
                   if v is not None}
        return Record(st.last_step, metrics, epoch=st.epoch) if metrics else None
    return None
