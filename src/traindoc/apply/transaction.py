"""All-or-nothing replacement of several files, safe against a crash (kill -9) at any instant and against a
project someone else prepared.

Protocol (journal in `<root>/.traindoc/journal/`):
1. prepare: in a fresh folder `journal/.tmp-<id>/` write a backup of every original, the new content of every
   file and `intent.json` (paths relative to the root, sha256 old/new, which files did not exist, the phase), all
   fsync'ed; then rename the folder to `journal/<id>/` (atomic). From this instant recovery knows everything.
2. apply: for each file, write the new bytes to a temp file next to it, fsync, `os.replace` onto the target (atomic
   on POSIX), fsync the folder. A target is therefore always either its old bytes or its new bytes.
3. the caller moves the phase on ("testing" while the tests run, "restoring" while it rolls back), then commit:
   phase "committed", then the journal is removed. Rollback restores every backup the same atomic way.

Recovery (`recover(root)`, under the same lock as apply): a journal in phase "committed" is finished (every file
made new); any other phase is undone (every file restored to its backup, files that did not exist removed), and
the report names each file and the phase the apply died in. A half-written `.tmp-*` folder (crash during prepare,
before anything was touched) is deleted.

Hostile projects: a journal is only honoured if `intent.json` carries an HMAC-SHA256, keyed by a secret kept
outside every project (`$XDG_CONFIG_HOME/traindoc/secret`, 0600), over the intent and the project's real path, so a
planted journal, or one copied from another project, is refused. Every path in it is re-validated before any read,
write or delete: relative, no `..`, no symlink on the way, inside the root; backups must hash to the signed sha256.
`.traindoc`, `journal/` and the lock must be real folders / a real file, never symlinks. Temp files are opened with
O_EXCL | O_NOFOLLOW, so a planted symlink cannot redirect a write.

`TRAINDOC_CRASH_AFTER=N` makes the process SIGKILL itself at its N-th file operation: the kill tests use it to hit
every instant of the protocol.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

STATE_DIR = ".traindoc"
JOURNAL_DIR = ".traindoc/journal"
MAX_INTENT_BYTES = 16 << 20  # an intent lists paths and hashes: far below this for any real plan
MAX_PROBLEMS = 20  # untrusted journal entries reported before recovery stops looking (a planted flood)
_ID = re.compile(r"[0-9a-f]{12}")

# what the apply was doing when it stopped, as the recovery report says it
PHASES = {"applying": "while it was writing the files", "testing": "while its tests ran, before they passed",
          "restoring": "while it restored the files after its tests failed",
          "committed": "after its tests passed, while it finished"}

_ops = 0


class JournalError(Exception):
    """A journal, `.traindoc` folder or lock that cannot be trusted or used. One line for the user."""


class Busy(JournalError):
    """Another traindoc apply holds this project's lock."""


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


# ------------------------------------------------------------------------------------------------ safe paths
def state_dir(root: Path, sub: str = "", create: bool = False) -> Path | None:
    """`root/.traindoc[/sub]` if it is a real folder (not a symlink); None if absent and not created."""
    path = root
    for part in (STATE_DIR, *([sub] if sub else [])):
        path = path / part
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            if not create:
                return None
            os.mkdir(path, 0o755)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise JournalError(f"{path.relative_to(root)} is a symlink: traindoc keeps its journal only in a real "
                               "folder inside the project (remove the link)")
        if not stat.S_ISDIR(st.st_mode):
            raise JournalError(f"{path.relative_to(root)} is not a real folder (remove it)")
    return path


def safe_target(root: Path, rel: str) -> Path:
    """`root/rel` if `rel` is a plain relative path with no symlink anywhere on the way (the file itself
    included) and nothing but folders above it; JournalError otherwise. Missing parts are fine (created later)."""
    parts = PurePosixPath(rel).parts if isinstance(rel, str) else ()
    if not parts or PurePosixPath(rel).is_absolute() or "\0" in rel or any(p in ("..", ".") for p in parts):
        raise JournalError(f"path {rel!r} is not a plain path relative to the project root")
    path = root
    for i, part in enumerate(parts):
        path = path / part
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            break
        if stat.S_ISLNK(st.st_mode):
            raise JournalError(f"{'/'.join(parts[:i + 1])} is a symlink: refusing to write through it")
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            raise JournalError(f"{'/'.join(parts[:i + 1])} is not a folder")
    return root.joinpath(*parts)  # the whole path, also when a folder on the way is still missing


