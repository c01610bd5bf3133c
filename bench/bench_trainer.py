"""Benchmarks of the Phase 1 trainer, every ratio against a baseline measured in the same process.

1. Instrumentation overhead: the real trainer (`phase1.train_phase1.train`, JSONL log, ACT stats, grad-norm,
   warning capture, LR schedule) with AdamW vs a plain PyTorch loop of the same model, same batches, AdamW and no
   instrumentation. Goal: trainer tokens/s >= 0.9x the plain loop. The full trainer (MuGrokfast) is reported too.
2. MuGrokfast vs AdamW: the time of one full training step (forward, backward, optimiser) of the same model with
   each optimiser, and the optimiser step alone. Goal: full step <= 1.5x AdamW's.

Runs alternate (A, B, then B, A, ...) and every repeat yields one ratio per measure; the script repeats until each
ratio's interquartile range is within 10 % of its median (or its budget runs out) and reports median and IQR,
because this machine is shared and its speed drifts: 3 repeats of 30 steps once printed 51.2x for a ratio.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_trainer.py            # a few minutes on 2 shared cores
    .venv/bin/python bench/bench_trainer.py --quick                      # smoke run, seconds
    .venv/bin/python bench/bench_trainer.py --write bench/RESULTS.md     # also update the "## Trainer" section
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from phase1.config import Config, build_config  # noqa: E402
from phase1.data import Phase1Data  # noqa: E402
from phase1.model import Phase1Model  # noqa: E402
from phase1.optim import build_optimizer  # noqa: E402
from phase1.train_phase1 import train  # noqa: E402

SKIP = 5  # warm-up steps excluded from every timing (allocator, first-call overheads)


def bench_config(steps: int, quick: bool) -> Config:
    size = (["model.d_model=64", "model.n_layers=2", "model.n_heads=2", "data.seq_len=64", "model.max_seq_len=64"]
            if quick else ["model.d_model=128", "model.n_layers=3", "model.n_heads=4", "data.seq_len=64",
                           "model.max_seq_len=64"])
    return build_config("reasoning", sets=size + [
        "model.act_max_steps=3", "data.train_size=256", "data.val_size=16", "train.batch_size=16",
        "train.epochs=1", f"train.steps_per_epoch={steps}", "train.eval_batches=1", "train.sample_tokens=1",
        "train.device=cpu", "train.log_every=100000", "train.threads=0",
    ])


def trainer_tokens_per_s(cfg: Config) -> float:
    """Tokens/s of the real trainer over steps SKIP..N, from the `time` field of its own step records."""
    with tempfile.TemporaryDirectory() as tmp:
        assert train(cfg, Path(tmp)) == 0
        steps = [json.loads(line) for line in (Path(tmp) / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in steps if r["type"] == "step"]
    tokens = cfg.train.batch_size * cfg.data.seq_len * (len(steps) - SKIP)
    return tokens / (steps[-1]["time"] - steps[SKIP - 1]["time"])


def plain_loop_tokens_per_s(cfg: Config) -> float:
    """The same model, batches and AdamW in the plainest loop PyTorch allows: no logging, no clipping, no stats."""
    torch.manual_seed(cfg.train.seed)
    data = Phase1Data(cfg)
    model = Phase1Model(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.adam_lr, betas=tuple(cfg.optim.adam_betas))
    n = cfg.train.steps_per_epoch
    for i in range(n):
        if i == SKIP:
            t0 = time.perf_counter()
        x, y = data.batch("Foundation", 1, i)
        loss = model(x, y).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    loss.item()
    return cfg.train.batch_size * cfg.data.seq_len * (n - SKIP) / (time.perf_counter() - t0)


def step_times(cfg: Config, optimizer: str) -> tuple[float, float]:
    """Median seconds of a full training step and of optimizer.step() alone, for one optimiser."""
    cfg.optim.name = optimizer
    torch.manual_seed(cfg.train.seed)
    data = Phase1Data(cfg)
    model = Phase1Model(cfg.model)
    opt = build_optimizer(model, cfg.optim)
    full, opt_only = [], []
    for i in range(cfg.train.steps_per_epoch):
        x, y = data.batch("Foundation", 1, i)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        model(x, y).loss.backward()
        t1 = time.perf_counter()
        opt.step()
        t2 = time.perf_counter()
        if i >= SKIP:
            full.append(t2 - t0)
            opt_only.append(t2 - t1)
    return statistics.median(full), statistics.median(opt_only)


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    """(q1, median, q3) of a sample (inclusive method: defined from 2 points on)."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def stable(ratios: list[float], rel_iqr: float) -> bool:
    """A ratio is stable when the middle half of its repeats spans <= rel_iqr of its median."""
    q1, med, q3 = quartiles(ratios)
    return med > 0 and (q3 - q1) / med <= rel_iqr


def one_repeat(steps: int, quick: bool, flip: bool) -> dict[str, float]:
    """Every measure once, baseline and subject back to back (order flipped every other repeat, so a drift in
    machine load does not always fall on the same side). Returns this repeat's ratios and raw figures."""
    cfg = bench_config(steps, quick)
    out: dict[str, float] = {}
    order = ["plain_adamw", "trainer_adamw", "trainer_mugrokfast"]
    for name in (reversed(order) if flip else order):
        if name == "plain_adamw":
            out[name] = plain_loop_tokens_per_s(cfg)
        else:
            cfg.optim.name = name.split("_", 1)[1]
            out[name] = trainer_tokens_per_s(cfg)
    for name in (("mugrokfast", "adamw") if flip else ("adamw", "mugrokfast")):
        out[f"full_{name}"], out[f"opt_{name}"] = step_times(bench_config(steps, quick), name)
    out["overhead"] = out["trainer_adamw"] / out["plain_adamw"]
    out["mugrokfast_vs_plain"] = out["trainer_mugrokfast"] / out["plain_adamw"]
    out["step_ratio"] = out["full_mugrokfast"] / out["full_adamw"]
    out["opt_ratio"] = out["opt_mugrokfast"] / out["opt_adamw"]
    return out


