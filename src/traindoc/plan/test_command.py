"""The command `traindoc apply` runs to test the project: an argv list (never a shell string), derived from the
project's layout alone.

Nothing here runs anything: a project someone else prepared may ship a `.venv/bin/python` that is not an
interpreter at all. The command is shown in the plan and hashed into its id, and apply re-derives it and runs the
plan's command only if both agree, so a plan file cannot carry a command of its own (see docs/plan-apply-verify.md).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from pathlib import Path


def _python(root: Path) -> str:
    """The interpreter for the project's tests, chosen by where it lies, never by running it.

    The project's own environment first (its tests import its dependencies; traindoc's backend may live in a small
    venv of its own with no pytest, see install.sh), then the active virtualenv, then the interpreter running
    traindoc if it can find pytest, then python3 on PATH.
    """
    for venv in (root / ".venv", root / "venv"):
        if os.path.exists(venv / "bin" / "python"):
            return str(venv / "bin" / "python")
    active = os.environ.get("VIRTUAL_ENV")
    if active and os.path.exists(Path(active) / "bin" / "python"):
        return str(Path(active) / "bin" / "python")
    if importlib.util.find_spec("pytest") is not None:
        return sys.executable
    return shutil.which("python3") or sys.executable


def argv_for_tests(root: Path) -> list[str]:
    """pytest on `tests/` (else the root), with no cache folder written into the project (`-p no:cacheprovider`)
    and the failing tests named in the summary (`-rfE`), which apply's baseline comparison reads. No -q: a
    project's own addopts may already add one, and -qq drops the "N passed" line apply reports."""
    target = "tests" if (root / "tests").is_dir() else "."
    return [_python(root), "-m", "pytest", "-p", "no:cacheprovider", "-rfE", target]


def shown_command(argv: list[str] | str) -> str:
    """The command as a person reads (and could paste) it."""
    return argv if isinstance(argv, str) else shlex.join(argv)
