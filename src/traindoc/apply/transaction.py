"""All-or-nothing replacement of several files, safe against a crash (kill -9) at any instant.

Protocol (journal in `<root>/.traindoc/journal/`):
1. prepare: in a fresh folder `journal/.tmp-<id>/` write a backup of every original, the new content of every
   file and `intent.json` (paths, sha256 old/new, which files did not exist), all fsync'ed; then rename the folder
   to `journal/<id>/` (atomic). From this instant recovery knows everything it needs.
2. apply: for each file, write the new bytes to a temp file next to it, fsync, `os.replace` onto the target (atomic
   on POSIX), fsync the folder. A target is therefore always either its old bytes or its new bytes.
3. commit: rewrite `intent.json` with state "committed" (temp + fsync + rename), then remove the journal.
   Rollback instead restores every backup the same atomic way and removes the journal.

Recovery (`recover(root)`, run at the start of every apply and by `traindoc apply --recover`): a journal in state
"applying" is undone (every file restored to its backup, files that did not exist removed), one in state
"committed" is finished (every file made new); leftover temp files named in the intent are deleted. A half-written
`.tmp-*` journal folder (crash during prepare, before anything was touched) is simply deleted.

`TRAINDOC_CRASH_AFTER=N` makes the process SIGKILL itself at its N-th file operation: the kill tests use it to hit
every instant of the protocol.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

JOURNAL_DIR = ".traindoc/journal"

_ops = 0


def _checkpoint() -> None:
    """Count a file operation; die here if the crash test asked for it."""
    global _ops
    _ops += 1
    limit = os.environ.get("TRAINDOC_CRASH_AFTER")
    if limit and _ops >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def reset_op_counter() -> None:
    global _ops
    _ops = 0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_durable(path: Path, data: bytes, mode: int | None = None) -> None:
    with open(path, "wb") as f:
        _checkpoint()
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if mode is not None:
        os.chmod(path, mode)
    _checkpoint()


def atomic_write(target: Path, data: bytes, tmp: Path) -> None:
    """Replace `target` by `data`: temp file in the same folder, fsync, rename, fsync the folder."""
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    _write_durable(tmp, data, mode)
    os.replace(tmp, target)
    _checkpoint()
    _fsync_dir(target.parent)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        _checkpoint()


@dataclass
class FileChange:
    path: Path  # absolute, already checked to be inside the root
    new: bytes | None  # None: delete (used by rollback of a created file)


@contextlib.contextmanager
def lock(root: Path) -> Iterator[None]:
    """One apply at a time per project (flock is released by the kernel even on kill -9)."""
    d = root / ".traindoc"
    d.mkdir(exist_ok=True)
    with open(d / "lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise RuntimeError("another traindoc apply is running in this project") from e
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Transaction:
    """Prepare / apply / commit or rollback of a set of file replacements under `root`."""

    def __init__(self, root: Path, changes: list[FileChange], label: str = ""):
        self.root = root
        self.changes = changes
        self.id = uuid.uuid4().hex[:12]
        self.dir = root / JOURNAL_DIR / self.id
        self.label = label

    def _tmp_name(self, target: Path) -> Path:
        return target.parent / f".{target.name}.traindoc-{self.id}.tmp"

    def prepare(self) -> None:
        journal = self.root / JOURNAL_DIR
        journal.mkdir(parents=True, exist_ok=True)
        staging = journal / f".tmp-{self.id}"
        staging.mkdir()
        _checkpoint()
        entries = []
        for i, ch in enumerate(self.changes):
            existed = ch.path.exists()
            old = ch.path.read_bytes() if existed else b""
            if existed:
                _write_durable(staging / f"{i}.orig", old)
            if ch.new is not None:
                _write_durable(staging / f"{i}.new", ch.new)
            entries.append({"path": str(ch.path), "existed": existed, "old_sha256": sha256(old) if existed else "",
                            "new_sha256": sha256(ch.new) if ch.new is not None else "",
                            "tmp": str(self._tmp_name(ch.path))})
        intent = {"id": self.id, "state": "applying", "label": self.label, "files": entries}
        _write_durable(staging / "intent.json", json.dumps(intent, indent=1).encode())
        _fsync_dir(staging)
        os.rename(staging, self.dir)  # the commit point of the journal itself
        _checkpoint()
        _fsync_dir(journal)

    def apply(self) -> None:
        for i, ch in enumerate(self.changes):
            if ch.new is None:
                _remove(ch.path)
                continue
            ch.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(ch.path, (self.dir / f"{i}.new").read_bytes(), self._tmp_name(ch.path))

    def commit(self) -> None:
        _set_state(self.dir, "committed")
        _discard(self.dir)

    def rollback(self) -> list[str]:
        restored = _undo(self.dir)
        _discard(self.dir)
        return restored


def _set_state(jdir: Path, state: str) -> None:
    intent = json.loads((jdir / "intent.json").read_text())
    intent["state"] = state
    tmp = jdir / "intent.json.tmp"
    _write_durable(tmp, json.dumps(intent, indent=1).encode())
    os.replace(tmp, jdir / "intent.json")
    _checkpoint()
    _fsync_dir(jdir)


def _discard(jdir: Path) -> None:
    """Remove a finished journal: rename it out of the way first (atomic), then delete."""
    trash = jdir.parent / f".done-{jdir.name}"
    os.rename(jdir, trash)
    _checkpoint()
    _fsync_dir(jdir.parent)
    shutil.rmtree(trash, ignore_errors=True)


def _undo(jdir: Path) -> list[str]:
    intent = json.loads((jdir / "intent.json").read_text())
    restored = []
    for i, e in enumerate(intent["files"]):
        target, tmp = Path(e["path"]), Path(e["tmp"])
        _remove(tmp)
        if e["existed"]:
            old = (jdir / f"{i}.orig").read_bytes()
            if not target.exists() or target.read_bytes() != old:
                atomic_write(target, old, tmp)
            restored.append(str(target))
        elif target.exists():
            _remove(target)
            restored.append(str(target))
    return restored


def _redo(jdir: Path) -> list[str]:
    intent = json.loads((jdir / "intent.json").read_text())
    done = []
    for i, e in enumerate(intent["files"]):
        target, tmp = Path(e["path"]), Path(e["tmp"])
        _remove(tmp)
        new_path = jdir / f"{i}.new"
        if new_path.exists():
            new = new_path.read_bytes()
            if not target.exists() or target.read_bytes() != new:
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(target, new, tmp)
        else:
            _remove(target)
        done.append(str(target))
    return done


def recover(root: Path) -> list[str]:
    """Finish or undo any interrupted apply under `root`; returns one line per action taken."""
    journal = root / JOURNAL_DIR
    actions: list[str] = []
    if not journal.is_dir():
        return actions
    for d in sorted(journal.iterdir()):
        if d.name.startswith(".tmp-") or d.name.startswith(".done-"):
            # a journal never completed (nothing was touched yet) or one already finished: just delete it
            shutil.rmtree(d, ignore_errors=True)
            if d.name.startswith(".tmp-"):
                actions.append("discarded an apply interrupted before it changed any file")
            continue
        if not (d / "intent.json").exists():
            shutil.rmtree(d, ignore_errors=True)
            continue
        try:
            state = json.loads((d / "intent.json").read_text())["state"]
        except (OSError, ValueError, KeyError):
            # intent.json is only ever replaced atomically, so this cannot be half-written; be safe anyway
            state = "applying"
        if state == "committed":
            files = _redo(d)
            actions.append(f"finished an interrupted apply ({len(files)} files now hold the new content)")
        else:
            files = _undo(d)
            actions.append(f"undid an interrupted apply ({len(files)} files restored to their original content)")
        _discard(d)
    return actions
