"""The user's first (faulty) run of a user-project layout, trained once per distinct inputs and handed to every test
that asks as a private copy.

    from userproj_cache import shared_prepare

    root, run = shared_prepare("plain_argparse", tmp_path, "lr_too_high")   # what userproj.layouts.prepare returns

prepare() (tests/userproj/layouts.py) copies the layout's project, writes the cause's fault, launches the user's
command with the real library (no_warmup: a base run first) and moves the run aside where the user must. Everything
it leaves is a function of: the layout's files and the shared corpus module, layouts.py itself (the fault table and
the launch helpers), the cause, the interpreter and the installed distributions. That is the key (the tool
environment is layouts.tool_env, part of layouts.py). The first asker trains it into .cache/userproj/<key>/ (an fcntl
lock per key: pytest-xdist workers and later sessions wait for one training, never train it twice; the entry appears
by an atomic rename, so a killed build leaves nothing that looks finished); every asker gets a copy of the whole
project as prepare left it, with the original file times (the run is as old, relative to the project's files, as it
was when trained).

Runs record where they were written (Hydra's output dir, MLflow's artifact URI, W&B's program path ...). The copy has
the build folder rewritten to the asker's folder in every text file, which is what training there would have
written. A run that records the path in a binary file cannot be moved that way: such a layout x cause is never shared
(the entry says so) and each asker trains it as before. The retrain of every loop always runs for real.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path

from userproj.layouts import FIXTURES, prepare

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "userproj"
STALE_AFTER_S = 3600  # entries of the same layout x cause for other inputs, older than this, go when one is built


@functools.cache
def _installed() -> bytes:
    """Every installed distribution and its version (the real libraries the runs train with, and theirs)."""
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"])
    return "\n".join(dists).encode()


def _key(name: str, cause: str) -> str:
    digest = hashlib.sha256(f"{name}\0{cause}\0{sys.version}\0".encode() + _installed())
    files = [FIXTURES / "layouts.py", FIXTURES / "common" / "chardata.py"]
    files += sorted(p for p in (FIXTURES / name).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(FIXTURES)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _relocatable(top: Path, old: bytes) -> bool:
    """True when every file under `top` that holds `old` is UTF-8 text (so the path can be rewritten)."""
    for path in top.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if old in data:
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    return False
    return True


def _place(src: Path, old: str, dest: Path) -> None:
    """Copy the tree `src` to `dest`, file times kept; in text, the folder `old` the tree was trained in becomes
    dest's parent (where prepare put it); old "" copies bytes as they are."""
    old_b, new_b = old.encode(), str(dest.parent).encode()
    for path in sorted(src.rglob("*")):
        target = dest / path.relative_to(src)
        if path.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(path).replace(old, str(dest.parent)) if old else os.readlink(path))
        elif path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            if old and old_b in data:
                target.write_bytes(data.replace(old_b, new_b))
                shutil.copystat(path, target)
            else:
                shutil.copy2(path, target)
    for path in sorted(src.rglob("*"), reverse=True):  # folder times last: writing inside one moves its time
        if path.is_dir() and not path.is_symlink():
            shutil.copystat(path, dest / path.relative_to(src))
    shutil.copystat(src, dest)


def _store(tmp: Path, name: str, entry: Path, done: dict) -> None:
    """Copy what prepare left in `tmp` (the project and its python shim) into the cache entry, atomically."""
    build = entry.parent / f".tmp-{entry.name}-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    (build / "tree").mkdir(parents=True)
    if done["shared"]:
        for part in (name, f"{name}-bin"):
            if (tmp / part).exists():
                _place(tmp / part, "", build / "tree" / part)
    (build / "done.json").write_text(json.dumps(done))
    shutil.rmtree(entry, ignore_errors=True)
    os.replace(build, entry)
    now = time.time()
    for old in entry.parent.glob("*/done.json"):
        if old.parent != entry and now - old.stat().st_mtime > STALE_AFTER_S:
            meta = json.loads(old.read_text())
            if (meta.get("layout"), meta.get("cause")) != (done["layout"], done["cause"]):
                continue
            with open(entry.parent / f".lock-{old.parent.name}", "w") as lock:
                try:  # an entry in use (another session copying it) is left for later
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                shutil.rmtree(old.parent, ignore_errors=True)


def shared_prepare(name: str, tmp: Path, cause: str = "lr_too_high") -> tuple[Path, str]:
    """userproj.layouts.prepare(name, tmp, cause), its training shared: (root, run folder), root = tmp / name.
    The first asker trains in its own `tmp` (as prepare alone does) and leaves a copy in the cache."""
    tmp = Path(tmp).resolve()
    CACHE.mkdir(parents=True, exist_ok=True)
    key = _key(name, cause)
    entry = CACHE / key
    with open(CACHE / f".lock-{key}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (entry / "done.json").is_file():
            root, run = prepare(name, tmp, cause)
            movable = _relocatable(tmp / name, str(tmp).encode())
            _store(tmp, name, entry, {"layout": name, "cause": cause, "run": run, "built_at": str(tmp),
                                      "shared": movable})
            return root, run
        done = json.loads((entry / "done.json").read_text())
        if done["shared"]:  # copied under the lock: nothing removes the entry meanwhile
            for part in sorted(p.name for p in (entry / "tree").iterdir()):
                _place(entry / "tree" / part, done["built_at"], tmp / part)
            return tmp / name, done["run"]
    return prepare(name, tmp, cause)  # a path in a binary file: this asker trains its own
