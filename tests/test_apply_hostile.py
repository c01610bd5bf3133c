"""A project someone else prepared cannot turn `traindoc plan` / `traindoc apply` against its user (issue 12):
a planted journal, a `.traindoc` or lock that is a symlink out of the project, a `.venv/bin/python` that plan would
run, and a plan file that carries its own test command. Each test plants the attack, runs the real command line and
checks that nothing outside the project (and no file in it) was touched, and that the answer is one clear line."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_plan_fixtures import make_project, root_cause, snapshot
from traindoc.causes import CAUSES
from traindoc.cli import main
from traindoc.plan.build import build_plan, compute_plan_id


def traindoc(*args: str) -> subprocess.CompletedProcess:
    """The command line, in this process (a fresh interpreter per call would make this file slow)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def tree(path: Path) -> dict[str, bytes]:
    """Every file and folder under `path` (symlinks not followed), with file bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(path))] = p.read_bytes() if p.is_file() and not p.is_symlink() else b"<dir>"
    return out


def one_line_error(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode != 0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root, diag = make_project(tmp_path)
    # run from inside the project: a relative path that a vulnerable apply resolved against the working folder
    # then still lands in this test's own folders, never in the checkout the tests run from
    monkeypatch.chdir(root)
    plan = build_plan(json.loads(diag.read_text()), str(diag), root=str(root))
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me\n")
    return root, plan, plan_path, outside


def plant_journal(root: Path, outside: Path, state: str, relative: bool) -> None:
    """A journal as the old format wrote it, pointing at a file outside the project and at one inside it."""
    jdir = root / ".traindoc" / "journal" / "0123456789ab"
    jdir.mkdir(parents=True)
    victim = "../outside/victim.txt" if relative else str(outside / "victim.txt")
    inside = "train.py" if relative else str(root / "train.py")
    new_file = "../outside/created.txt" if relative else str(outside / "created.txt")
    files = [
        {"path": victim, "existed": True, "old_sha256": "", "new_sha256": "", "tmp": str(outside / "tmp1")},
        {"path": inside, "existed": True, "old_sha256": "", "new_sha256": "", "tmp": str(outside / "tmp2")},
        {"path": new_file, "existed": False, "old_sha256": "", "new_sha256": "", "tmp": str(outside / "tmp3")},
    ]
    for i in range(3):
        (jdir / f"{i}.orig").write_text("pwned\n")
        (jdir / f"{i}.new").write_text("pwned\n")
    intent = {"id": jdir.name, "state": state, "label": "", "files": files, "mac": "0" * 64}
    (jdir / "intent.json").write_text(json.dumps(intent))


@pytest.mark.parametrize("state", ["applying", "testing", "committed"])
@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("how", ["recover", "wrong_approval", "dry_run", "approved"])
def test_a_planted_journal_is_never_honoured(project, state: str, relative: bool, how: str) -> None:
    root, plan, plan_path, outside = project
    plant_journal(root, outside, state, relative)
    before_out, before_root = tree(outside), snapshot(root)
    args = {"recover": ["apply", "--recover", str(root)],
            "wrong_approval": ["apply", str(plan_path), "--approve", "0" * 16],
            "dry_run": ["apply", str(plan_path), "--dry-run"],
            "approved": ["apply", str(plan_path), "--approve", plan["plan_id"], "--no-tests"]}[how]
    proc = traindoc(*args)
    assert tree(outside) == before_out, proc.stderr  # nothing outside written, created or deleted
    assert "Traceback" not in proc.stderr
    if how != "approved":
        assert snapshot(root) == before_root  # train.py was not "restored" to the planted bytes either
        assert proc.returncode != 0 or how == "dry_run"
    assert b"pwned" not in (root / "train.py").read_bytes()
    if how in ("recover", "approved"):
        assert "not signed" in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr


def test_a_journal_from_another_project_is_not_replayed(project, tmp_path: Path) -> None:
    """A genuine (signed) journal copied from another project of the same user is bound to that project's root."""
    root, plan, plan_path, outside = project
    other = tmp_path / "other"
    other.mkdir()
    (other / "train.py").write_text("print('other')\n")
    from traindoc.apply.transaction import FileChange, Transaction

    tx = Transaction(other.resolve(), [FileChange(other.resolve() / "train.py", b"pwned\n")])
    tx.prepare()
    (root / ".traindoc" / "journal").mkdir(parents=True)
    os.rename(tx.dir, root / ".traindoc" / "journal" / tx.id)
    before = snapshot(root)
    proc = traindoc("apply", "--recover", str(root))
    one_line_error(proc)
    assert snapshot(root) == before and "not signed" in proc.stderr


