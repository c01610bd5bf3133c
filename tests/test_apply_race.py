"""Two `traindoc apply` processes at once, and `traindoc apply --recover` during an apply, on real files: they
serialise (the later one refuses with a clear message), and every file ends whole, all old or all new.

Before the fix the second process "recovered" (undid) the first one's live journal outside the lock: the first
then reported "applied" over files that were part old, part new (issue 12)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from traindoc.plan.build import compute_plan_id

N_FILES = 6
LINES = 50_000  # ~1 MB per file; the first apply also holds a 1 s test phase, the widest window for the race
TRIALS = 2  # one race while the first apply writes its files, one while its tests run


def _project(tmp: Path) -> tuple[Path, Path, dict[str, str], dict[str, str], dict[str, str]]:
    root = tmp / "proj"
    root.mkdir()
    changes, old, new, texts = [], {}, {}, {}
    body = "".join(f"row {i} = {i * 7 % 1000}\n" for i in range(LINES))
    for k in range(N_FILES):
        rel = f"data_{k}.cfg"
        text = f"lr = 0.{k}1\n" + body
        (root / rel).write_text(text)
        texts[rel] = text
        old[rel] = hashlib.sha256(text.encode()).hexdigest()
        after = f"lr = 0.{k}05\n"
        new[rel] = hashlib.sha256((after + body).encode()).hexdigest()
        changes.append({"file": rel, "line": 1, "before": f"lr = 0.{k}1\n", "after": after, "description": "halve",
                        "cause": "lr_too_high", "kind": "config", "impact": "high", "effort": "low", "risk": "low",
                        "file_sha256": old[rel]})
    plan = {"schema_version": "1.0", "plan_id": "", "root": str(root), "diagnosis": "", "fixes": [],
            "changes": changes, "tests": {"add": [], "run": []}, "verification": {}, "notes": []}
    plan["plan_id"] = compute_plan_id(plan)
    path = tmp / "plan.json"
    path.write_text(json.dumps(plan))
    return root, path, old, new, texts


def _state(root: Path, old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = []
    for rel in old:
        h = hashlib.sha256((root / rel).read_bytes()).hexdigest()
        out.append("old" if h == old[rel] else "new" if h == new[rel] else "corrupt")
    return out


# `traindoc ARGS` in a process that has already imported the command line and waits for a line on stdin: the
# race then starts at a known instant, not after an interpreter start-up of unknown length
_READY = ("import sys, traindoc.cli, traindoc.apply.command; print('ready', flush=True); sys.stdin.readline(); "
          "sys.exit(traindoc.cli.main(sys.argv[1:]))")


def _start(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _READY, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _go(*procs: subprocess.Popen) -> None:
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()


def test_concurrent_applies_and_recover_serialise(tmp_path: Path) -> None:
    root, plan_path, old, new, texts = _project(tmp_path)
    plan_id = json.loads(plan_path.read_text())["plan_id"]
    slow_tests = f"{sys.executable} -c 'import time; time.sleep(1.0)'"
    journal = root / ".traindoc" / "journal"
    for trial in range(TRIALS):
        for rel, text in texts.items():  # back to the old state
            (root / rel).write_text(text)
        assert _state(root, old, new) == ["old"] * N_FILES
        first = _start("apply", str(plan_path), "--approve", plan_id, "--test-cmd", slow_tests)
        second = _start("apply", str(plan_path), "--approve", plan_id, "--no-tests")
        third = _start("apply", "--recover", str(root))
        _go(first)
        deadline = time.monotonic() + 60
        # the others start the moment the first one has a journal (it is then writing the files or testing)
        while time.monotonic() < deadline and not (journal.is_dir() and any(
                not p.name.startswith(".") for p in journal.iterdir())) and first.poll() is None:
            time.sleep(0.001)
        if trial == 1:
            time.sleep(0.5)  # well into the first one's test phase
        _go(second, third)
        outs = [p.communicate(timeout=120) for p in (first, second, third)]
        codes = [p.returncode for p in (first, second, third)]
        states = _state(root, old, new)
        assert "corrupt" not in states and len(set(states)) == 1, (trial, states, outs)
        assert codes[0] == 0 and states[0] == "new", (trial, outs[0])  # the first one applied, and it stuck
        assert codes[1] == 1, outs[1]  # the second refused (lock held, or the files are new now: stale)
        assert "another traindoc apply" in outs[1][1] or "stale" in outs[1][1], outs[1][1]
        for _, err in outs:
            assert "Traceback" not in err, err
        assert not journal.is_dir() or not list(journal.iterdir())
