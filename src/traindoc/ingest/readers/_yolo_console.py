"""The training console of the Ultralytics YOLO trainers (YOLOv5/YOLOR `train.py`, the `ultralytics` package's
YOLOv8 / YOLO11 `yolo train`), with its per-epoch validation rows.

Each epoch prints its training row under a header that the trainer repeats, then the validation summary:

          Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size
          1/500      2.44G      1.093      4.329      1.455          9        640: 100% 63/63 [00:21<00:00, ...]
                     Class     Images  Instances      Box(P          R      mAP50  mAP50-95): 100% 5/5 [...]
                       all        141        141     0.0326       0.38     0.0811     0.0704

(YOLOv5/YOLOR: `Epoch gpu_mem box obj cls total targets img_size`, then `Class Images Targets P R mAP@.5
mAP@.5:.95`; segmentation and pose runs add a `Mask(P R mAP50 mAP50-95)` or `Pose(...)` group.) The training rows are
read as the generic table reader reads them (textlog_formats.parse_table, the same names and epoch numbering); this
module adds the `all` row of each validation block as the held-out metrics of the epoch printed just before it, under
the names the same trainer writes to its results.csv (`metrics/mAP50-95(B)`, YOLOv5's `metrics/mAP_0.5:0.95`), so the
console and the CSV of one run read alike. The table reader alone dropped those rows (their first cell is `all`).
Nothing is read before a training header with a GPU-memory column, the mark of these trainers, so other tables stay
with the table reader. The validation after training (`Validating .../best.pt...`) re-scores the best checkpoint, no
new epoch: its rows are not read.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number, parse_table

_TRAIN_HEAD = re.compile(r"^\s*Epoch\s+(?i:gpu_mem)\s")
_VAL_HEAD = re.compile(r"^\s*Class\s+Images\s+(?:Instances|Labels|Targets)\s+(.+)$")
# the tqdm bar the header is the description of; tried only from the start of a run of spaces (a later start finds
# the same bar), as trying every space of a long run with no "N%" after it was quadratic (docs/architecture.md)
_BAR = re.compile(r":?(?<!\s)\s+\d+%.*$")
_ALL_ROW = re.compile(rf"^\s*all\s+{NUM}\s+{NUM}((?:\s+{NUM})+)\s*$")
# column names as the console prints them -> as results.csv spells them
_NAMES = {"P": "precision", "R": "recall", "mAP50": "mAP50", "mAP50-95": "mAP50-95", "mAP@.5": "mAP_0.5",
          "mAP@.5:.95": "mAP_0.5:0.95"}
_KEY = "yolo_console"


def _val_columns(text: str) -> list[str] | None:
    """results.csv names of the validation header's metric columns, or None when one is not known."""
    cols: list[str] = []
    group = ""
    for tok in _BAR.sub("", text).split():
        if "(" in tok:  # "Box(P": a group opens, its letter suffixes each of its columns ("metrics/mAP50(B)")
            kind, tok = tok.split("(", 1)
            group = f"({kind[:1].upper()})" if kind else ""
        name = _NAMES.get(tok.rstrip("):"))
        if name is None:
            return None
        cols.append(f"metrics/{name}{group}")
    return cols if len(cols) >= 2 else None


def parse_yolo_console(line: str, st: State) -> Record | None:
    """A training row or a validation `all` row of a YOLO console (module docstring), or None for any other line."""
    if _TRAIN_HEAD.match(line):
        st.extra[_KEY] = True
        st.extra.pop("yolo_final", None)
    if not st.extra.get(_KEY):
        return None
    if line.lstrip().startswith("Validating "):
        st.extra["yolo_final"] = True
        return None
    head = _VAL_HEAD.match(line)
    if head is not None:
        st.extra["yolo_val"] = _val_columns(head.group(1))
        return None
    row = _ALL_ROW.match(line)
    if row is not None:
        cols, epoch = st.extra.pop("yolo_val", None), st.extra.get("yolo_epoch")
        values = [parse_number(c) for c in row.group(1).split()]
        if cols is None or epoch is None or st.extra.get("yolo_final") or len(values) != len(cols):
            return None
        metrics = {k: v for k, v in zip(cols, values, strict=True) if v is not None}
        return Record(epoch, metrics, epoch=epoch, eval=True) if metrics else None
    rec = parse_table(line, st)
    if rec is not None and rec.epoch is not None:
        st.extra["yolo_epoch"] = rec.epoch
    return rec
