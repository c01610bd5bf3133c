"""List the training runs under a folder, newest first, so the skill can pick a run when the user named none.
Standard library only (it must work even before the backend is installed).

    find-runs [DIR]     # default: the current directory

One line per run: `<path>  [<what it holds>]  modified <UTC time>`, plus `also logged in: ...` when the same run
is seen through several folders. Exit 0 when something was found, 1 when not, 2 when DIR is not a folder.

One run, one line: a run is often visible through several folders - the console log redirected to ./train.log
next to the metrics its trainer wrote into output/, HF Trainer's checkpoint-N/trainer_state.json snapshots, its
TensorBoard events under output/runs/<date>/. Folders are merged when
  - at the steps both logged, their losses agree (at 4 significant digits, at least MIN_SHARED steps and half of
    the common steps): the same numbers at the same steps are the same run, whatever the file format;
  - a checkpoint-N/ folder or a folder holding only TensorBoard events sits inside a run folder with
    trainer_state.json (HF Trainer writes both into its output_dir).
"""

from __future__ import annotations

import csv
import fnmatch
import json
import math
import os
import re
import sys
import time
from pathlib import Path

MAX_DEPTH = 5  # run folders sit a few levels down (runs/exp42/, lightning_logs/version_0/); deeper is noise
MAX_LISTED = 15  # the skill shows these to the user; more would bury the likely run
MAX_READ = 1 << 20  # bytes read per file for the fingerprint: thousands of steps, bounded on huge logs
MIN_SHARED = 3  # (step, loss) pairs two folders must share to be called one run; fewer could be coincidence
SIG_DIGITS = 4  # consoles print loss with 4 decimals (phase1) or 4-6 significant digits (HF, Lightning)
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "env", "__pycache__", "site-packages", ".traindoc",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".claude", "dist", "build", ".traindoc-backend"}

# (label, glob patterns). Metrics/log files make a folder a run; configs, checkpoints and samples only add to it.
RUN_MARKERS = [
    ("metrics", ["metrics.jsonl", "*metrics*.jsonl", "metrics.csv", "trainer_state.json", "events.out.tfevents.*",
                 "wandb-history.jsonl", "history.csv", "log_history.json"]),
    ("log", ["*.log", "train*.txt", "output.log", "stdout*.txt", "nohup.out"]),
]
EXTRA_MARKERS = [
    ("config", ["config.yaml", "config.yml", "config.json", "hparams.yaml", "*.toml", "training_args.json"]),
    ("checkpoint", ["*.pt", "*.pth", "*.ckpt", "*.safetensors", "pytorch_model.bin"]),
    ("samples", ["samples*.txt", "samples*.jsonl", "generations*.txt"]),
]
STEP_KEYS = ("step", "global_step", "trainer/global_step", "_step")
LOSS_KEYS = ("loss", "train_loss", "train/loss", "training_loss")
TEXT_STEP = re.compile(r"\b(?:global_)?step\b\s*[:=]?\s*(\d+)", re.I)
TEXT_LOSS = re.compile(r"\b(?:train_)?loss\b\s*[:=]?\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)", re.I)
CHECKPOINT_DIR = re.compile(r"^checkpoint[-_]?\d+$")


