"""Reading a text log the way the text reader alone sees it, for reader and detector tests that write a few lines."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log


def read(path: Path) -> Run:
    """The run the text reader makes of one file, finalised (series sorted, aliases merged)."""
    run = Run()
    text_log.read(path, run)
    run.finalize()
    return run


def read_text(tmp_path: Path, text: str, name: str = "train.log") -> Run:
    """`text` written to tmp_path/name and read as above."""
    path = tmp_path / name
    path.write_text(text)
    return read(path)
