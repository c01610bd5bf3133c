"""Labelled runs of real training libraries (HF Trainer, PyTorch Lightning), generated on CPU and cached.

    from reallib import LABELS, reallib_run
    run_dir = reallib_run("hf", "lr_too_high")     # -> .cache/reallib/hf-lr_too_high-<hash>/

Each (library, fault) run is trained once per code version: the cache key hashes that library's generator sources
(tasks.py plus hf_runs.py or lightning_runs.py) and the installed torch / transformers / accelerate /
pytorch-lightning versions, so editing a generator or upgrading a library retrains, and nothing else does.
Generation happens in a subprocess (a fresh interpreter, as a user's script would run) whose stdout and stderr are
the run's `train.log`, under an exclusive fcntl lock per run, into a temporary folder renamed into place when
complete: pytest-xdist workers and other helpers' processes that ask for the same run wait for the one that is
training it and then share its folder; a crashed generation leaves nothing that looks finished.

LABELS maps (lib, fault) to the cause id a correct diagnosis names first (`causes.md`), or None for `healthy`.
Fault names are the cause ids themselves. A sidecar `<lib>-<fault>-<hash>.json` next to each run records how long
generation took (it is not inside the run folder, so diagnosis never sees it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

LIBS = ("hf", "lightning")
FAULTS = (
    "healthy",
    "lr_too_high",
    "lr_too_low",
    "overfitting",
    "frozen_params",
    "nan_inf",
    "label_leakage",
    "zero_grad_missing",
)
LABELS: dict[tuple[str, str], str | None] = {
    (lib, fault): (None if fault == "healthy" else fault) for lib in LIBS for fault in FAULTS
}
_MODULES = {"hf": "reallib.hf_runs", "lightning": "reallib.lightning_runs"}
_PACKAGE_DIR = Path(__file__).resolve().parent
_TESTS_DIR = _PACKAGE_DIR.parent
REPO_ROOT = _TESTS_DIR.parent
# What the cache key hashes, per library: the modules whose code shapes the files its runs write (editing the HF
# generator does not retrain the Lightning runs). Bump _CACHE_EPOCH when the generation mechanics in this file
# change (environment, console capture) so stale runs are retrained.
_GENERATOR_FILES = {"hf": ("tasks.py", "hf_runs.py"), "lightning": ("tasks.py", "lightning_runs.py")}
_CACHE_EPOCH = 1
# One run trains in ~10 s; allow for a box loaded by other people's tests before calling it hung.
GENERATION_TIMEOUT_S = 600


def cache_root() -> Path:
    """`.cache/reallib/` in the repository (git-ignored), or $TRAINDOC_REALLIB_CACHE."""
    override = os.environ.get("TRAINDOC_REALLIB_CACHE")
    return Path(override) if override else REPO_ROOT / ".cache" / "reallib"


def code_version(lib: str) -> str:
    """12 hex digits over lib's generator sources and the library versions that shape the files they write."""
    digest = hashlib.sha256()
    digest.update(f"epoch={_CACHE_EPOCH}\0".encode())
    for name in _GENERATOR_FILES[lib]:
        digest.update(name.encode() + b"\0" + (_PACKAGE_DIR / name).read_bytes() + b"\0")
    for dist in ("torch", "transformers", "accelerate", "pytorch-lightning", "tensorboard"):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{dist}={version}\0".encode())
    digest.update(f"python={sys.version_info[:2]}".encode())
    return digest.hexdigest()[:12]


def reallib_run(lib: str, fault: str) -> Path:
    """The run folder of `lib` trained with `fault`, generating it first if this code version has not yet."""
    if lib not in LIBS:
        raise ValueError(f"unknown library {lib!r}; known: {', '.join(LIBS)}")
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"{lib}-{fault}-{code_version(lib)}"
    final = root / name
    if final.is_dir():
        return final
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if final.is_dir():  # another process finished it while we waited
            return final
        _generate(lib, fault, root, name)
    return final


def _generate(lib: str, fault: str, root: Path, name: str) -> None:
    tmp = root / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    env.pop("TENSORBOARD_LOGGING_DIR", None)
    cmd = [sys.executable, "-m", _MODULES[lib], "--fault", fault, "--out", str(tmp)]
    start = time.perf_counter()
    with open(tmp / "train.log", "wb") as console:
        # One file for both streams, unbuffered, like a terminal: dict lines land between progress-bar updates.
        proc = subprocess.run(
            cmd, cwd=tmp, env=env, stdout=console, stderr=subprocess.STDOUT, timeout=GENERATION_TIMEOUT_S
        )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (tmp / "train.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"generating {lib}/{fault} failed (exit {proc.returncode}):\n{tail}")
    (root / f"{name}.json").write_text(json.dumps({"lib": lib, "fault": fault, "seconds": round(seconds, 2)}))
    os.replace(tmp, root / name)
    _prune_stale(root, lib, fault, keep=name)


def _prune_stale(root: Path, lib: str, fault: str, keep: str) -> None:
    """Drop finished runs of this (lib, fault) from older code versions so the cache stays ~50 MB. Temporary
    folders are left alone: another process may still be writing one."""
    for old in root.glob(f"{lib}-{fault}-*"):
        if old.name.startswith(keep) or len(old.name.split(".")[0]) != len(keep):
            continue  # the current run, or a name that is not ours (e.g. "hf-nan_inf-x" vs "hf-nan_inf-x-y")
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def generation_seconds(lib: str, fault: str) -> float | None:
    """Wall time the cached run took to generate (None if it is not generated yet)."""
    sidecar = cache_root() / f"{lib}-{fault}-{code_version(lib)}.json"
    return json.loads(sidecar.read_text())["seconds"] if sidecar.is_file() else None


def all_runs(workers: int = 2) -> dict[tuple[str, str], Path]:
    """Every labelled run, generating the missing ones `workers` at a time (2: this box's core count)."""
    keys = list(LABELS)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        paths = list(pool.map(lambda key: reallib_run(*key), keys))
    return dict(zip(keys, paths, strict=True))
