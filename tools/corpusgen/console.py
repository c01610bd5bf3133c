"""Capture a run's console as a terminal would show it: file descriptors 1 and 2 redirected into train.log for the
duration of the run, so library loggers, warnings and progress bars written by C or Python all land in it."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def captured(path: Path):
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            _neutral_paths(path)


# Warnings and tracebacks name the files they come from: the generating machine's virtual environment and checkout.
# A committed log names neither (the repository cites no path outside itself); the same lines are written as a user's
# machine would show them, under a home folder.
_REPO = Path(__file__).resolve().parents[2]


def _neutral_paths(path: Path) -> None:
    text = path.read_bytes()
    for here, there in ((sys.prefix, "/home/user/.venv"), (str(_REPO), "/home/user/project")):
        text = text.replace(here.encode(), there.encode())
    path.write_bytes(text)
