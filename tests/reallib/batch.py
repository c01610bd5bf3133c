"""Train several runs of one library in one interpreter, one after another, each as its own process would have.

    python -m reallib.batch --lib hf --results RESULTS.jsonl --job FAULT OUT [--job FAULT OUT ...]

reallib_run trains each run in a fresh interpreter, which pays the library's import every time (transformers ~9
CPU-s, pytorch_lightning ~11 CPU-s on this project's machine, against ~3-8 CPU-s of training). The acceptance test
asks for a library's 8 runs together, so reallib.ensure_runs trains the missing ones here, importing the library
once. Nothing is forked (a fork after torch's import can hang on another machine's OpenMP runtime): the runs follow
one another in this process. Each run gets what a fresh process gives it: its own `train.log` as file descriptors 1
and 2 (unbuffered, both streams into one file, as reallib._generate captures a child), its folder as the working
directory, torch's default generator at its start-up seed, and the warning registries and once-only caches of the
libraries emptied, so a warning the previous run printed is printed again, transformers' verbosity back at its
start-up level, no progress bar left open. What that gives was compared with one process per run on the 16 runs of
tests/test_reallib_acceptance.py (reallib.ensure_runs' docstring).

One JSON line per job goes to RESULTS: {"out", "ok", "seconds"}; a job that raised leaves its traceback at the end
of its own train.log and ok false (the caller then generates it the ordinary way).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

# torch's default generator seed in a fresh interpreter (torch.initial_seed() before any manual_seed): each run
# starts from it, as it would in its own process, whatever the previous run drew
TORCH_STARTUP_SEED = 67280421310721


def _fresh_process_state() -> None:
    import torch

    torch.manual_seed(TORCH_STARTUP_SEED)
    warnings._filters_mutated()  # every module's once-per-location registry is stale: a warning shows again
    for mod in list(sys.modules.values()):
        registry = getattr(mod, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    # the previous Trainer set transformers' verbosity to its log_level ("info"): back to the start-up level, or the
    # next run logs at info what a fresh process logs before its Trainer exists (TrainingArguments' device set-up)
    # a progress bar the previous run left open (its Trainer's, kept alive by a reference cycle) makes tqdm.write
    # clear and redraw it around every printed line: one more line break before each dict the next run prints
    gc.collect()
    tqdm_std = sys.modules.get("tqdm.std")
    if tqdm_std is not None:
        tqdm_std.tqdm._instances.clear()
    tlog = sys.modules.get("transformers.utils.logging")
    if tlog is not None:
        tlog.set_verbosity(tlog._get_default_logging_level())
    # transformers' logger.warning_once / info_once are functools.lru_cache'd module functions
    for modname, names in (("transformers.utils.logging", ("warning_once", "info_once")),
                           ("lightning_fabric.utilities.rank_zero", ("rank_zero_info", "rank_zero_warn")),
                           ("pytorch_lightning.utilities.rank_zero", ("rank_zero_info", "rank_zero_warn"))):
        mod = sys.modules.get(modname)
        for name in names:
            cached = getattr(mod, name, None)
            if hasattr(cached, "cache_clear"):
                cached.cache_clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, choices=("hf", "lightning"))
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--job", nargs=2, action="append", required=True, metavar=("FAULT", "OUT"))
    ns = parser.parse_args(argv)
    module = importlib.import_module({"hf": "reallib.hf_runs", "lightning": "reallib.lightning_runs"}[ns.lib])
    saved = os.dup(1), os.dup(2)
    home = os.getcwd()
    with open(ns.results, "a") as results:
        for fault, out in ns.job:
            _fresh_process_state()
            sys.stdout.flush()
            sys.stderr.flush()
            fd = os.open(Path(out) / "train.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
            os.chdir(out)
            start = time.perf_counter()
            try:
                module.main(["--fault", fault, "--out", str(out)])
                ok = True
            except BaseException:  # noqa: BLE001 - recorded; the caller regenerates the run on its own
                traceback.print_exc()
                ok = False
            seconds = time.perf_counter() - start
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.chdir(home)
            results.write(json.dumps({"out": out, "ok": ok, "seconds": round(seconds, 2)}) + "\n")
            results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
