"""A per-epoch metric history kept as one mapping of metric name -> values: Keras's `History.history`, and the ways
people save it:

- `json.dump(history.history, f)` (`history.json`; Keras writes a NaN loss as the bare `NaN` JSON allows),
- `print(history.history)` captured in a file (`{'loss': [0.69, 0.51, nan], 'val_loss': [...]}`; under numpy 2 a
  value may print as `np.float32(0.69)`),
- `pickle.dump(history.history, f)` (a bare pickle of a dict of float lists; read with the no-import unpickler,
  readers/_safe_pickle.py, so nothing in the file runs),
- pandas `DataFrame(history.history).to_json()` (each metric a mapping of row index -> value).

The mapping has no step column: Keras appends one value per epoch, so a list's position is its epoch (steps 1..n,
as `Epoch i/N` counts them); a pandas mapping keeps its own integer row index. A name that is a step or epoch
counter is not a metric. The CSV forms (`CSVLogger`, `to_csv`) are the CSV reader's (readers/csv_metrics.py).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Series, Source
from traindoc.ingest.names import STEP_KEYS, history_metric_name
from traindoc.ingest.readers import _safe_pickle
from traindoc.ingest.registry import Reader, ReadError

MAX_BYTES = 16 << 20  # ~1M values; a history is per epoch, a larger file is something else
MIN_VALUES = 3
# above the text-log (0.8 for a .log/.txt name) and JSON-config (<= 0.65) readers, which read such a file as nothing
CONFIDENT = 0.85
_METRIC_KEY = re.compile(r"loss|acc|error|perplexity|ppl|f1|bleu|auc|dice|iou|psnr|map|mae|mse|rmse|precision|"
                         r"recall|learning_rate|\blr\b", re.IGNORECASE)
# a metric-named key opening a list or a mapping: what a printed or JSON history starts with, found in the head
_HEAD_KEY = re.compile(r"""["']([^"'\n]{1,80})["']\s*:\s*[\[{]""")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|NaN|-?Infinity)"
# one printed entry: 'name': [v, v, ...], each v a number or a numpy scalar's repr np.float32(v)
_PRINTED_ENTRY = re.compile(rf"""(["'])([^"'\n]{{1,80}})\1\s*:\s*\[\s*((?:(?:np\.\w+\()?{_NUMBER}\)?\s*,?\s*)*)\]""")
_PRINTED_VALUE = re.compile(rf"(?:np\.\w+\()?({_NUMBER})\)?")
_STEP_NAMES = {k.lower() for k in STEP_KEYS} | {"epoch", "epochs"}
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".p")


def _is_pickle(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in _PICKLE_SUFFIXES and head[:1] == b"\x80"


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or not head:
        return 0.0
    if _is_pickle(path, head):
        # a pickled dict whose keys name metrics; the key strings sit in the pickle as plain UTF-8
        # (protocol 2 opens with the dict's `}` right after the header, 4+ after an 8-byte frame length)
        return CONFIDENT if b"}" in head[2:12] and _METRIC_KEY.search(head.decode("latin-1")) else 0.0
    text = head.decode("utf-8", errors="replace").lstrip()
    if not text.startswith("{"):
        return 0.0
    keys = [m.group(1) for m in _HEAD_KEY.finditer(text[:4096])]
    if not keys or not any(_METRIC_KEY.search(k) for k in keys):
        return 0.0
    return CONFIDENT


def _mapping(path: Path, data: bytes) -> dict[str, Any]:
    """The file's name -> values mapping, or ReadError."""
    if _is_pickle(path, data[:4]):
        try:
            top = _safe_pickle.load_bytes(data)
        except budget.BudgetExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed pickle is one line for the user
            raise ReadError(f"{path.name}: not a readable pickle ({type(exc).__name__})") from None
        if not isinstance(top, dict):
            raise ReadError(f"{path.name}: the pickle holds a {type(top).__name__}, not a metric history")
        return top
    text = data.decode("utf-8", errors="replace").strip()
    try:
        top = json.loads(text)  # Python's json takes NaN / Infinity, as Keras's json.dump writes them
    except (ValueError, RecursionError):
        top = None
    if isinstance(top, dict):
        return top
    # a printed dict: each 'name': [values] entry (a repr, so no JSON: single quotes, nan, np.float32(...))
    out: dict[str, Any] = {}
    for m in _PRINTED_ENTRY.finditer(text):
        out[m.group(2)] = [float(v) for v in _PRINTED_VALUE.findall(m.group(3))]
    if not out:
        raise ReadError(f"{path.name}: no 'metric': [values] entries in the printed history")
    return out


def _as_series(value: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, values) of one entry: a list of numbers (steps 1..n) or a pandas row-index -> number mapping."""
    if isinstance(value, list):
        vals = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(vals) != len(value) or len(vals) < MIN_VALUES:
            return None
        return np.arange(1, len(vals) + 1), np.asarray(vals, dtype=np.float64)
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not str(k).lstrip("-").isdigit():
                return None
            pairs.append((int(k), float(v) if v is not None else math.nan))
        if len(pairs) < MIN_VALUES:
            return None
        pairs.sort()
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs], dtype=np.float64)
    return None


# containers people keep their histories under inside a larger dict (a checkpoint's "history" or "metrics")
_NESTED = re.compile(r"^(?:history|histories|metrics|stats|statistics|log|logs|train_history|training_history|"
                     r"curves|losses)$", re.IGNORECASE)


def add_histories(top: dict[Any, Any], run: Run, spath: str, nested: bool = False) -> list[str]:
    """Add every metric-named history of `top` (name -> list of numbers, or pandas index -> number) to the run, and,
    with `nested`, those one level down under a container key ("history", "metrics", ...). Returns the canonical
    names added. Keys that name no metric (a step counter, `tokens`) are not histories."""
    names: list[str] = []
    for key, value in top.items():
        if not isinstance(key, str) or key.strip().lower() in _STEP_NAMES:
            continue
        if nested and isinstance(value, dict) and _NESTED.match(key.strip()):
            names += add_histories(value, run, spath)
            continue
        if not _METRIC_KEY.search(key):
            continue
        series = _as_series(value)
        if series is None:
            continue
        name = history_metric_name(key)
        run.add_series(Series(name, series[0], series[1], spath))
        names.append(name)
    return names


def read(path: Path, run: Run) -> Source:
    with budget.open_input(path) as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ReadError(f"{path.name}: over {MAX_BYTES >> 20} MiB, not a per-epoch metric history")
    top = _mapping(path, data)
    source = Source(str(path), "history_dict")
    names = add_histories(top, run, str(path))
    if not names:
        raise ReadError(f"{path.name}: no metric with >= {MIN_VALUES} numeric values in the history")
    source.metrics = names
    source.records = max(len(v) if isinstance(v, (list, dict)) else 0 for v in top.values())
    return source


READERS = [Reader(name="history_dict", sniff=sniff, read=read)]