RATIOS = ("overhead", "mugrokfast_vs_plain", "step_ratio", "opt_ratio")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the numbers")
    ap.add_argument("--repeats", type=int, default=5, help="repeats at least this many times")
    ap.add_argument("--max-repeats", type=int, default=15)
    ap.add_argument("--rel-iqr", type=float, default=0.10,
                    help="stop once every ratio's interquartile range is <= this share of its median")
    ap.add_argument("--budget-s", type=float, default=1200, help="stop repeating after this many seconds")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--write", help="update the '## Trainer' section of this RESULTS.md")
    args = ap.parse_args()
    min_rep, max_rep, steps = (1, 1, 10) if args.quick else (args.repeats, args.max_repeats, args.steps)

    t_start = time.perf_counter()
    load_before = os.getloadavg()
    reps: list[dict[str, float]] = []
    while len(reps) < max_rep:
        reps.append(one_repeat(steps, args.quick, flip=len(reps) % 2 == 1))
        r = reps[-1]
        print(f"repeat {len(reps)}: " + ", ".join(f"{k} {r[k]:.3f}" for k in RATIOS), file=sys.stderr, flush=True)
        if len(reps) >= max(min_rep, 3) and all(stable([x[k] for x in reps], args.rel_iqr) for k in RATIOS):
            break
        if time.perf_counter() - t_start > args.budget_s and len(reps) >= min_rep:
            break
    load_after = os.getloadavg()
    is_stable = len(reps) >= 3 and all(stable([x[k] for x in reps], args.rel_iqr) for k in RATIOS)
    q = {k: quartiles([x[k] for x in reps]) for k in RATIOS}
    med = {k: statistics.median(x[k] for x in reps) for k in reps[0] if k not in RATIOS}

    cfg = bench_config(steps, args.quick)
    m = cfg.model
    shape = (f"d_model {m.d_model}, {m.n_layers} layers, {m.act_max_steps} refinement steps, batch "
             f"{cfg.train.batch_size} x seq {cfg.data.seq_len}, {Phase1Model(m).param_counts()['total']:,} params")

    def ratio(k: str, digits: int = 3) -> str:
        lo, mid, hi = q[k]
        return f"{mid:.{digits}f}x (IQR {lo:.{digits}f}-{hi:.{digits}f})"

    overhead, step_ratio = q["overhead"][1], q["step_ratio"][1]
    lines = [
        "## Trainer",
        "",
        f"`python bench/bench_trainer.py --write bench/RESULTS.md` ({'quick' if args.quick else 'full'}; CPU, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads, Python {platform.python_version()}; {shape}; "
        f"measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC at commit {commit()} on the shared 2-core box, "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after).",
        "",
        f"Each repeat runs every variant once, baseline and subject back to back (order flipped every other repeat), "
        f"{steps} steps each, first {SKIP} excluded, and gives one ratio per measure; repeats continue until every "
        f"ratio's interquartile range is <= {args.rel_iqr:.0%} of its median (at least {min_rep}, at most {max_rep}, "
        f"{args.budget_s:.0f} s budget). Here: **{len(reps)} repeats, "
        f"{'stable' if is_stable else 'NOT stable within the repeats allowed: the spread is the figure'}**. "
        "Ratios are medians over repeats with their IQR; absolute figures are medians and drift with the load.",
        "",
        "| Measure | Value | Baseline (same repeats) | Ratio (median, IQR) | Goal |",
        "|---|---|---|---|---|",
        f"| Trainer tokens/s, AdamW (log, ACT stats, grad-norm, schedule, warnings) | {med['trainer_adamw']:,.0f} | "
        f"plain PyTorch loop + AdamW: {med['plain_adamw']:,.0f} | {ratio('overhead')} | >= 0.9x "
        f"{'met' if overhead >= 0.9 else 'NOT met'} |",
        f"| Trainer tokens/s, MuGrokfast (the default) | {med['trainer_mugrokfast']:,.0f} | "
        f"plain PyTorch loop + AdamW: {med['plain_adamw']:,.0f} | {ratio('mugrokfast_vs_plain')} | (information) |",
        f"| Full training step, MuGrokfast | {med['full_mugrokfast'] * 1e3:.1f} ms | AdamW: "
        f"{med['full_adamw'] * 1e3:.1f} ms | {ratio('step_ratio')} | <= 1.5x "
        f"{'met' if step_ratio <= 1.5 else 'NOT met'} |",
        f"| optimizer.step() alone, MuGrokfast | {med['opt_mugrokfast'] * 1e3:.2f} ms | "
        f"torch AdamW (foreach): {med['opt_adamw'] * 1e3:.2f} ms | {ratio('opt_ratio', 1)} | (information) |",
        "",
        "Muon's Newton-Schulz iterations (5 x 3 matmuls per hidden matrix) are the optimiser's cost; on a GPU they run",
        "in bf16 (see `bench/gpu_check.py`).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(Path(args.write), text)
    return 0


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_section(path: Path, section: str, heading: str = "## Trainer") -> None:
    """Replace only the `heading` section (up to the next '## ' heading); other sections stay byte for byte."""
    old = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = old.find(heading + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + section
    else:
        nxt = old.find("\n## ", start + 1)
        new = old[:start] + section + (old[nxt + 1 :] if nxt >= 0 else "")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new)
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
