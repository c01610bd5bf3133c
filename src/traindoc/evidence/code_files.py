"""The run's code files the code readers may read (the lints in detectors/code_lint.py, evidence/ruled_out.py): no
test files (a fix belongs in the code under test, not in its tests), bounded in number and size, each read once per
run and shared by every reader.

A notebook read as a log is code as well: its code cells are the training loop that printed the log, and an
engineer handed the notebook reads them first. `file_texts` holds each such notebook's code cells joined into one
Python text (under the notebook's path; cells Python cannot parse left out), so the code lints read it the way they
read a .py file. No fix is ever placed in it: a plan edits text files, not a notebook's JSON (`is_notebook`)."""

from __future__ import annotations

import functools
import os

from traindoc.evidence import code_sites, stats
from traindoc.ingest.model import Run
from traindoc.ingest.readers import notebook

MAX_BYTES = 2_000_000  # a training script is far below this; bigger .py files are generated or vendored
MAX_FILES = 400


def lintable_files(run: Run) -> list[str]:
    """The run's code files a reader may read: no test files, none over MAX_BYTES, at most MAX_FILES."""
    out = []
    for path in run.code_files[:MAX_FILES]:
        base = os.path.basename(path)
        if base.startswith("test_") or "/tests/" in path.replace(os.sep, "/"):
            continue
        try:
            if os.path.getsize(path) <= MAX_BYTES:
                out.append(path)
        except OSError:
            continue
    return out


def is_notebook(path: str) -> bool:
    return path.lower().endswith(".ipynb")


def notebook_code(path: str) -> tuple[str, list[tuple[int, int]]] | None:
    """Memoised on the file's size and mtime (the lints and their citations each ask): see `_notebook_code`."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _notebook_code(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _notebook_code(path: str, _size: int, _mtime: int) -> tuple[str, list[tuple[int, int]]] | None:
    """A notebook's code cells as one Python text, and (first line in that text, code cell index) per cell kept; None
    when the notebook cannot be read or no cell parses. A cell that does not parse on its own (a syntax error, a
    construct the IPython rewrite missed) is left out rather than losing the whole notebook."""
    nb = notebook.load(path)
    if nb is None:
        return None
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for index, raw in notebook.code_cells(nb):
        src = raw
        if code_sites.parse_python(src, f"{path}[{index}]") is None:
            src = notebook.as_python(raw)  # IPython lines (`!pip ...`, `%matplotlib ...`) made `pass`
            if code_sites.parse_python(src, f"{path}[{index}]") is None:
                continue
        if not src.strip():
            continue
        starts.append((line, index))
        parts.append(src)
        line += src.count("\n") + 2  # the cell's lines and the blank line that separates it from the next
    return ("\n\n".join(parts), starts) if parts else None


def where(path: str, line: int) -> str:
    """`file:line` for a citation; for a notebook's joined code the cell and the line in it."""
    name = os.path.basename(path)
    if is_notebook(path):
        code = notebook_code(path)
        if code is not None:
            start, index = max(((s, i) for s, i in code[1] if s <= line), default=(1, 0))
            return f"{name}, code cell {index}, line {line - start + 1}"
    return f"{name}:{line}"


def notebooks(run: Run) -> list[str]:
    """The notebooks the run's reading took in (a notebook whose outputs were not recognised included: its code
    still says what the loop did)."""
    out = []
    for s in run.sources:
        if is_notebook(s.path) and os.path.isfile(s.path) and s.path not in out:
            out.append(s.path)
    return out[:MAX_FILES]


def file_texts(run: Run) -> dict[str, str]:
    """path -> text of `lintable_files` and of the run's notebooks' code cells (`notebook_code`), read once per run."""
    def load() -> dict[str, str]:
        out = {}
        for path in lintable_files(run):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    out[path] = f.read()
            except OSError:
                continue
        for path in notebooks(run):
            code = notebook_code(path)
            if code is not None:
                out[path] = code[0]
        return out
    return stats.cached(run, "code_file_texts", load)
