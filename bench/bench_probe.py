"""Bench: `traindoc probe` on the bundled trainer at its default size (about 25M parameters).

Goal (issue 11): every probe together finishes in <= 30 s on the project's 2-core CPU box. Baseline, measured in
the same process on the same model and batch: one training step (forward, backward, MuGrokfast step), so the
ratio probe / step says how many training steps' worth of compute the probe costs on any machine.

Usage: python bench/bench_probe.py [--batch 4] [--seq 128] [--repeat 2] [--write]
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "examples"), str(ROOT / "bench")]

from probe_phase1 import phase1_parts  # noqa: E402

import traindoc  # noqa: E402
from bench_trainer import commit, write_section  # noqa: E402


def train_step_seconds(parts: dict, repeat: int) -> float:
    """Median wall time of one real training step (on copies: the probe then sees the untouched model)."""
    model, opt = copy.deepcopy((parts["model"], parts["optimizer"]))
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        parts["loss_fn"](parts["forward"](model, parts["batch"]), parts["batch"]).backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])  # the first step allocates optimiser state


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=2, help="probe runs (median) and baseline steps")
    ap.add_argument("--write", action="store_true", help="update the '## Probe' section of bench/RESULTS.md")
    args = ap.parse_args()
    parts = phase1_parts(test=False, batch_size=args.batch, seq_len=args.seq)
    n_params = sum(p.numel() for p in parts["model"].parameters())
    step = train_step_seconds(parts, args.repeat)
    runs, reports = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        reports.append(traindoc.probe(**parts))
        runs.append(time.perf_counter() - t0)
    total = statistics.median(runs)
    rep = reports[runs.index(max(runs))] if len(runs) % 2 == 0 else reports[runs.index(total)]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Probe",
        "",
        f"`python bench/bench_probe.py --write` — {when}, commit {commit()}, {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}; the bundled trainer at its default "
        f"size ({n_params:,} parameters), batch {args.batch} x {args.seq} tokens; median of {args.repeat} probe "
        f"runs; shared machine (other sessions' work running).",
        "",
        "| Measure | Value | Baseline (same run) | Ratio | Goal |",
        "|---|---|---|---|---|",
        f"| every probe, one call of `traindoc.probe` | {total:.1f} s | one training step: {step:.2f} s | "
        f"{total / step:.1f} steps | <= 30 s {'met' if total <= 30 else 'NOT met'} |",
        "",
        "Per probe (slowest run): " + ", ".join(f"{k} {v:.2f} s" for k, v in rep.seconds.items()) + ".",
        f"Findings on the healthy trainer: {[f.cause for f in rep.findings] or 'none'}; "
        f"{'; '.join(rep.notes)}.",
        "",
        f"What holds on any machine is the ratio to a training step of the probed model: the whole probe costs "
        f"{total / step:.1f} steps, of which the single-batch overfit (real optimiser steps until the loss halves) "
        f"is {rep.seconds.get('overfit', 0) / step:.1f} and everything else "
        f"{(sum(rep.seconds.values()) - rep.seconds.get('overfit', 0)) / step:.1f}. It therefore meets 30 s "
        f"wherever one training step of this model takes under {30 / (total / step):.1f} s; here one took "
        f"{step:.1f} s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(ROOT / "bench" / "RESULTS.md", text, "## Probe")
    return 0 if total <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
