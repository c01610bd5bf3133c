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

Trainings of fixed files are shared too, keyed by their inputs. A fix loop's retrain (tests/test_loop_zoo.py, through
shared_retrain) reads the same files as a fixed workspace whenever apply edits the workspace as the known fix does,
and several fixed workspaces are the same files (five known fixes restore the healthy configuration); same files, same
run (the trainer is deterministic: single-threaded, seeded by its config; test_zoo_symptoms checks a rerun gives the
same losses). shared_training() keys a run on what a training reads (train.py, the top-level *.yaml configs as the
values the trainer parses from them, the phase1/ package) and its arguments (the --out folder left out), trains it
once per code version into .cache/zoo/runs-<version>/ and hands later askers a copy, the workspace paths its warnings
cite rewritten to theirs.
Every shared training runs under train_workspace's pinned environment (single-threaded BLAS, a fixed hash seed, no
PYTHONPATH), whoever asks, so the key needs no environment. Faulty workspaces are never shared: their runs are what
the loops diagnose, and a retrain handed the diagnosed run back would be a copy, not a retrain.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import shutil
import subprocess
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
            # the files a fix loop's apply also writes when it fixes the scenario the known way: one training for both
            scenarios.apply_known_fix(ws, name)
            rc = shared_training(ws, ["--out", "run"], timeout=1200, link=True).returncode
        else:
            rc = scenarios.train_workspace(ws, out=ws / "run", quiet=True, timeout=1200)
        if not (ws / "run" / "metrics.jsonl").exists():
            raise RuntimeError(f"zoo scenario {name} wrote no metrics (exit {rc}); workspace kept at {ws}")
        _dedupe_checkpoints(ws / "run" / "checkpoints")
        done.write_text(f"{name} reduced={reduced} fixed={fixed} exit={rc}\n")
        _collect_stale(key, ws)
    return ws