def _read_nofollow(path: Path, limit: int | None = None) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise JournalError(f"{path.name} is not a regular file")
        if limit is not None and os.fstat(fd).st_size > limit:
            raise JournalError(f"{path.name} is larger than {limit} bytes")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    finally:
        os.close(fd)


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
    """Create `path` (which must not exist: O_EXCL, and O_NOFOLLOW so a planted link is never followed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600 if mode is None else mode)
    with os.fdopen(fd, "wb") as f:
        _checkpoint()
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if mode is not None:
        os.chmod(path, mode)
    _checkpoint()


def _remove(path: Path) -> bool:
    try:
        path.unlink()  # unlink never follows a symlink: it removes the link itself
    except FileNotFoundError:
        return False
    _checkpoint()
    return True


def atomic_write(target: Path, data: bytes, tmp: Path) -> None:
    """Replace `target` by `data`: temp file in the same folder, fsync, rename, fsync the folder."""
    mode = os.lstat(target).st_mode & 0o7777 if os.path.lexists(target) else 0o644
    _remove(tmp)
    _write_durable(tmp, data, mode)
    os.replace(tmp, target)
    _checkpoint()
    _fsync_dir(target.parent)


def _makedirs(root: Path, rel_dir: PurePosixPath) -> None:
    """Create the missing folders of `rel_dir` one by one (safe_target has checked the existing ones)."""
    path = root
    for part in rel_dir.parts:
        path = path / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)


# ------------------------------------------------------------------------------------------------ signing
def secret_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "traindoc" / "secret"


def _secret(create: bool) -> bytes | None:
    """This user's signing key, kept outside every project; created (0600) on first use."""
    path = secret_path()
    try:
        data = _read_nofollow(path, 4096)
    except FileNotFoundError:
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.parent / f".secret-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
            tmp.unlink()
            data = _read_nofollow(path, 4096)
        except OSError as e:
            raise JournalError(f"cannot create traindoc's signing key {path} ({e.strerror or e})") from e
    except OSError as e:
        raise JournalError(f"cannot read traindoc's signing key {path} ({e.strerror or e})") from e
    if len(data) < 32:
        raise JournalError(f"traindoc's signing key {path} is damaged (delete it; no apply is pending then)")
    return data


