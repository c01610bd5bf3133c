"""A metric history printed as one array: what `print(history.history["val_loss"])` or a notebook cell showing a
numpy array leaves (`[0.91, 0.72, ...]`, `array([434.28, 317.38, ...])`), saved to a file of its own.

The file holds nothing but the array, so nothing in it names the metric: its name comes from the file's stem
(`val_loss_history.txt` -> `val_loss`, through the canonical names), and a stem that names no metric reads nothing.
An array cut off before its closing bracket (an excerpt, as a thread shows it) reads the values it shows.
Each value is one epoch, in order (a Keras `History` list and the arrays made from it have one value per epoch), so
the steps are 1..n.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Series, Source
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.registry import Reader, ReadError

MAX_BYTES = 4 << 20  # a history of ~200k values; a larger file is not a pasted array
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)"
# the whole text: an optional numpy wrapper (`array(` ... `)`, a `dtype=` tail), brackets, numbers and separators
# one separator (a comma, or whitespace alone as numpy prints) between numbers: never empty, so a run of digits has
# one reading and a text that is not an array fails in linear time
_ARRAY = re.compile(rf"\s*(?:array\(\s*)?\[\s*({_NUMBER}(?:(?:\s*,\s*|\s+){_NUMBER})*)\s*(?:,\s*)?"
                    r"(?:\](?:\s*,\s*dtype=\w+)?\s*\)?\s*)?", re.IGNORECASE)  # no closing bracket: a pasted excerpt
_METRIC_WORDS = re.compile(r"loss|acc|error|perplexity|ppl|f1|bleu|auc|dice|iou|psnr|map", re.IGNORECASE)
_NOISE = re.compile(r"(?:^|[_\-. ])(?:history|hist|values|list|array)(?=$|[_\-. ])", re.IGNORECASE)
MIN_VALUES = 3


def _metric_name(path: Path) -> str | None:
    stem = _NOISE.sub("", path.stem).strip("_-. ")
    if not stem or not _METRIC_WORDS.search(stem):
        return None
    return canonical_metric(stem)


def _values(text: str) -> np.ndarray | None:
    m = _ARRAY.fullmatch(text)
    if m is None:
        return None
    vals = np.array([float(t) for t in re.findall(_NUMBER, m.group(1), re.IGNORECASE)], dtype=np.float64)
    return vals if vals.size >= MIN_VALUES else None


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or len(head) >= MAX_BYTES or _metric_name(path) is None:
        return 0.0
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return 0.0
    return 0.7 if _values(text) is not None else 0.0


def read(path: Path, run: Run) -> Source:
    name = _metric_name(path)
    with budget.open_input(path) as f:  # confined and metered like every reader; a UTF-16 file comes as UTF-8
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES or name is None:
        raise ReadError(f"{path.name}: not a printed metric array (over {MAX_BYTES >> 20} MiB or no metric name)")
    vals = _values(data.decode("utf-8", errors="replace"))
    if vals is None:
        raise ReadError(f"{path.name}: not a printed array of numbers")
    run.add_series(Series(name, np.arange(1, vals.size + 1), vals, str(path)))
    return Source(str(path), "printed_array", [name], int(vals.size))


READERS = [Reader(name="printed_array", sniff=sniff, read=read)]
