"""Fault-zoo workspaces, materialised and trained once per code version and shared by every test that needs them.

    from zoo_cache import zoo_workspace, fixed_workspace, copy_workspace

    ws = zoo_workspace("seed_divergence")          # reduced form (the trainer's --test size), trained; READ ONLY
    ws = zoo_workspace("seed_divergence", reduced=False)   # normal form
    fx = fixed_workspace("seed_divergence")        # the same workspace with the zoo's known fix applied, retrained
    my = copy_workspace("seed_divergence", tmp_path / "ws")  # a private copy you may edit (apply, retrain, ...)

Workspaces live in .cache/zoo/ws-<version>-<key>/, where <version> hashes the trainer sources, phase1/scenarios.py
and the torch version (any code change rebuilds), and <key> is an opaque hash of (scenario, form): the folder name
never carries the scenario's name, because warnings in metrics.jsonl cite file paths inside the workspace and a
diagnosis must not be able to read the label from them. An fcntl lock per workspace makes pytest-xdist workers and
other test files wait for one build instead of training the same scenario twice. A finished build is marked by a
`.done` file NEXT TO the workspace (nothing is added inside it).

Cached workspaces are shared: never modify one in place; take a copy_workspace() first.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "zoo"
STALE_AFTER_S = 3600  # other code versions' workspaces older than this are deleted when a new one is built

sys.path.insert(0, str(REPO / "src"))
from phase1 import scenarios  # noqa: E402

NAMES: list[str] = list(scenarios.SCENARIOS)
# scenarios.py as THIS process loaded it: a long-running test session must not file workspaces built from its
# in-memory (older) scenario definitions under the hash of a newer scenarios.py on disk.
_SCENARIOS_SOURCE = Path(scenarios.__file__).read_bytes()


def code_version() -> str:
    """Hash of everything that decides what a zoo run produces: the trainer sources as they are now on disk (they
    are copied at build time), the scenario definitions this process loaded, and the torch version."""
    import torch

    digest = hashlib.sha256(torch.__version__.encode())
    for path in scenarios.trainer_sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(b"scenarios.py\0" + _SCENARIOS_SOURCE)
    return digest.hexdigest()[:12]


def _key(name: str, reduced: bool, fixed: bool) -> str:
    form = f"{name}|{'reduced' if reduced else 'normal'}|{'fixed' if fixed else 'faulty'}"
    return hashlib.sha256(form.encode()).hexdigest()[:10]


def _collect_stale(key: str, keep: Path) -> None:
    now = time.time()
    for old in CACHE.glob(f"ws-*-{key}"):
        if old != keep and now - old.stat().st_mtime > STALE_AFTER_S:
            shutil.rmtree(old, ignore_errors=True)
            Path(str(old) + ".done").unlink(missing_ok=True)


def _build(name: str, reduced: bool, fixed: bool) -> Path:
    if name not in scenarios.SCENARIOS:
        raise KeyError(f"unknown zoo scenario {name!r}; known: {', '.join(NAMES)}")
    CACHE.mkdir(parents=True, exist_ok=True)
    key = _key(name, reduced, fixed)
    ws = CACHE / f"ws-{code_version()}-{key}"
    done = Path(str(ws) + ".done")
    with open(CACHE / f".lock-{key}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if done.exists() and (ws / "run" / "metrics.jsonl").exists():
            return ws
        shutil.rmtree(ws, ignore_errors=True)
        # The fixed workspace is built the way a user fixes one: the faulty workspace, then its files edited.
        scenarios.materialise(name, ws, reduced=reduced)
        if fixed:
            scenarios.apply_known_fix(ws, name)
        rc = scenarios.train_workspace(ws, out=ws / "run", quiet=True, timeout=1200)
        if not (ws / "run" / "metrics.jsonl").exists():
            raise RuntimeError(f"zoo scenario {name} wrote no metrics (exit {rc}); workspace kept at {ws}")
        _dedupe_checkpoints(ws / "run" / "checkpoints")
        done.write_text(f"{name} reduced={reduced} fixed={fixed} exit={rc}\n")
        _collect_stale(key, ws)
    return ws


def _dedupe_checkpoints(ckpt_dir: Path) -> None:
    """best.pt is often byte-identical to last.pt: hard-link it to save disk (the embedding-heavy model's
    checkpoints are ~1 GB each)."""
    last, best = ckpt_dir / "last.pt", ckpt_dir / "best.pt"
    if last.is_file() and best.is_file() and last.stat().st_size == best.stat().st_size:
        if _same_bytes(last, best):
            best.unlink()
            os.link(last, best)


def _same_bytes(a: Path, b: Path, chunk: int = 1 << 22) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(chunk), fb.read(chunk)
            if x != y:
                return False
            if not x:
                return True


def zoo_workspace(name: str, reduced: bool = True) -> Path:
    """The scenario's trained workspace (faulty). Shared and read-only: copy it before editing."""
    return _build(name, reduced, fixed=False)


def fixed_workspace(name: str, reduced: bool = True) -> Path:
    """The scenario's workspace with the zoo's known fix applied to its files, retrained. Read-only."""
    return _build(name, reduced, fixed=True)


def copy_workspace(name: str, dest: str | Path, reduced: bool = True, fixed: bool = False) -> Path:
    """A private, editable copy of a cached workspace (checkpoints copied, not linked)."""
    src = _build(name, reduced, fixed)
    dest = Path(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def figures(name: str, reduced: bool = True, fixed: bool = False) -> dict[str, float]:
    """The symptom figures (scenarios.measure) of a cached run."""
    ws = _build(name, reduced, fixed)
    return scenarios.measure(scenarios.read_records(ws / "run"))


# Names other helpers' tests look for.
workspace = zoo_workspace
scenario_workspace = zoo_workspace
