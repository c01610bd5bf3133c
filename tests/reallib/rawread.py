"""Minimal readers of the raw files the real libraries wrote, for asserting symptoms independently of traindoc.

Deliberately plain (json, csv, the tensorboard package's own reader): if traindoc's ingest misreads a file, these
tests still say what the file really contains.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path


def hf_history(run: Path) -> tuple[list[dict], list[dict]]:
    """(train rows, eval rows) of the root trainer_state.json; Python's json reads its bare NaN tokens."""
    state = json.loads((run / "trainer_state.json").read_text())
    history = state["log_history"]
    return [e for e in history if "loss" in e], [e for e in history if "eval_loss" in e]


def hf_trainable_count(run: Path) -> int:
    """The count from the "Number of trainable parameters = 105,536" banner line in the captured console."""
    match = re.search(r"Number of trainable parameters = ([\d,]+)", (run / "train.log").read_text(errors="replace"))
    if not match:
        raise AssertionError(f"no trainable-parameter banner in {run / 'train.log'}")
    return int(match.group(1).replace(",", ""))


def safetensors_total(path: Path) -> int:
    """Number of parameters stored in a safetensors file (header only: 8-byte length, then JSON)."""
    with open(path, "rb") as fh:
        header_len = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(header_len))
    return sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__")


def lightning_dir(run: Path) -> Path:
    return run / "lightning_logs" / "version_0"


def lightning_metrics(run: Path) -> dict[str, list[tuple[int, float]]]:
    """metrics.csv as {column: [(step, value), ...]}, skipping empty cells; 'nan' parses to float nan."""
    columns: dict[str, list[tuple[int, float]]] = {}
    with open(lightning_dir(run) / "metrics.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            step = int(row["step"])
            for key, cell in row.items():
                if key in ("step", "epoch") or cell in ("", None):
                    continue
                columns.setdefault(key, []).append((step, float(cell)))
    return columns


def lightning_param_counts(run: Path) -> tuple[float, float]:
    """(trainable, non-trainable) from Lightning's model summary in the console ("Trainable params: 2.7 K")."""
    text = (run / "train.log").read_text(errors="replace")
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9}

    def grab(label: str) -> float:
        match = re.search(rf"^{label} params: ([\d.]+) ?([KMB]?)", text, flags=re.M)
        if not match:
            raise AssertionError(f"no '{label} params' line in {run / 'train.log'}")
        return float(match.group(1)) * scale[match.group(2)]

    return grab("Trainable"), grab("Non-trainable")


def tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of every event file under folder, read by tensorboard's EventAccumulator, sampling off."""
    from tensorboard.backend.event_processing import event_accumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(folder.rglob("events.out.tfevents.*")):
        acc = event_accumulator.EventAccumulator(str(events), size_guidance={event_accumulator.SCALARS: 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return out


def values(series: list[tuple[int, float]]) -> list[float]:
    return [v for _, v in series]


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)
