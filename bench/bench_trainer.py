"""Benchmarks of the Phase 1 trainer, every ratio against a baseline measured in the same process.

1. Instrumentation overhead: the real trainer (`phase1.train_phase1.train`, JSONL log, ACT stats, grad-norm,
   warning capture, LR schedule) with AdamW vs a plain PyTorch loop of the same model, same batches, AdamW and no
   instrumentation. Goal: trainer tokens/s >= 0.9x the plain loop. The full trainer (MuGrokfast) is reported too.
2. MuGrokfast vs AdamW: the time of one full training step (forward, backward, optimiser) of the same model with
   each optimiser, and the optimiser step alone. Goal: full step <= 1.5x AdamW's.

Runs alternate (A, B, A, B, ...) and report medians, because this machine is shared and its speed drifts.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_trainer.py            # a few minutes on 2 shared cores
    .venv/bin/python bench/bench_trainer.py --quick                      # smoke run, seconds
    .venv/bin/python bench/bench_trainer.py --write bench/RESULTS.md     # also update the "## Trainer" section
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the numbers")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--write", help="update the '## Trainer' section of this RESULTS.md")
    args = ap.parse_args()
    repeats, steps = (1, 10) if args.quick else (args.repeats, args.steps)

    tps = {"trainer_adamw": [], "trainer_mugrokfast": [], "plain_adamw": []}
    for _ in range(repeats):  # interleaved so that drift in machine load hits every variant alike
        cfg = bench_config(steps, args.quick)
        tps["plain_adamw"].append(plain_loop_tokens_per_s(cfg))
        cfg.optim.name = "adamw"
        tps["trainer_adamw"].append(trainer_tokens_per_s(cfg))
        cfg.optim.name = "mugrokfast"
        tps["trainer_mugrokfast"].append(trainer_tokens_per_s(cfg))
    med = {k: statistics.median(v) for k, v in tps.items()}

    times = {"adamw": [], "mugrokfast": []}
    for _ in range(repeats):
        for name in times:
            times[name].append(step_times(bench_config(steps, args.quick), name))
    full = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    opt_only = {k: statistics.median(t[1] for t in v) for k, v in times.items()}

    cfg = bench_config(steps, args.quick)
    m = cfg.model
    shape = (f"d_model {m.d_model}, {m.n_layers} layers, {m.act_max_steps} refinement steps, batch "
             f"{cfg.train.batch_size} x seq {cfg.data.seq_len}, {Phase1Model(m).param_counts()['total']:,} params")
    overhead = med["trainer_adamw"] / med["plain_adamw"]
    full_ratio = med["trainer_mugrokfast"] / med["plain_adamw"]
    step_ratio = full["mugrokfast"] / full["adamw"]
    opt_ratio = opt_only["mugrokfast"] / opt_only["adamw"]
    lines = [
        "## Trainer",
        "",
        f"`bench/bench_trainer.py` ({'quick' if args.quick else 'full'}; CPU, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, Python {platform.python_version()}; {shape}; {repeats} interleaved "
        f"repeats x {steps} steps, medians, first {SKIP} steps excluded; measured {time.strftime('%Y-%m-%d %H:%M')} "
        "UTC on the shared 2-core box).",
        "",
        "| Measure | Value | Baseline (same run) | Ratio | Goal |",
        "|---|---|---|---|---|",
        f"| Trainer tokens/s, AdamW (log, ACT stats, grad-norm, schedule, warnings) | {med['trainer_adamw']:,.0f} | "
        f"plain PyTorch loop + AdamW: {med['plain_adamw']:,.0f} | {overhead:.3f}x | >= 0.9x "
        f"{'met' if overhead >= 0.9 else 'NOT met'} |",
        f"| Trainer tokens/s, MuGrokfast (the default) | {med['trainer_mugrokfast']:,.0f} | "
        f"plain PyTorch loop + AdamW: {med['plain_adamw']:,.0f} | {full_ratio:.3f}x | (information) |",
        f"| Full training step, MuGrokfast | {full['mugrokfast'] * 1e3:.1f} ms | AdamW: {full['adamw'] * 1e3:.1f} ms "
        f"| {step_ratio:.3f}x | <= 1.5x {'met' if step_ratio <= 1.5 else 'NOT met'} |",
        f"| optimizer.step() alone, MuGrokfast | {opt_only['mugrokfast'] * 1e3:.2f} ms | "
        f"torch AdamW (foreach): {opt_only['adamw'] * 1e3:.2f} ms | {opt_ratio:.2f}x | (information) |",
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


def write_section(path: Path, section: str) -> None:
    """Replace only our '## Trainer' section (up to the next '## ' heading); other sections stay byte for byte."""
    old = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = old.find("## Trainer\n")
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
