"""A per-epoch metric history kept as one mapping of metric name -> values: Keras's `History.history`, and the ways
people save it:

- `json.dump(history.history, f)` (`history.json`; Keras writes a NaN loss as the bare `NaN` JSON allows),
- `print(history.history)` captured in a file (`{'loss': [0.69, 0.51, nan], 'val_loss': [...]}`; under numpy 2 a
  value may print as `np.float32(0.69)`),
- `pickle.dump(history.history, f)` (a bare pickle of a dict of float lists; read with the no-import unpickler,
  readers/_safe_pickle.py, so nothing in the file runs),
- pandas `DataFrame(history.history).to_json()` (each metric a mapping of row index -> value),
- the same history kept per split (`{"train": {"loss": [...]}, "val": {"loss": [...]}}`; Ludwig's
  `training_statistics.json`, `{"training": {"combined": {"loss": [...]}}, "validation": ...}`), the held-out
  split's names becoming eval metrics,
- Sacred's `metrics.json` (`{"loss": {"steps": [...], "values": [...], "timestamps": [...]}}`), with its steps,
- a JSON array of per-epoch records (`json.dump([{"epoch": 1, "train_loss": ...}, ...])`), with its step column;
  skorch's `net.history` as `save_params(f_history=...)` writes it is one: each epoch record opens with its
  `batches` list (per-batch `train_loss` / `valid_loss` and, under an `LRScheduler` callback, `event_lr`); the epoch
  fields are read, and the LR is the one of the epoch's last training batch (or the epoch's own `event_lr`);
- an excerpt of such an array pasted into a thread: a few records with the array's brackets cut and the comma after
  the last one kept (`{"main/loss": ..., "epoch": 9, "iteration": 122600},` -- Chainer's and ESPnet1's `log` report
  is a JSON array of these records). Every record of an excerpt is read, as the text-log reader reads every pasted
  line: the diagnosis's few-point gate, not the reader, decides what two or three points can establish.

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
from traindoc.ingest.names import STEP_KEYS, history_metric_name, pick_step_key
from traindoc.ingest.readers import _safe_pickle
from traindoc.ingest.registry import Reader, ReadError

MAX_BYTES = 16 << 20  # ~1M values; a history is per epoch, a larger file is something else
MIN_VALUES = 3
# above the text-log (0.8 for a .log/.txt name) and JSON-config (<= 0.65) readers, which read such a file as nothing
CONFIDENT = 0.85
# "score": scikit-learn's `validation_scores_` (the estimator's score on its early-stopping split, per iteration)
_METRIC_KEY = re.compile(r"loss|acc|error|perplexity|ppl|f1|bleu|auc|dice|iou|psnr|map|mae|mse|rmse|precision|"
                         r"recall|score|learning_rate|\blr\b", re.IGNORECASE)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|NaN|-?Infinity)"
# one printed entry: 'name': [v, v, ...], each v a number or a numpy scalar's repr np.float32(v)
_PRINTED_ENTRY = re.compile(rf"""(["'])([^"'\n]{{1,80}})\1\s*:\s*\[\s*((?:(?:np\.\w+\()?{_NUMBER}\)?\s*,?\s*)*)\]""")
_PRINTED_VALUE = re.compile(rf"(?:np\.\w+\()?({_NUMBER})\)?")
# what a history shows in its first KiB: a key opening a list of numbers, a pandas index mapping ("0": v) or a Sacred
# record ({"steps": [...]}); a config's `"loss": {"type": ...}` shows none of these
_HEAD_ENTRY = re.compile(rf"""["']([^"'\n]{{1,80}})["']\s*:\s*(?:\[\s*(?:np\.\w+\()?{_NUMBER}|"""
                         r"""\{\s*"-?\d+"\s*:\s*[-\d.N]|\{\s*"(?:steps|values|timestamps)"\s*:\s*\[)""")
# a JSON array of records: its first record holds a metric-named number and a step-like key
_HEAD_RECORD = re.compile(r"""^\[\s*\{[^\[\]{}]{0,4000}\}""")
# skorch's History: each epoch record opens with its list of batch records
_HEAD_SKORCH = re.compile(r"""^\[\s*\{\s*"batches"\s*:\s*\[""")
# an excerpt of a JSON array of records: its first record with no `[` before it
_HEAD_BARE_RECORD = re.compile(r"""^\{[^\[\]{}]{0,4000}\}\s*,""")
EXCERPT_MIN_VALUES = 1  # a pasted excerpt keeps every record it shows (see the module docstring)
_SKORCH_LR = "event_lr"  # what skorch's LRScheduler callback records, per batch or per epoch
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
    if text.startswith("["):
        if _HEAD_SKORCH.match(text):
            return CONFIDENT if '"epoch"' in text and _METRIC_KEY.search(text) else 0.0
        first = _HEAD_RECORD.match(text)
        return CONFIDENT if first is not None and _is_record(first.group(0)[1:]) else 0.0
    if not text.startswith("{"):
        return 0.0
    bare = _HEAD_BARE_RECORD.match(text)
    if bare is not None and _is_record(bare.group(0).rstrip().rstrip(",")):
        return CONFIDENT
    keys = [m.group(1) for m in _HEAD_ENTRY.finditer(text[:4096])]
    return CONFIDENT if any(_METRIC_KEY.search(k) for k in keys) else 0.0


def _is_record(text: str) -> bool:
    """True when `text` is one JSON object with a step-like key and a metric-named number: a per-epoch record."""
    try:
        record = json.loads(text.strip())
    except ValueError:
        return False
    if not isinstance(record, dict):
        return False
    keys = {str(k).lower() for k in record}
    numeric = [k for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return bool(keys & _STEP_NAMES) and any(_METRIC_KEY.search(str(k)) for k in numeric)


def _records_excerpt(text: str) -> list[Any] | None:
    """The records of a pasted excerpt of a JSON array of records (brackets cut, a trailing comma kept), or None."""
    body = text.strip()
    if not body.startswith("{"):
        return None
    body = body.rstrip().rstrip(",").rstrip()
    if body.endswith("]"):  # the array's end kept, its start cut
        body = body[:-1].rstrip().rstrip(",")
    try:
        top = json.loads(f"[{body}]")
    except (ValueError, RecursionError):
        return None
    if isinstance(top, list) and top and all(isinstance(r, dict) for r in top):
        return top
    return None


def _mapping(path: Path, data: bytes) -> dict[str, Any] | list[Any]:
    """The file's name -> values mapping (or its list of records), or ReadError."""
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
    if isinstance(top, (dict, list)):
        return top
    excerpt = _records_excerpt(text)
    if excerpt is not None:
        return _Excerpt(excerpt)
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
    if isinstance(value, dict) and isinstance(value.get("values"), list):  # Sacred: steps / values / timestamps
        vals = _as_series(value["values"])
        steps = value.get("steps")
        if vals is None:
            return None
        if isinstance(steps, list) and len(steps) == len(vals[1]) and all(
                isinstance(x, int) and not isinstance(x, bool) for x in steps):
            return np.asarray(steps), vals[1]
        return vals
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


# the splits a history is kept under: a held-out one makes its metrics eval metrics (`val` / `loss` -> eval_loss)
_SPLITS = {"train": "", "training": "", "val": "val_", "valid": "val_", "validation": "val_", "eval": "val_",
           "evaluation": "val_", "dev": "val_", "test": "test_"}
_MAX_DEPTH = 3


def add_histories(top: dict[Any, Any], run: Run, spath: str, nested: bool = False, prefix: str | None = None,
                  depth: int = 0, seen: set[str] | None = None) -> list[str]:
    """Add every metric-named history of `top` (name -> list of numbers, a pandas index -> number mapping, or a
    Sacred steps/values record) to the run. Histories kept per split (`train` / `val` / `validation` / `test` keys,
    and the levels below one, as Ludwig's output features) are read with the split in their name; with `nested`,
    those one level down under a container key ("history", "metrics", ...) too. Returns the canonical names
    added, each once (the first history of a name wins). Keys that name no metric (a step counter, `tokens`) are
    not histories."""
    seen = set() if seen is None else seen
    names: list[str] = []
    for key, value in top.items():
        if not isinstance(key, str) or key.strip().lower() in _STEP_NAMES:
            continue
        split = _SPLITS.get(key.strip().lower())
        if isinstance(value, dict) and depth < _MAX_DEPTH and (
                split is not None or prefix is not None and not _METRIC_KEY.search(key)):
            # a split (`val`), or a group inside one (Ludwig's `combined` / an output feature)
            names += add_histories(value, run, spath, prefix=prefix if split is None else split, depth=depth + 1,
                                   seen=seen)
            continue
        if nested and isinstance(value, dict) and _NESTED.match(key.strip()):
            names += add_histories(value, run, spath, depth=depth + 1, seen=seen)
            continue
        if not _METRIC_KEY.search(key):
            continue
        series = _as_series(value)
        name = history_metric_name((prefix or "") + key)
        if series is None or name in seen:
            continue
        run.add_series(Series(name, series[0], series[1], spath))
        seen.add(name)
        names.append(name)
    return names


class _Excerpt(list):  # type: ignore[type-arg]
    """The records of a pasted excerpt (read with EXCERPT_MIN_VALUES, not MIN_VALUES)."""


def add_records(records: list[Any], run: Run, spath: str) -> list[str]:
    """A JSON array of per-epoch records: each numeric, metric-named field a series on the records' step column
    (`pick_step_key`, else `epoch`, else the record's position)."""
    least = EXCERPT_MIN_VALUES if isinstance(records, _Excerpt) else MIN_VALUES
    rows = [r for r in records if isinstance(r, dict)]
    if len(rows) < least:
        return []
    keys = {k for r in rows[:100] for k in r if isinstance(k, str)}
    step_key = pick_step_key(keys) or next((k for k in keys if k.lower() in _STEP_NAMES), None)
    columns: dict[str, tuple[list[float], list[float]]] = {}
    for i, r in enumerate(rows):
        step = r.get(step_key) if step_key else i + 1
        if not isinstance(step, (int, float)) or isinstance(step, bool):
            continue
        lr = _skorch_lr(r)
        if lr is not None:
            col = columns.setdefault("lr", ([], []))
            col[0].append(step)
            col[1].append(lr)
        for k, v in r.items():
            if k == step_key or not isinstance(k, str) or not _METRIC_KEY.search(k):
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                col = columns.setdefault(k, ([], []))
                col[0].append(step)
                col[1].append(float(v))
    names = []
    for k, (steps, vals) in columns.items():
        name = history_metric_name(k)
        if len(vals) >= least and name not in names:
            run.add_series(Series(name, np.asarray(steps), np.asarray(vals, dtype=np.float64), spath))
            names.append(name)
    return names


def _skorch_lr(record: dict[str, Any]) -> float | None:
    """The LR a skorch epoch record carries: its own `event_lr` (an epoch-stepped scheduler), else that of its last
    training batch (a batch-stepped one); None when no LRScheduler recorded one."""
    v = record.get(_SKORCH_LR)
    if v is None:
        batches = record.get("batches")
        train = [b for b in batches if isinstance(b, dict) and _SKORCH_LR in b] if isinstance(batches, list) else []
        v = train[-1][_SKORCH_LR] if train else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


# a file name's words: `history_val.json`, `val-history.json`, `valHistory` is not split (one word)
_NAME_WORD = re.compile(r"[^A-Za-z]+")
# a key that already names its split keeps it (`val_loss` in `history_val.json` is not `val_val_loss`)
_SPLIT_KEY = re.compile(r"^(?:train|training|val|valid|validation|eval|evaluation|dev|test)[_/.\s-]",
                        re.IGNORECASE)


# the words that make a file name a validation split's; not `test` or `dev`, which also name a trial run of a script
# (`history_test.json` of a quick test), whose keys are then the training ones
_FILE_HELD_OUT = {"val", "valid", "validation", "eval", "evaluation"}


def file_split(path: Path) -> str | None:
    """The held-out split a history file's name gives its metrics (`history_val.json` -> "val_"), or None: ALIGNN
    writes `history_train.json` and `history_val.json`, the same `loss` / `mae` keys in each, and the split is said
    only by the file. A name with both a training and a held-out word (`train_val_history.json`) says nothing about
    the split of its keys."""
    words = {w.lower() for w in _NAME_WORD.split(path.name.rsplit(".", 1)[0]) if w}
    if words & {"train", "training"} or not words & _FILE_HELD_OUT:
        return None
    return "val_"


def read(path: Path, run: Run) -> Source:
    with budget.open_input(path) as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ReadError(f"{path.name}: over {MAX_BYTES >> 20} MiB, not a per-epoch metric history")
    top = _mapping(path, data)
    source = Source(str(path), "history_dict")
    split = file_split(path)
    if split is not None and isinstance(top, dict) and not isinstance(top, _Excerpt):
        top = {(k if not isinstance(k, str) or _SPLIT_KEY.match(k) or k.strip().lower() in _STEP_NAMES
                or k.strip().lower() in _SPLITS else split + k): v for k, v in top.items()}
    names = add_records(top, run, str(path)) if isinstance(top, list) else add_histories(top, run, str(path))
    if not names:
        least = EXCERPT_MIN_VALUES if isinstance(top, _Excerpt) else MIN_VALUES
        raise ReadError(f"{path.name}: no metric with >= {least} numeric values in the history")
    source.metrics = names
    source.records = max(len(run.series(n) or ()) for n in names)
    return source


READERS = [Reader(name="history_dict", sniff=sniff, read=read)]
