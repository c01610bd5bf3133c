"""Kill `traindoc apply` (SIGKILL) at every file operation of the protocol and at random ones: no file is ever
corrupted or half-written (each is byte-equal to its old or its new content), and recovery leaves all files old or
all new, with no temp file or journal left behind."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from test_plan_fixtures import make_project, snapshot
from traindoc.apply import transaction
from traindoc.apply.run import apply_plan
from traindoc.apply.transaction import recover
from traindoc.plan.build import build_plan

TRIALS = 100


def _setup(tmp_path: Path):
    root, diag = make_project(tmp_path)
    plan = build_plan(json.loads(diag.read_text()), str(diag), root=str(root))
    old = snapshot(root)
    # the new state: apply once (counting the file operations), then put the old state back
    transaction.reset_op_counter()
    out = apply_plan(plan, plan["plan_id"], run_the_tests=False)
    assert out.report["status"] == "applied"
    total_ops = transaction._ops
    new = snapshot(root)
    _restore(root, old)
    return root, plan, old, new, total_ops


def _restore(root: Path, state: dict[str, bytes]) -> None:
    shutil.rmtree(root / ".traindoc", ignore_errors=True)
    for p in list(root.rglob("*")):
        if p.is_file() and str(p.relative_to(root)) not in state:
            p.unlink()
    for rel, data in state.items():
        (root / rel).write_bytes(data)


def _check_each_file_old_or_new(root: Path, old: dict[str, bytes], new: dict[str, bytes]) -> str:
    """'old', 'new' or 'mixed' for the project as a whole; asserts every single file is whole."""
    now = snapshot(root)
    stray = set(now) - set(old) - set(new)
    assert not {s for s in stray if not s.endswith(".tmp")}, stray  # only our temp files may be extra
    states = set()
    for rel in set(old) | set(new):
        got = now.get(rel)
        assert got == old.get(rel) or got == new.get(rel), f"{rel} is neither old nor new"
        if old.get(rel) != new.get(rel):
            states.add("old" if got == old.get(rel) else "new")
    return states.pop() if len(states) == 1 else "mixed"


def _kill_at(root: Path, plan: dict, n: int) -> int:
    """Fork; the child applies with TRAINDOC_CRASH_AFTER=n and dies by SIGKILL at that file operation."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.environ["TRAINDOC_CRASH_AFTER"] = str(n)
            transaction.reset_op_counter()
            out = apply_plan(plan, plan["plan_id"], run_the_tests=False)
            os._exit(0 if out.report["status"] == "applied" else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    return status


def test_sigkill_at_any_file_operation_never_corrupts(tmp_path: Path) -> None:
    root, plan, old, new, total = _setup(tmp_path)
    assert total > 10
    rng = random.Random(1234)
    points = list(range(1, total + 2))  # every operation, and one past the end (no kill)
    points += [rng.randint(1, total + 1) for _ in range(TRIALS - len(points))]
    outcomes = {"old": 0, "new": 0}
    killed = 0
    for n in points[:TRIALS]:
        _restore(root, old)
        status = _kill_at(root, plan, n)
        was_killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        killed += was_killed
        assert was_killed or os.WEXITSTATUS(status) == 0, f"trial {n}: exit status {status}"
        _check_each_file_old_or_new(root, old, new)  # the instant after the crash
        recover(root)
        state = _check_each_file_old_or_new(root, old, new)
        assert state in ("old", "new"), f"kill at op {n}: files mixed after recovery"
        assert snapshot(root) == (old if state == "old" else new)  # no temp files left
        journal = root / ".traindoc" / "journal"
        assert not journal.exists() or not list(journal.iterdir())
        outcomes[state] += 1
    assert killed >= TRIALS - 10  # almost every trial really died mid-apply
    assert outcomes["old"] > 0 and outcomes["new"] > 0  # both ends of the protocol were hit


def test_sigkilled_cli_is_recovered_by_the_next_run(tmp_path: Path) -> None:
    """The real command line: killed mid-apply, then `traindoc apply --recover` puts everything back."""
    root, plan, old, new, total = _setup(tmp_path)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    for n in (total // 3, total // 2, total - 2):
        _restore(root, old)
        env = {**os.environ, "TRAINDOC_CRASH_AFTER": str(n)}
        proc = subprocess.run([sys.executable, "-m", "traindoc", "apply", str(plan_path), "--approve",
                               plan["plan_id"], "--no-tests"], env=env, capture_output=True)
        assert proc.returncode == -signal.SIGKILL
        _check_each_file_old_or_new(root, old, new)
        proc = subprocess.run([sys.executable, "-m", "traindoc", "apply", "--recover", str(plan_path)],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and "interrupted" in proc.stderr
        assert snapshot(root) in (old, new)