def _mac(key: bytes, root: Path, intent: dict) -> str:
    body = {k: v for k, v in intent.items() if k != "mac"}
    msg = json.dumps({"root": str(root), "intent": body}, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def _write_intent(jdir: Path, root: Path, intent: dict, name: str = "intent.json") -> None:
    key = _secret(create=True)
    assert key is not None
    signed = {**intent, "mac": _mac(key, root, intent)}
    _write_durable(jdir / name, json.dumps(signed, indent=1).encode())


def _read_intent(root: Path, jdir: Path) -> dict:
    """The journal's intent if it is signed by this user's key for this very project; JournalError otherwise."""
    where = f"{JOURNAL_DIR}/{jdir.name}"
    unsigned = JournalError(f"journal {where} is not signed by your traindoc (planted, copied from elsewhere or "
                            "damaged): ignored, no file was touched; delete that folder if you did not leave it there")
    try:
        intent = json.loads(_read_nofollow(jdir / "intent.json", MAX_INTENT_BYTES))
    except (OSError, ValueError, RecursionError, JournalError) as e:
        raise unsigned from e
    key = _secret(create=False)
    if key is None or not isinstance(intent, dict) or not isinstance(intent.get("mac"), str) \
            or not hmac.compare_digest(intent["mac"], _mac(key, root, intent)):
        raise unsigned
    if intent.get("id") != jdir.name or intent.get("state") not in PHASES or not isinstance(intent.get("files"), list):
        raise unsigned
    return intent


# ------------------------------------------------------------------------------------------------ the lock
@contextlib.contextmanager
def lock(root: Path) -> Iterator[None]:
    """One apply (or recovery) at a time per project; the kernel releases a flock even on kill -9."""
    d = state_dir(root, create=True)
    assert d is not None
    try:
        fd = os.open(d / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise JournalError(f"{STATE_DIR}/lock is a symlink: remove it (traindoc's lock is a real file)") from e
        raise JournalError(f"cannot open {STATE_DIR}/lock ({e.strerror})") from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise JournalError(f"{STATE_DIR}/lock is not a real file: remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise Busy(f"another traindoc apply is running in this project{who}; nothing was touched: run this "
                       "again when it has finished") from e
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------------ transaction
@dataclass
class FileChange:
    path: Path  # absolute and real (no symlink on the way), already checked to be inside the root
    new: bytes | None  # None: delete


def _tmp_name(target: Path, jid: str) -> Path:
    return target.parent / f".{target.name}.traindoc-{jid}.tmp"


class Transaction:
    """Prepare / apply / commit or rollback of a set of file replacements under `root`."""

    def __init__(self, root: Path, changes: list[FileChange], label: str = ""):
        self.root = root
        self.changes = changes
        self.rels = [str(ch.path.relative_to(root)) for ch in changes]
        self.id = uuid.uuid4().hex[:12]
        journal = state_dir(root, "journal", create=True)
        assert journal is not None
        self.dir = journal / self.id
        self.label = label

    def prepare(self) -> None:
        _secret(create=True)  # fail here, before anything is written, if the key cannot be made
        staging = self.dir.parent / f".tmp-{self.id}"
        staging.mkdir()
        _checkpoint()
        entries = []
        for i, (ch, rel) in enumerate(zip(self.changes, self.rels, strict=True)):
            target = safe_target(self.root, rel)
            existed = os.path.lexists(target)
            old = _read_nofollow(target) if existed else b""
            if existed:
                _write_durable(staging / f"{i}.orig", old)
            if ch.new is not None:
                _write_durable(staging / f"{i}.new", ch.new)
            entries.append({"path": rel, "existed": existed, "old_sha256": sha256(old) if existed else "",
                            "new_sha256": sha256(ch.new) if ch.new is not None else ""})
        intent = {"id": self.id, "state": "applying", "label": self.label, "files": entries}
        _write_intent(staging, self.root, intent)
        _fsync_dir(staging)
        os.rename(staging, self.dir)  # the commit point of the journal itself
        _checkpoint()
        _fsync_dir(self.dir.parent)

    def apply(self) -> None:
        for i, (ch, rel) in enumerate(zip(self.changes, self.rels, strict=True)):
            target = safe_target(self.root, rel)
            if ch.new is None:
                _remove(target)
                continue
            _makedirs(self.root, PurePosixPath(rel).parent)
            atomic_write(target, _read_nofollow(self.dir / f"{i}.new"), _tmp_name(target, self.id))

    def set_phase(self, state: str) -> None:
        _set_state(self.root, self.dir, state)

    def commit(self) -> None:
        _set_state(self.root, self.dir, "committed")
        _discard(self.dir)

    def rollback(self) -> Recovered:
        """Restore every file (the journal is first marked "restoring", so a crash here is finished later)."""
        _set_state(self.root, self.dir, "restoring")
        done = _undo(self.root, self.dir, _read_intent(self.root, self.dir))
        _discard(self.dir)
        return done


def _set_state(root: Path, jdir: Path, state: str) -> None:
    intent = _read_intent(root, jdir)
    intent["state"] = state
    tmp = jdir / "intent.json.tmp"
    _remove(tmp)
    _write_intent(jdir, root, intent, tmp.name)
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


@dataclass
class Recovered:
    """What a rollback or recovery did, file by file (paths relative to the root)."""

    restored: list[str] = field(default_factory=list)  # rewritten with their original bytes
    removed: list[str] = field(default_factory=list)  # created by the apply, deleted again
    finished: list[str] = field(default_factory=list)  # made new (a committed apply finished)
    unchanged: list[str] = field(default_factory=list)  # already in the wanted state

    @property
    def touched(self) -> list[str]:
        return self.restored + self.removed + self.finished


def _checked_entries(root: Path, jdir: Path, intent: dict, want: str) -> list[tuple[dict, Path, bytes | None]]:
    """(entry, target, bytes to put there or None to delete), every path and backup validated before anything
    is touched: the recovery of a journal is all or nothing too."""
    out = []
    for i, e in enumerate(intent["files"]):
        if not isinstance(e, dict) or not isinstance(e.get("path"), str):
            raise JournalError(f"journal {jdir.name}: entry {i} is malformed")
        target = safe_target(root, e["path"])
        if want == "old":
            data = _read_nofollow(jdir / f"{i}.orig") if e.get("existed") else None
            expected = e.get("old_sha256")
        else:
            data = _read_nofollow(jdir / f"{i}.new") if e.get("new_sha256") else None
            expected = e.get("new_sha256")
        if data is not None and sha256(data) != expected:
            raise JournalError(f"journal {jdir.name}: the backup of {e['path']} does not match its signed hash")
        out.append((e, target, data))
    return out


def _put(root: Path, jid: str, rel: str, target: Path, data: bytes | None, done: list[str],
         unchanged: list[str], removed: list[str]) -> None:
    tmp = _tmp_name(target, jid)
    _remove(tmp)
    if data is None:
        (removed if _remove(target) else unchanged).append(rel)
        return
    if os.path.lexists(target) and _read_nofollow(target) == data:
        unchanged.append(rel)
        return
    _makedirs(root, PurePosixPath(rel).parent)
    atomic_write(target, data, tmp)
    done.append(rel)


def _undo(root: Path, jdir: Path, intent: dict) -> Recovered:
    out = Recovered()
    for e, target, data in _checked_entries(root, jdir, intent, "old"):
        _put(root, jdir.name, e["path"], target, data, out.restored, out.unchanged, out.removed)
    return out


def _redo(root: Path, jdir: Path, intent: dict) -> Recovered:
    out = Recovered()
    for e, target, data in _checked_entries(root, jdir, intent, "new"):
        _put(root, jdir.name, e["path"], target, data, out.finished, out.unchanged, out.removed)
    return out


def _describe(intent: dict, done: Recovered) -> str:
    plan = f" of plan {intent['label']}" if intent.get("label") else ""
    why = PHASES.get(intent["state"], "")
    if intent["state"] == "committed":
        what = f"finished an apply{plan} interrupted {why}: " + (
            f"wrote the new content of {', '.join(done.finished)}" if done.finished else "every file already new")
    else:
        parts = []
        if done.restored:
            parts.append(f"restored {', '.join(done.restored)} to their original bytes")
        if done.removed:
            parts.append(f"removed {', '.join(done.removed)} (created by it)")
        if not parts:
            parts.append("no file had been changed yet")
        what = f"undid an apply{plan} interrupted {why}: " + "; ".join(parts)
    return what


@dataclass
class Recovery:
    actions: list[str] = field(default_factory=list)  # one line per journal finished or undone
    problems: list[str] = field(default_factory=list)  # one line per journal that was not honoured
    files: list[str] = field(default_factory=list)  # every file recovery rewrote or deleted


def pending(root: Path) -> list[str]:
    """Names of journals left under `root` (nothing is read or touched)."""
    journal = state_dir(root, "journal")
    return [] if journal is None else sorted(p.name for p in journal.iterdir() if _ID.fullmatch(p.name))


def recover_locked(root: Path) -> Recovery:
    """Finish or undo every interrupted apply under `root`. The caller holds `lock(root)`."""
    out = Recovery()
    journal = state_dir(root, "journal")
    if journal is None:
        return out
    for d in sorted(journal.iterdir()):
        if d.name.startswith((".tmp-", ".done-")) and not d.is_symlink():
            # a journal never completed (nothing was touched yet) or one already finished: just delete it
            shutil.rmtree(d, ignore_errors=True)
            if d.name.startswith(".tmp-"):
                out.actions.append("discarded an apply interrupted before it changed any file")
            continue
        try:
            if d.is_symlink() or not d.is_dir() or not _ID.fullmatch(d.name):
                raise JournalError(f"{JOURNAL_DIR}/{d.name} is not a traindoc journal: ignored, no file was "
                                   "touched; delete it if you did not leave it there")
            intent = _read_intent(root, d)
            done = _redo(root, d, intent) if intent["state"] == "committed" else _undo(root, d, intent)
        except JournalError as e:
            out.problems.append(str(e))
            if len(out.problems) >= MAX_PROBLEMS:
                out.problems.append("... more entries like these: stopped looking")
                break
            continue
        except OSError as e:
            out.problems.append(f"journal {d.name}: {e.strerror or e}; left as it is")
            continue
        out.actions.append(_describe(intent, done))
        out.files += done.touched
        _discard(d)
    return out


def recover(root: Path) -> Recovery:
    """`recover_locked` under the project's lock (Busy if an apply is running)."""
    root = Path(os.path.realpath(root))  # journals are signed for the project's real path
    if state_dir(root) is None:
        return Recovery()  # traindoc never applied here: nothing to do, and nothing is created
    with lock(root):
        return recover_locked(root)
