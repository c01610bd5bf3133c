"""Run the project's tests once (argv, no shell) and read what happened: counts, failing tests by name, "no tests
ran", and any file the run left in the project.

A test run must leave the project as it found it: bytecode is not written (PYTHONDONTWRITEBYTECODE), pytest's
cache is off in the default command (`-p no:cacheprovider`), and the folders test tools drop in the working
directory (`.pytest_cache`, `__pycache__`, `.benchmarks`, `.hypothesis`, `.coverage`) are removed again if this
run created them. Any other file the tests created is reported, not deleted: it may be the project's own doing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from traindoc.plan.test_command import shown_command

BYPRODUCTS = {".pytest_cache", "__pycache__", ".benchmarks", ".hypothesis", ".coverage"}
SKIP_WALK = {".git", ".traindoc", ".venv", "venv", "node_modules"}
MAX_WALK = 200_000  # entries; a bigger tree is not checked for leftovers (said in the report)
MAX_NAMES = 200  # failing tests listed by name
TAIL = 4000

_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")
# pytest's short summary (-rfE): "FAILED tests/test_x.py::test_y - AssertionError" / "ERROR tests/test_z.py"
_NAMED = re.compile(r"^(FAILED|ERROR) (\S+)")
_NO_TESTS = re.compile(r"\bno tests ran\b|collected 0 items")


def _walk(root: Path) -> set[str] | None:
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if not (rel == "." and d in SKIP_WALK)]
        for name in dirnames + filenames:
            seen.add(os.path.normpath(os.path.join(rel, name)))
        if len(seen) > MAX_WALK:
            return None
    return seen


def _clean_new(root: Path, before: set[str] | None) -> tuple[list[str], list[str]]:
    """(byproduct folders/files removed, other new files) since `before`."""
    after = _walk(root) if before is not None else None
    if before is None or after is None:
        return [], []
    new = sorted(after - before)
    removed, created = [], []
    for rel in new:
        if any(rel.startswith(r + os.sep) for r in removed):
            continue
        path = root / rel
        if Path(rel).name in BYPRODUCTS:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(rel)
        elif not path.is_dir() or path.is_symlink():
            created.append(rel)
    return removed, created[:50]


TEST_FILE = re.compile(r"(test_.*|.*_test)\.py")  # pytest's default python_files
CONFIGS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini")
PYTEST_SECTION = re.compile(r"^\[(pytest|tool:pytest|tool\.pytest[.\w]*)\]", re.M)
NO_TESTS_FOUND = ("no tests found (no test_*.py or *_test.py file, no conftest.py and no pytest configuration in "
                  "the project): pytest was not started")


def tests_found(root: Path) -> bool:
    """Whether pytest's default discovery could collect anything in `root`, decided by reading names only: a
    test_*.py / *_test.py file or a conftest.py (a plugin may collect other files) anywhere in it, or a pytest
    configuration (it may name other files) in it or a folder above, as pytest looks for its rootdir. A tree too big
    to walk counts as having tests: pytest runs and says."""
    for folder in (root, *root.parents):
        for name in CONFIGS:
            cfg = folder / name
            if cfg.is_file() and (name in ("pytest.ini", ".pytest.ini") or PYTEST_SECTION.search(
                    cfg.read_text(encoding="utf-8", errors="replace")[:1_000_000])):
                return True
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_WALK]
        seen += len(dirnames) + len(filenames)
        if seen > MAX_WALK or any(TEST_FILE.fullmatch(f) or f == "conftest.py" for f in filenames):
            return True
    return False


def none_found(argv: list[str]) -> dict[str, Any]:
    """The outcome of a test run that was not started because the project has no tests (tests_found): said as
    "no tests found", which is never a pass (ok only in that it blocks nothing)."""
    return {"command": shown_command(argv), "passed": 0, "failed": 0, "failing": [], "exit_code": None,
            "no_tests": True, "ok": True, "not_run": NO_TESTS_FOUND, "removed_byproducts": [], "created_files": [],
            "output_tail": ""}


def run_tests(argv: list[str], root: Path) -> dict[str, Any]:
    """Run `argv` in `root` (its own process group, killed whole on time-out) and summarise the outcome."""
    timeout = float(os.environ.get("TRAINDOC_TEST_TIMEOUT", "1800"))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    before = _walk(root)
    with tempfile.TemporaryFile() as out:  # output to a file: a chatty suite costs no memory here
        try:
            proc = subprocess.Popen(argv, cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        except OSError as e:
            code, note = 127, f"cannot run {shown_command(argv)}: {e.strerror or e}"
        else:
            note = ""
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code, note = proc.wait(), f"(timed out after {timeout:.0f}s; killed)"
        out.seek(0)
        counts_line, names, no_tests, tail = "", [], False, b""
        for raw in out:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if _COUNT.search(line):
                counts_line = line
            m = _NAMED.match(line)
            if m and len(names) < MAX_NAMES and m.group(2) not in names:
                names.append(m.group(2))
            no_tests |= bool(_NO_TESTS.search(line))
            tail = (tail + raw)[-TAIL:]
    counts: dict[str, int] = {}
    for n, what in _COUNT.findall(counts_line):
        counts[what.rstrip("s") if what.startswith("error") else what] = int(n)
    passed = counts.get("passed", 0)
    failed = counts.get("failed", 0) + counts.get("error", 0)
    # pytest exit 5: no tests were collected. That is neither a pass nor a failure, and never "all pass".
    no_tests = (code == 5 or no_tests) and passed == 0 and failed == 0
    removed, created = _clean_new(root, before)
    output = tail.decode("utf-8", "replace") + (f"\n{note}" if note else "")
    return {"command": shown_command(argv), "passed": passed, "failed": failed, "failing": names,
            "exit_code": code, "no_tests": no_tests, "ok": code == 0 or no_tests,
            "removed_byproducts": removed, "created_files": created, "output_tail": output[-TAIL:]}


def new_failures(baseline: dict[str, Any] | None, after: dict[str, Any]) -> list[str] | None:
    """Tests failing after the change that did not fail before ([] none; None: the run failed and no test
    names tell what is new, so every failure counts as new)."""
    if after["ok"]:
        return []
    if baseline is None or baseline["ok"]:
        return after["failing"] or None
    if after["failing"] and baseline["failing"]:
        return [n for n in after["failing"] if n not in baseline["failing"]]
    # no names to compare (not pytest, or no -rfE): only a run that fails more than the baseline did is worse
    return [] if after["failed"] <= baseline["failed"] and after["exit_code"] == baseline["exit_code"] else None


def summary(t: dict[str, Any]) -> str:
    """'3 passed', '2 passed, 1 failed (tests/test_x.py::test_y)', 'no tests ran (pytest exit 5)'."""
    if t.get("not_run"):
        return "no tests found"
    if t["no_tests"]:
        return f"no tests ran (exit {t['exit_code']})"
    text = f"{t['passed']} passed, {t['failed']} failed"
    if t["failing"]:
        text += f" ({', '.join(t['failing'][:10])}{', ...' if len(t['failing']) > 10 else ''})"
    elif not t["ok"]:
        text += f" (exit {t['exit_code']})"
    return text
