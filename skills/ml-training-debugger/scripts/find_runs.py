"""List folders that hold training-run artifacts, newest first, so the skill can pick a run when the user named
none. Standard library only (it must work even before the backend is installed).

    find-runs [DIR]     # default: the current directory

One line per folder: `<path>  <what it holds>  modified <UTC time>`. Exit 0 when something was found, 1 when not.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import time
from pathlib import Path

MAX_DEPTH = 5  # run folders sit a few levels down (runs/exp42/, lightning_logs/version_0/); deeper is noise
MAX_LISTED = 15  # the skill shows these to the user; more would bury the likely run
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "env", "__pycache__", "site-packages", ".traindoc",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".claude", "dist", "build"}

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


def classify(names: list[str], markers: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for label, patterns in markers:
        found = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
        if found:
            hits[label] = found
    return hits


def find_runs(root: Path) -> list[tuple[float, str, str]]:
    rows = []
    root_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        depth = len(here.parts) - root_depth
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        if depth >= MAX_DEPTH:
            dirnames[:] = []
        # a checkpoints/ subfolder belongs to its parent run: count it there
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
        mtime = max((here / f).stat().st_mtime for f in files if (here / f).exists())
        what = ", ".join(f"{label}: {', '.join(fs[:3])}{' ...' if len(fs) > 3 else ''}"
                         for label, fs in {**run_hits, **extra}.items())
        rel = os.path.relpath(here, Path.cwd())
        rows.append((mtime, rel, what))
    rows.sort(key=lambda r: -r[0])
    return rows


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    if not root.is_dir():
        print(f"find-runs: {root} is not a folder", file=sys.stderr)
        return 2
    rows = find_runs(root)
    if not rows:
        print(f"find-runs: no training artifacts (metrics files, trainer_state.json, TensorBoard events, logs) "
              f"under {root}")
        return 1
    for mtime, rel, what in rows[:MAX_LISTED]:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(mtime))
        print(f"{rel}  [{what}]  modified {stamp}")
    if len(rows) > MAX_LISTED:
        print(f"... {len(rows) - MAX_LISTED} more folders; pass a narrower DIR to see them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