@pytest.mark.parametrize("tamper", ["backup", "path", "phase"])
def test_a_signed_journal_that_was_tampered_with_is_refused(project, tamper: str) -> None:
    """Our own journal, edited afterwards: a backup swapped, a path pointed outside, or the phase changed."""
    root, plan, plan_path, outside = project
    from traindoc.apply.transaction import FileChange, Transaction

    real = root.resolve()
    (real / ".traindoc").mkdir()
    tx = Transaction(real, [FileChange(real / "config.yaml", b"lr: 1\n")])
    tx.prepare()  # killed right after: recovery would restore config.yaml from 0.orig
    if tamper == "backup":
        (tx.dir / "0.orig").write_bytes(b"pwned\n")
    else:
        intent = json.loads((tx.dir / "intent.json").read_text())
        if tamper == "path":
            intent["files"][0]["path"] = "../outside/victim.txt"
        else:
            intent["state"] = "committed"  # would write the new bytes instead of undoing
        (tx.dir / "intent.json").write_text(json.dumps(intent))
    before_out, before_root = tree(outside), snapshot(root)
    proc = traindoc("apply", "--recover", str(root))
    one_line_error(proc)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert ("not signed" if tamper != "backup" else "does not match its signed hash") in proc.stderr, proc.stderr
    assert snapshot(root) == before_root and tree(outside) == before_out


@pytest.mark.parametrize("what", ["traindoc_dir", "journal_dir", "lock_file"])
def test_a_traindoc_symlink_out_of_the_project_is_refused(project, what: str) -> None:
    root, plan, plan_path, outside = project
    if what == "traindoc_dir":
        os.symlink(outside, root / ".traindoc")
    elif what == "journal_dir":
        (root / ".traindoc").mkdir()
        os.symlink(outside, root / ".traindoc" / "journal")
    else:
        (root / ".traindoc").mkdir()
        os.symlink(outside / "created-by-lock", root / ".traindoc" / "lock")
    before_out, before_root = tree(outside), snapshot(root)
    for args in (["apply", str(plan_path), "--approve", plan["plan_id"], "--no-tests"],
                 ["apply", "--recover", str(root)]):
        proc = traindoc(*args)
        one_line_error(proc)
        assert "symlink" in proc.stderr or "real folder" in proc.stderr or "real file" in proc.stderr, proc.stderr
        assert tree(outside) == before_out
        assert snapshot(root) == before_root


def test_plan_runs_nothing_from_the_project(tmp_path: Path) -> None:
    """`traindoc plan` used to run the project's .venv/bin/python to see whether it has pytest."""
    root, diag = make_project(tmp_path)
    marker = tmp_path / "ran"
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    for name in ("python", "python3"):
        (venv_bin / name).write_text(f"#!/bin/sh\ntouch {marker}\nexec {sys.executable} \"$@\"\n")
        (venv_bin / name).chmod(0o755)
    proc = traindoc("plan", str(diag), "--root", str(root), "-o", str(tmp_path / "plan.json"))
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), "plan executed the project's interpreter"
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert isinstance(plan["tests"]["run"], list)  # an argv, run without a shell
    assert " ".join(plan["tests"]["run"]) in proc.stdout.replace("'", "")  # shown to the person who approves it


def test_a_plan_cannot_carry_its_own_test_command(project, tmp_path: Path) -> None:
    """A plan file whose `tests.run` was replaced (and its id recomputed, so it is 'approved') does not run it."""
    root, plan, plan_path, outside = project
    marker = outside / "pwned"
    for run in (f"touch {marker}", ["touch", str(marker)], [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]):
        evil = json.loads(plan_path.read_text())
        evil["tests"]["run"] = run
        evil["plan_id"] = compute_plan_id(evil)
        path = tmp_path / "evil.json"
        path.write_text(json.dumps(evil))
        before = snapshot(root)
        proc = traindoc("apply", str(path), "--approve", evil["plan_id"])
        one_line_error(proc)
        assert not marker.exists(), f"apply ran the plan's own command {run!r}"
        assert "test command" in proc.stderr, proc.stderr
        assert snapshot(root) == before


@pytest.mark.parametrize("bad", ["not json", "[]", '{"plan_id": "x", "changes": [1], "root": "."}',
                                 '{"plan_id": "x", "changes": [{"file": 3}], "root": "."}',
                                 '{"plan_id": "x", "changes": [], "root": 5}'])
def test_a_malformed_plan_is_one_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(bad)
    for extra in (["--approve", "x"], ["--dry-run"], []):
        proc = traindoc("apply", str(path), *extra)
        one_line_error(proc)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_plan_survives_code_python_cannot_parse(tmp_path: Path) -> None:
    """A project file nested past the parser's limits (MemoryError / RecursionError on CPython 3.11, not
    SyntaxError), one with a null byte and one over the parse budget sit beside the training script: every cause's
    fixer reads every code file, and none of them may end `traindoc plan` in a traceback or touch a file."""
    root, diag = make_project(tmp_path)
    hostile = {
        "unary.py": "x = " + "-" * 100_000 + "1\n",
        "chain.py": "x = a" + "+a" * 200_000 + "\n",
        "nul.py": "x = 1\0\n",
        "big.py": "x = 1\n" * 300_000,  # 1.8 MB: over code_sites.MAX_PARSE_CHARS
    }
    for name, text in hostile.items():
        (root / name).write_text(text)
    diagnosis = json.loads(diag.read_text())
    diagnosis["run"]["code_files"] += [str(root / name) for name in hostile]
    diagnosis["root_causes"] = [root_cause(i + 1, c) for i, c in enumerate(CAUSES)]
    diag.write_text(json.dumps(diagnosis))
    before = snapshot(root)
    proc = traindoc("plan", str(diag), "--root", str(root), "-o", str(tmp_path / "plan.json"))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["plan_id"]
    assert snapshot(root) == before