def classify(names: list[str], markers: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for label, patterns in markers:
        found = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
        if found:
            hits[label] = found
    return hits


# ----------------------------------------------------------------------------------------------- fingerprints
def _key(step: object, loss: object) -> tuple[int, str] | None:
    try:
        s, v = int(step), float(loss)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(v):
        return None
    return s, f"{v:.{SIG_DIGITS - 1}e}"


def _first(record: dict, keys: tuple[str, ...]) -> object:
    return next((record[k] for k in keys if k in record), None)


def _head(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return f.read(MAX_READ).decode("utf-8", "replace")
    except OSError:
        return ""


def fingerprint(path: Path) -> set[tuple[int, str]]:
    """The (step, loss) pairs a metrics or log file holds, from its first MAX_READ bytes; empty when unknown."""
    text = _head(path)
    pairs: set[tuple[int, str] | None] = set()
    name = path.name
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        history = data.get("log_history") if isinstance(data, dict) else data
        for rec in history if isinstance(history, list) else []:
            if isinstance(rec, dict):
                pairs.add(_key(_first(rec, STEP_KEYS), _first(rec, LOSS_KEYS)))
    elif name.endswith(".jsonl"):
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                pairs.add(_key(_first(rec, STEP_KEYS), _first(rec, LOSS_KEYS)))
    elif name.endswith(".csv"):
        for rec in csv.DictReader(text.splitlines()):
            pairs.add(_key(_first(rec, STEP_KEYS), _first(rec, LOSS_KEYS)))
    elif not name.startswith("events.out.tfevents."):
        for line in text.splitlines():
            step, loss = TEXT_STEP.search(line), TEXT_LOSS.search(line)
            if step and loss:
                pairs.add(_key(step.group(1), loss.group(1)))
    pairs.discard(None)
    return pairs  # type: ignore[return-value]


def same_numbers(a: set[tuple[int, str]], b: set[tuple[int, str]]) -> bool:
    """Half the pairs both files could share (those in the step range both cover: one file may log every step,
    the other every 10th, and each is read only to MAX_READ) are equal."""
    if not a or not b:
        return False
    lo = max(min(s for s, _ in a), min(s for s, _ in b))
    hi = min(max(s for s, _ in a), max(s for s, _ in b))
    a2 = {p for p in a if lo <= p[0] <= hi}
    b2 = {p for p in b if lo <= p[0] <= hi}
    # steps both files logged: one logging every step and one every 10th can only agree on the common steps
    common_steps = {s for s, _ in a2} & {s for s, _ in b2}
    shared = len(a2 & b2)
    return shared >= MIN_SHARED and shared >= 0.5 * len(common_steps)


# ----------------------------------------------------------------------------------------------- the walk
class Folder:
    def __init__(self, path: Path, hits: dict[str, list[str]], mtime: float, pairs: set[tuple[int, str]]):
        self.path, self.hits, self.mtime, self.pairs = path, hits, mtime, pairs
        self.structured = any(not fnmatch.fnmatch(f, "events.out.tfevents.*") for f in hits.get("metrics", []))
        self.events_only = set(hits) <= {"metrics"} and not self.structured


def scan(root: Path) -> list[Folder]:
    folders = []
    root_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        depth = len(here.parts) - root_depth
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        if depth >= MAX_DEPTH:
            dirnames[:] = []
        # a checkpoints/ subfolder of model files belongs to its parent run: count it there
        sub_ckpts = []
        for d in ("checkpoints", "checkpoint"):
            if d in dirnames:
                try:
                    sub_ckpts = [f"{d}/{n}" for n in sorted(os.listdir(here / d))]
                except OSError:
                    pass
        run_hits = classify(filenames, RUN_MARKERS)
        if not run_hits:
            continue
        extra = classify(filenames + sub_ckpts, EXTRA_MARKERS)
        files = [f for fs in list(run_hits.values()) + list(extra.values()) for f in fs]
        mtime = max(((here / f).stat().st_mtime for f in files if (here / f).exists()), default=0.0)
        pairs: set[tuple[int, str]] = set()
        for f in [f for fs in run_hits.values() for f in fs]:
            pairs |= fingerprint(here / f)
        folders.append(Folder(here, {**run_hits, **extra}, mtime, pairs))
    return folders


def group(folders: list[Folder]) -> list[list[Folder]]:
    """Union the folders that are one run (module docstring); each group's first folder is the one to diagnose:
    structured metrics before a console log, then the outermost folder."""
    parent = list(range(len(folders)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(folders):
        for j in range(i + 1, len(folders)):
            b = folders[j]
            inner, outer = (a, b) if len(a.path.parts) > len(b.path.parts) else (b, a)
            nested = outer.path in inner.path.parents and "trainer_state.json" in outer.hits.get("metrics", []) \
                and (inner.events_only or CHECKPOINT_DIR.match(inner.path.name) is not None)
            if nested or same_numbers(a.pairs, b.pairs):
                parent[find(i)] = find(j)
    groups: dict[int, list[Folder]] = {}
    for i, f in enumerate(folders):
        groups.setdefault(find(i), []).append(f)
    return [sorted(g, key=lambda f: (not f.structured, f.events_only, len(f.path.parts), str(f.path)))
            for g in groups.values()]


def describe(hits: dict[str, list[str]]) -> str:
    return ", ".join(f"{label}: {', '.join(fs[:3])}{' ...' if len(fs) > 3 else ''}" for label, fs in hits.items())


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    if not root.is_dir():
        print(f"find-runs: {root} is not a folder", file=sys.stderr)
        return 2
    runs = group(scan(root))
    if not runs:
        print(f"find-runs: no training artifacts (metrics files, trainer_state.json, TensorBoard events, logs) "
              f"under {root}")
        return 1
    runs.sort(key=lambda g: -max(f.mtime for f in g))
    for g in runs[:MAX_LISTED]:
        main_folder = g[0]
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(max(f.mtime for f in g)))
        line = f"{os.path.relpath(main_folder.path, Path.cwd())}  [{describe(main_folder.hits)}]  modified {stamp}"
        if len(g) > 1:
            line += "  (same run, also logged in: " + ", ".join(
                os.path.relpath(f.path, Path.cwd()) for f in g[1:5]) + (" ..." if len(g) > 5 else "") + ")"
        print(line)
    if len(runs) > MAX_LISTED:
        print(f"... {len(runs) - MAX_LISTED} more runs; pass a narrower DIR to see them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
