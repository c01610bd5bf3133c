"""The run's code files the code readers may read (the lints in detectors/code_lint.py, evidence/ruled_out.py): no
test files (a fix belongs in the code under test, not in its tests), bounded in number and size, each read once per
run and shared by every reader."""

from __future__ import annotations

import os

from traindoc.evidence import stats
from traindoc.ingest.model import Run

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


def file_texts(run: Run) -> dict[str, str]:
    """path -> text of `lintable_files`, read once per run."""
    def load() -> dict[str, str]:
        out = {}
        for path in lintable_files(run):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    out[path] = f.read()
            except OSError:
                continue
        return out
    return stats.cached(run, "code_file_texts", load)
