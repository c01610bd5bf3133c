"""Reader registry. Every module in `traindoc.ingest.readers` exposes `READERS: list[Reader]`; they are found
by import, so adding a format means adding one module and nothing else.

A reader's `sniff(path, head)` returns 0..1: how sure it is that it can read `path` (`head` is the first 64 KiB,
b"" for a directory). The loader gives each file to the most confident reader. `read(path, run)` appends to the
run and returns the `Source` it describes; it raises `ReadError` (one line, for the user) when the file is of its
format but broken. Readers stream: never `read()` a whole large file into memory.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from traindoc.ingest.model import Run, Source


class ReadError(Exception):
    """A file of a known format that could not be read; the message is one line for the user."""


@dataclass(frozen=True)
class Reader:
    name: str  # format name reported in run.sources, e.g. "tensorboard"
    sniff: Callable[[Path, bytes], float]
    read: Callable[[Path, Run], Source]
    handles_dirs: bool = False  # True for folder formats (MLflow file store, W&B run folder)
    # a folder reader's own files that other readers read (a W&B run's console capture): the loader offers them
    passthrough: Callable[[Path], list[Path]] | None = None


def all_readers() -> list[Reader]:
    return list(_found())


@functools.cache
def _found() -> tuple[Reader, ...]:
    """The readers, found once per process: listing the package folder and importing on every load cost ~1 ms per
    run, a visible share of loading a small run (tools/evaluate.py loads the 1,232 corpus runs)."""
    from traindoc.ingest import readers as pkg

    found: list[Reader] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        found.extend(getattr(module, "READERS", []))
    return tuple(found)