def _training_inputs(ws: Path) -> list[Path]:
    """The files a workspace training reads: train.py, its config (config.yaml, or another top-level YAML named by
    --config) and the phase1/ package it imports (train.py refuses any other copy of phase1)."""
    files = [ws / "train.py", *sorted(ws.glob("*.yaml"))]
    files += sorted(p for p in (ws / "phase1").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def _out_arg(args: list[str]) -> str | None:
    """The value of train.py's --out (`--out X` or `--out=X`), None when absent or given twice."""
    found = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--out"]
    found += [a.split("=", 1)[1] for a in args if a.startswith("--out=")]
    return found[0] if len(found) == 1 else None


def _input_bytes(ws: Path, path: Path) -> bytes:
    """What a training reads from one input file. A top-level YAML config counts as the values the trainer parses
    from it, not as its text: the trainer reads it with phase1.config.load_yaml (yaml.safe_load), so `5.0e-3` and
    `0.005`, a comment or a blank line make the same run. apply writes a fixed value in the plan's spelling and a
    known fix dumps it as PyYAML does: the lr_too_low loop's retrain (`optim.muon_lr: 5.0e-3`) and the fixed
    workspace (`0.005`) trained the same run twice, equal effective config and equal losses at every step (measured
    2026-12-07). Only where the workspace's own phase1/config.py still loads with yaml.safe_load (the phase1 files are
    in the key too), and the text when it does not parse: the trainer then fails on it, its own run."""
    data = path.read_bytes()
    loader = ws / "phase1" / "config.py"
    if path.parent != ws or path.suffix != ".yaml" or not loader.is_file() \
            or b"yaml.safe_load(" not in loader.read_bytes():
        return data
    try:
        import yaml

        # key order kept: dotted keys and sections are applied in file order, a later one overriding
        return b"yaml-values\0" + json.dumps(yaml.safe_load(data), default=repr).encode()
    except (yaml.YAMLError, ValueError, TypeError):
        return data


def _training_key(ws: Path, args: list[str]) -> str:
    out = _out_arg(args)
    digest = hashlib.sha256(f"{sys.version}\0".encode())
    for path in _training_inputs(ws):
        digest.update(str(path.relative_to(ws)).encode() + b"\0" + _input_bytes(ws, path) + b"\0")
    for a in args:  # where the run is written is no input to it
        digest.update(b"<out>\0" if a in (out, f"--out={out}") else a.encode() + b"\0")
    return digest.hexdigest()[:16]


def _runs_dir() -> Path:
    runs = CACHE / f"runs-{code_version()}"
    if not runs.is_dir():
        runs.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for old in CACHE.glob("runs-*"):
            if old != runs and now - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
    return runs


def _link_or_copy(src: str | Path, dest: str | Path) -> None:
    """A hard link where both lie on one file system (a pytest tmp folder may be on another one: then a copy)."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _place_run(src: Path, src_ws: str, dest: Path, dest_ws: Path, link: bool) -> None:
    """Copy a trained run folder to dest, its metrics' warnings citing dest_ws's files instead of src_ws's (what a
    training there would have written). link=True hard-links the other files (cache to cache: both read-only)."""
    for path in sorted(src.rglob("*")):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.name == "metrics.jsonl":
            target.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8")
            target.write_text(text.replace(json.dumps(src_ws + os.sep)[1:-1], json.dumps(str(dest_ws) + os.sep)[1:-1]),
                              encoding="utf-8")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            (_link_or_copy if link else shutil.copyfile)(path, target)


def shared_training(ws: Path, args: list[str], env: dict[str, str] | None = None, timeout: float = 1200,
                    link: bool = False) -> subprocess.CompletedProcess[str]:
    """`python train.py ARGS` in workspace WS, trained once per distinct inputs and arguments: a later call with the
    same ones gets that run copied into its --out folder (hard-linked with link=True, for read-only caches) and the
    first call's exit status and output. `env` is the caller's environment (default: this process's), pinned as
    scenarios.train_workspace pins it. An --out folder that already holds files is trained into, unshared (what the
    trainer does with an existing run is its own business, not a copy's)."""
    ws = Path(ws).resolve()
    out = _out_arg(args)
    if out is None:
        raise ValueError(f"shared_training needs exactly one --out folder, got {args}")
    run = ws / out
    env = {**(env if env is not None else os.environ), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    argv = [sys.executable, "train.py", *args]
    if run.is_dir() and any(run.iterdir()):
        proc = subprocess.run(argv, cwd=ws, env=env, capture_output=True, text=True, timeout=timeout)
        return subprocess.CompletedProcess(argv, proc.returncode, proc.stdout + proc.stderr, "")
    runs = _runs_dir()
    key = _training_key(ws, args)
    entry = runs / key
    with open(runs / f".lock-{key}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second asker waits for the first one's training, then copies it
        if (entry / "done.json").is_file():
            done = json.loads((entry / "done.json").read_text())
            _place_run(entry / "run", done["workspace"], run, ws, link)
            return subprocess.CompletedProcess(argv, done["returncode"], done["output"], "")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(argv, cwd=ws, env=env, capture_output=True, text=True, timeout=timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if (run / "metrics.jsonl").is_file():
            tmp = runs / f".tmp-{key}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(run, tmp / "run", copy_function=_link_or_copy)  # nothing edits a finished run in place
            done = {"workspace": str(ws), "returncode": proc.returncode, "output": proc.stdout + proc.stderr,
                    # what sharing saves each later asker (CPU seconds of the training process)
                    "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)}
            (tmp / "done.json").write_text(json.dumps(done))
            shutil.rmtree(entry, ignore_errors=True)
            os.replace(tmp, entry)
        return subprocess.CompletedProcess(argv, proc.returncode, proc.stdout + proc.stderr, "")


def shared_retrain(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """run_loop's `retrain` for zoo workspaces: a `python train.py ... --out DIR` retrain goes through
    shared_training (a fixed workspace is often the same training: verify still reads a run of exactly the files apply
    wrote, placed now); any other command runs as it is."""
    cwd = Path(cwd)
    script = {"train.py", str(cwd / "train.py"), str(cwd.resolve() / "train.py")}
    if (len(argv) >= 2 and argv[0] == sys.executable and argv[1] in script and (cwd / "phase1").is_dir()
            and _out_arg(argv[2:]) is not None):
        return shared_training(cwd, argv[2:], env=env, timeout=timeout)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


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
