"""Metric histories saved with numpy: `np.save("train_losses.npy", losses)` (one array, the file's stem names the
metric, as in readers/printed_array.py) and `np.savez("history.npz", loss=..., val_loss=...)` (one array per
keyword, the keyword names it).

Only what is a history is read: a 1-D array (or an n x 1 / 1 x n column) of a numeric dtype, named by a metric word
(`history_metric_name`: `train_losses` -> loss, `val_accs` -> eval_accuracy); anything else in a run's folder (a
dataset, embeddings, images) is left alone. Arrays are read with `allow_pickle=False`, so an object array (a pickle
inside the file) is never unpickled, and sizes come from the header before any data is read: a history over
MAX_VALUES values, an archive member over its byte cap or an archive of more than MAX_MEMBERS arrays is not read.
Each value is one logged point, in order: steps 1..n.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Series, Source
from traindoc.ingest.names import history_metric_name
from traindoc.ingest.registry import Reader, ReadError

MAX_VALUES = 1_000_000  # a per-step history of a long run; a larger array is data, not a curve
MAX_MEMBERS = 64
MAX_MEMBER_BYTES = 8 * MAX_VALUES + 4096
MIN_VALUES = 3
_MAGIC = b"\x93NUMPY"
_METRIC_WORDS = re.compile(r"loss|acc|error|perplexity|ppl|f1|bleu|auc|dice|iou|psnr|map|mae|mse|lr|learning_rate|"
                           r"grad_norm|reward|score", re.IGNORECASE)


def _name(raw: str) -> str | None:
    return history_metric_name(raw) if _METRIC_WORDS.search(raw) else None


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir():
        return 0.0
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return 0.8 if head.startswith(_MAGIC) and _name(path.stem) else 0.0
    if suffix == ".npz":
        return 0.8 if head.startswith(b"PK\x03\x04") else 0.0
    return 0.0


def _array(f: IO[bytes]) -> np.ndarray | None:
    """A history from an open .npy stream, or None when the header says it is not one (read nothing more then)."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, SyntaxError):
        return None
    if dtype.hasobject or dtype.kind not in "fiub" or len(shape) not in (1, 2):
        return None
    if len(shape) == 2 and min(shape) != 1:
        return None
    n = int(np.prod(shape))
    if not MIN_VALUES <= n <= MAX_VALUES:
        return None
    data = f.read(n * dtype.itemsize)
    if len(data) != n * dtype.itemsize:
        return None  # cut off: the header promised more than the file holds
    return np.frombuffer(data, dtype=dtype).astype(np.float64)


def read(path: Path, run: Run) -> Source:
    source = Source(str(path), "numpy_array")
    names: list[str] = []
    with budget.open_input(path) as f:
        if path.suffix.lower() == ".npy":
            name = _name(path.stem)
            values = _array(f) if name else None
            if name is None or values is None:
                raise ReadError(f"{path.name}: not a 1-D numeric metric history (named by a metric word)")
            run.add_series(Series(name, np.arange(1, values.size + 1), values, str(path)))
            names.append(name)
        else:
            try:
                archive = zipfile.ZipFile(f)
            except (zipfile.BadZipFile, OSError):
                raise ReadError(f"{path.name}: not a readable .npz archive") from None
            with archive:
                members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
                if len(members) > MAX_MEMBERS:
                    raise ReadError(f"{path.name}: {len(members)} arrays, more than a metric history holds")
                for info in members:
                    name = _name(info.filename[:-4])
                    if name is None or info.file_size > MAX_MEMBER_BYTES:
                        continue
                    try:
                        with archive.open(info) as member:
                            values = _array(member)
                    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
                        continue
                    if values is not None:
                        run.add_series(Series(name, np.arange(1, values.size + 1), values, str(path)))
                        names.append(name)
            if not names:
                raise ReadError(f"{path.name}: no 1-D numeric array named by a metric word")
    source.metrics = names
    source.records = max(len(run.series(n) or ()) for n in names)
    return source


READERS = [Reader(name="numpy_array", sniff=sniff, read=read)]
