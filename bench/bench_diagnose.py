"""Bench: diagnose a 1,000,000-step trainer JSONL log vs a bare JSON line parse of the same file.

Target (issue 3): diagnose time <= 1.5x the baseline. Both are measured side by side in one process, on the same
file, interleaved, best of N repeats each (after one warm-up pass that brings the file into the page cache); the
ratio of each repeat's pair is printed too, to show the spread:
- baseline: `for line in f: json.loads(line)` (nothing kept);
- traindoc: load_run(...) + every detector + ranking + calibration + schema validation + JSON rendering.
Also reports peak RSS growth of the diagnose pass (tracemalloc would slow numpy; ru_maxrss is what users see).

Usage: python bench/bench_diagnose.py [--steps 1000000] [--repeat 3] [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def write_log(path: Path, steps: int) -> None:
    """A realistic bundled-trainer log: step records with nested lr/act, evals, samples, a stage switch and a
    grad-norm spike under a too-high muon_lr (so the diagnosis has work to do)."""
    rng = np.random.default_rng(0)
    t = np.arange(1, steps + 1)
    loss = 3 * np.exp(-t / (steps / 10)) + 0.2 + 0.01 * rng.standard_normal(steps)
    grad = 2 + 0.1 * rng.standard_normal(steps)
    switch = int(steps * 0.7)
    grad[switch + 3] = 45.2
    loss[switch:] += np.linspace(0, 0.4, steps - switch)
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "config": {"optim": {"muon_lr": 1e-2, "adam_lr": 3e-3,
                                                                 "warmup_steps": 100, "grad_clip": 1.0}},
                            "params": {"total": 10_000_000, "embedding": 1_000_000, "unembedding": 0,
                                       "blocks": 9_000_000, "act_head": 1000, "other": 0, "trainable": 10_000_000,
                                       "tied": True},
                            "optimizer": "mugrokfast", "model": "reasoning"}) + "\n")
        lines = []
        for i in range(steps):
            s = int(t[i])
            stage = "Foundation" if s < switch else "Advanced"
            if s == switch:
                lines.append(json.dumps({"type": "stage", "step": s, "epoch": 7, "stage": "Advanced"}))
            lr = 1e-2 * min(1.0, s / 100)
            lines.append(f'{{"type": "step", "step": {s}, "epoch": {s * 10 // steps}, "stage": "{stage}", '
                         f'"loss": {loss[i]:.6f}, "grad_norm": {grad[i]:.5f}, "lr": {{"muon": {lr:.6g}, '
                         f'"adam": {lr * 0.3:.6g}}}, "act": {{"halt_mean": 0.5, "halt_var": 0.02, '
                         f'"steps_mean": 2.0}}, "tokens_per_s": 10000.0, "time": {s * 0.01:.2f}}}')
            if s % (steps // 50) == 0:
                lines.append(json.dumps({"type": "eval", "step": s, "epoch": s * 10 // steps, "stage": stage,
                                         "val_loss": float(loss[i] * 1.05), "train_loss": float(loss[i])}))
            if len(lines) >= 10000:
                f.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            f.write("\n".join(lines) + "\n")
        f.write(json.dumps({"type": "end", "step": steps, "status": "completed", "message": ""}) + "\n")


def baseline(path: Path) -> float:
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
    return time.perf_counter() - t0


def traindoc_diagnose(path: Path) -> tuple[float, dict]:
    from traindoc.diagnosis.build import diagnose, validate
    from traindoc.ingest.loader import load_run

    t0 = time.perf_counter()
    run = load_run([str(path)])
    t1 = time.perf_counter()
    doc = diagnose(run, [str(path)])
    validate(doc)
    json.dumps(doc)
    t2 = time.perf_counter()
    doc["_split"] = {"ingest_s": t1 - t0, "evidence_diagnosis_render_s": t2 - t1}
    return t2 - t0, doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", help="write/reuse the log at this path")
    args = ap.parse_args(argv)
    tmp = None
    if args.keep:
        path = Path(args.keep)
    else:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "metrics.jsonl"
    if not path.exists():
        t0 = time.perf_counter()
        write_log(path, args.steps)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)
    baseline(path)  # warm the page cache
    load0 = os.getloadavg()[0]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # interleaved (bare, diagnose, bare, diagnose, ...) so that a change in machine load hits both sides
    bases, runs = [], []
    for _ in range(args.repeat):
        bases.append(baseline(path))
        runs.append(traindoc_diagnose(path))
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    base = min(bases)
    best_run = min(runs, key=lambda r: r[0])
    best = best_run[0]
    doc = best_run[1]
    split = {k: round(v, 3) for k, v in doc.pop("_split").items()}
    top = doc["root_causes"][0]["cause"] if doc["root_causes"] else doc["verdict"]
    pair_ratios = sorted(r[0] / b for r, b in zip(runs, bases, strict=True))
    out = {"steps": args.steps, "file_mb": round(path.stat().st_size / 1e6, 1),
           "bare_json_parse_s": round(base, 3), "diagnose_s": round(best, 3), "ratio": round(best / base, 3), **split,
           "per_repeat_ratios": [round(r, 3) for r in pair_ratios], "target_ratio": 1.5,
           "peak_rss_growth_mb": round((rss1 - rss0) / 1024, 1), "top_cause": top, "cpu": os.cpu_count(),
           "load_average": [round(load0, 1), round(os.getloadavg()[0], 1)]}
    print(json.dumps(out, indent=1))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
