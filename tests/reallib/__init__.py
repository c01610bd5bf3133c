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

LABELS maps (lib, fault) to the cause id a correct diagnosis names first (`docs/causes.md`), or None for `healthy`.
Fault names are the cause ids themselves. VARIANTS / VARIANT_LABELS / variant_run(lib, name) add the same faults
at other severities and recipes, for calibration (not part of the acceptance set). A sidecar
`<lib>-<fault>-<hash>.json` next to each run records how long generation took (it is not inside the run folder,
so diagnosis never sees it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
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
# Variants: the same faults at another severity or with another recipe (schedule, seed, evaluation by epoch,
# validation cadence), so calibration and detector thresholds are not fitted to one instance per cause. Not used
# by the acceptance test; materialised by `tools/make_labelled_runs.py --variants`. (lib, name) -> (fault, recipe
# overrides), the keys being those of hf_runs.recipe / lightning_runs.recipe. The variants keep the length they were
# made with, HF 300 steps and Lightning 4 epochs (the acceptance runs went to 200 steps, hf_runs.STEPS, and 3
# epochs, lightning_runs.EPOCHS).
VARIANTS: dict[tuple[str, str], tuple[str, dict]] = {
    ("hf", "healthy-cosine"): (
        "healthy",
        {"lr": 1e-3, "scheduler": "cosine", "seed": 1, "batch": 32, "steps": 180, "eval_steps": 20,
         "tensorboard": True},
    ),
    ("hf", "lr_too_high-stuck"): ("lr_too_high", {"lr": 1.0, "steps": 300}),
    ("hf", "overfitting-by-epoch"): ("overfitting", {"train_lines": 32, "epochs": 60}),
    ("hf", "label_leakage-eval-too"): ("label_leakage", {"leak_eval": True, "steps": 300}),
    ("lightning", "healthy-epoch-val"): (
        "healthy",
        {"train_lines": 1600, "epochs": 6, "val_check_interval": 1.0, "seed": 1},
    ),
    ("lightning", "lr_too_high-explode"): ("lr_too_high", {"lr": 3.0, "epochs": 4}),
    ("lightning", "lr_too_low-1e-6"): ("lr_too_low", {"lr": 1e-6, "epochs": 4}),
    ("lightning", "zero_grad_missing-epoch-val"): (
        "zero_grad_missing",
        {"train_lines": 1600, "epochs": 6, "val_check_interval": 1.0},
    ),
}
VARIANT_LABELS: dict[tuple[str, str], str | None] = {
    key: (None if fault == "healthy" else fault) for key, (fault, _) in VARIANTS.items()
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
    return _cached(lib, fault, fault, {})


def variant_run(lib: str, variant: str) -> Path:
    """The run folder of one of VARIANTS (same cache, same lock discipline as reallib_run)."""
    if (lib, variant) not in VARIANTS:
        raise ValueError(f"unknown variant {lib}/{variant}; known: {', '.join(f'{k[0]}/{k[1]}' for k in VARIANTS)}")
    fault, overrides = VARIANTS[(lib, variant)]
    return _cached(lib, variant, fault, overrides)


def _run_key(lib: str, overrides: dict) -> str:
    if not overrides:
        return code_version(lib)
    return hashlib.sha256(f"{code_version(lib)}{json.dumps(overrides, sort_keys=True)}".encode()).hexdigest()[:12]


def _cached(lib: str, run_name: str, fault: str, overrides: dict) -> Path:
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"{lib}-{run_name}-{_run_key(lib, overrides)}"
    final = root / name
    if final.is_dir():
        return final
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if final.is_dir():  # another process finished it while we waited
            return final
        _generate(lib, fault, overrides, root, name)
        _prune_stale(root, lib, run_name, keep=name)
    return final


def ensure_runs(lib: str, faults: list[str] | tuple[str, ...]) -> dict[str, Path]:
    """reallib_run(lib, f) for every fault in `faults`, the missing ones trained in ONE interpreter one after another
    (reallib.batch: the library imported once, not once per run: ~9-11 CPU-s a run saved), each still in its own
    temporary folder renamed into place when complete, under the same per-run locks (taken in sorted order; other
    askers hold one lock at a time, so nobody waits in a cycle). A run the batch did not finish is generated the
    ordinary way. Compared 2026-12-07 with one process per run, all 16 (lib, fault) runs: the same files; the same
    weights in every checkpoint and saved model (NaN for NaN); every metric series traindoc reads equal except the
    timings (runtime, samples/steps per second); the same reader warnings; every console line but the progress bars'
    redraws and those timings the same, in order; Lightning's metrics.csv and hparams.yaml byte for byte. Children's
    CPU on this project's 2-core box: HF 192 -> 125 s, Lightning 170 -> 95 s for the 8 runs."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    names = {fault: f"{lib}-{fault}-{_run_key(lib, {})}" for fault in faults}
    missing = sorted(f for f, n in names.items() if not (root / n).is_dir())
    locks = []
    try:
        for fault in missing:
            lock = open(root / f"{names[fault]}.lock", "w")  # noqa: SIM115 - held until every run is in place
            locks.append(lock)
            fcntl.flock(lock, fcntl.LOCK_EX)
        todo = [f for f in missing if not (root / names[f]).is_dir()]
        if todo:
            _generate_batch(lib, todo, root, names)
    finally:
        for lock in locks:
            lock.close()
    return {fault: reallib_run(lib, fault) for fault in faults}


def _generate_batch(lib: str, faults: list[str], root: Path, names: dict[str, str]) -> None:
    tmps = {f: root / f".tmp-{names[f]}-{os.getpid()}" for f in faults}
    for tmp in tmps.values():
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    results = root / f".batch-{lib}-{os.getpid()}.jsonl"
    results.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    env.pop("TENSORBOARD_LOGGING_DIR", None)
    cmd = [sys.executable, "-m", "reallib.batch", "--lib", lib, "--results", str(results)]
    for f in faults:
        cmd += ["--job", f, str(tmps[f])]
    try:
        subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=GENERATION_TIMEOUT_S * len(faults))
    except subprocess.TimeoutExpired:
        pass  # the runs it finished are kept; the rest are generated one by one below
    done = {}
    if results.is_file():
        for line in results.read_text().splitlines():
            entry = json.loads(line)
            done[entry["out"]] = entry
        results.unlink()
    for f in faults:
        entry = done.get(str(tmps[f]))
        if entry is None or not entry["ok"]:
            shutil.rmtree(tmps[f], ignore_errors=True)  # left to reallib_run, which trains it on its own
            continue
        meta = {"lib": lib, "fault": f, "overrides": {}, "seconds": entry["seconds"], "batched": True}
        (root / f"{names[f]}.json").write_text(json.dumps(meta))
        os.replace(tmps[f], root / names[f])
        _prune_stale(root, lib, f, keep=names[f])


def _generate(lib: str, fault: str, overrides: dict, root: Path, name: str) -> None:
    tmp = root / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    env.pop("TENSORBOARD_LOGGING_DIR", None)
    cmd = [sys.executable, "-m", _MODULES[lib], "--fault", fault, "--out", str(tmp)]
    if overrides:
        cmd += ["--overrides", json.dumps(overrides, sort_keys=True)]
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
        raise RuntimeError(f"generating {name} failed (exit {proc.returncode}):\n{tail}")
    meta = {"lib": lib, "fault": fault, "overrides": overrides, "seconds": round(seconds, 2)}
    (root / f"{name}.json").write_text(json.dumps(meta))
    os.replace(tmp, root / name)


def _prune_stale(root: Path, lib: str, run_name: str, keep: str) -> None:
    """Drop finished runs of this (lib, run) from older code versions so the cache stays ~50 MB. Temporary
    folders are left alone: another process may still be writing one."""
    ours = re.compile(rf"{re.escape(lib)}-{re.escape(run_name)}-[0-9a-f]{{12}}(\.json|\.lock)?")
    for old in root.iterdir():
        if old.name.startswith(keep) or not ours.fullmatch(old.name):
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def generation_seconds(lib: str, run_name: str) -> float | None:
    """Wall time the cached run (a fault, or a variant name) took to generate; None if not generated yet."""
    overrides = VARIANTS[(lib, run_name)][1] if (lib, run_name) in VARIANTS else {}
    sidecar = cache_root() / f"{lib}-{run_name}-{_run_key(lib, overrides)}.json"
    return json.loads(sidecar.read_text())["seconds"] if sidecar.is_file() else None


def all_runs(workers: int = 2, variants: bool = False) -> dict[tuple[str, str], Path]:
    """Every labelled run (and with variants=True every variant too), generating the missing ones `workers` at a
    time (2: this box's core count). Keys are (lib, fault) or (lib, variant name)."""
    jobs = [(key, lambda k=key: reallib_run(*k)) for key in LABELS]
    if variants:
        jobs += [(key, lambda k=key: variant_run(*k)) for key in VARIANTS]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        paths = list(pool.map(lambda job: job[1](), jobs))
    return dict(zip([key for key, _ in jobs], paths, strict=True))
