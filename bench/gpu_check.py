"""GPU check of the Phase 1 trainer: tokens/s and MFU in fp32, bf16 autocast, and bf16 + torch.compile, plus one
short end-to-end run of the real trainer on CUDA. Exits cleanly (status 0) on a machine without CUDA.

    .venv/bin/python bench/gpu_check.py                      # default 25M model, batch 32 x seq 256
    .venv/bin/python bench/gpu_check.py --steps 30 --json out.json --peak-tflops 989

MFU = flops_per_token (PaLM/nanoGPT estimate, 6N + 12·L·d·T, the refinement block counted act_max_steps times)
x tokens/s / peak dense bf16 FLOP/s of the device (looked up by name, or --peak-tflops).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from phase1.config import Config, build_config  # noqa: E402
from phase1.model import Phase1Model  # noqa: E402
from phase1.optim import build_optimizer  # noqa: E402

# Dense bf16 peak (TFLOP/s, no sparsity) by device-name substring; the first match wins.
PEAK_BF16_TFLOPS = [("H200", 989.0), ("H100", 989.0), ("A100", 312.0), ("L40S", 362.0), ("L4", 121.0),
                    ("A10G", 125.0), ("A10", 125.0), ("4090", 165.0), ("3090", 71.0), ("V100", 125.0), ("T4", 65.0)]


def peak_tflops(name: str, override: float | None) -> float | None:
    if override:
        return override
    return next((v for key, v in PEAK_BF16_TFLOPS if key in name), None)


def measure(cfg: Config, bf16: bool, compile_model: bool, steps: int, warmup: int) -> dict:
    device = torch.device("cuda")
    torch.manual_seed(0)
    model = Phase1Model(cfg.model).to(device)
    opt = build_optimizer(model, cfg.optim)
    fwd = torch.compile(model) if compile_model else model
    B, T = cfg.train.batch_size, cfg.data.seq_len
    x = torch.randint(0, 256, (B, T), device=device)
    ctx = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    t_compile = time.perf_counter()
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            if compile_model:
                t_compile = t0 - t_compile
        opt.zero_grad(set_to_none=True)
        with ctx():
            loss = fwd(x, x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    tps = B * T * steps / dt
    return {"tokens_per_s": tps, "step_ms": dt / steps * 1e3, "loss": loss.item(),
            "flops_per_token": model.flops_per_token(T), "max_mem_gib": torch.cuda.max_memory_allocated() / 2**30,
            "compile_s": t_compile if compile_model else None}


def trainer_smoke(steps: int) -> dict:
    """A few real trainer steps on CUDA with bf16 autocast and torch.compile: the whole GPU path, end to end."""
    from phase1.train_phase1 import train

    cfg = build_config("reasoning", sets=["train.device=cuda", "train.precision=bf16", "train.compile=true",
                                          "train.epochs=1", f"train.steps_per_epoch={steps}", "train.eval_batches=1",
                                          "train.log_every=1000", "data.train_size=256", "data.val_size=16"])
    with tempfile.TemporaryDirectory() as tmp:
        rc = train(cfg, Path(tmp))
        log = [json.loads(line) for line in (Path(tmp) / "metrics.jsonl").read_text().splitlines()]
    meta, end = log[0], log[-1]
    losses = [r["loss"] for r in log if r["type"] == "step"]
    return {"rc": rc, "status": end["status"], "message": end["message"], "device": meta["device"],
            "precision": meta["precision"], "first_loss": losses[0], "last_loss": losses[-1],
            "warnings": [r["message"][:200] for r in log if r["type"] == "warning"][:5]}


def main() -> int:
    ap = argparse.ArgumentParser(description="Phase 1 trainer GPU check (tokens/s, MFU, bf16, compile)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--peak-tflops", type=float, help="device peak dense bf16 TFLOP/s (else looked up by name)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device on this machine; nothing to measure (the CPU figures are in "
              "bench/bench_trainer.py)")
        return 0

    name = torch.cuda.get_device_name(0)
    peak = peak_tflops(name, args.peak_tflops)
    cfg = build_config("reasoning", sets=[f"train.batch_size={args.batch_size}", f"data.seq_len={args.seq_len}",
                                          f"model.max_seq_len={max(256, args.seq_len)}"])
    results: dict = {"device": name, "torch": torch.__version__, "bf16_supported": torch.cuda.is_bf16_supported(),
                     "peak_bf16_tflops": peak, "params": Phase1Model(cfg.model).param_counts()["total"],
                     "batch": args.batch_size, "seq_len": args.seq_len, "variants": {}}
    variants = [("fp32", False, False), ("bf16", True, False)]
    if not args.no_compile:
        variants.append(("bf16+compile", True, True))
    for label, bf16, comp in variants:
        if bf16 and not torch.cuda.is_bf16_supported():
            results["variants"][label] = {"skipped": "no bf16 on this device"}
            continue
        try:
            r = measure(cfg, bf16, comp, args.steps, args.warmup)
        except Exception as exc:  # noqa: BLE001 - report the variant as failed and keep measuring the others
            results["variants"][label] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
            continue
        r["mfu"] = r["flops_per_token"] * r["tokens_per_s"] / (peak * 1e12) if peak else None
        results["variants"][label] = r
        mfu = f"{r['mfu'] * 100:.1f}%" if r["mfu"] is not None else "n/a (unknown peak; pass --peak-tflops)"
        print(f"{label:>13}: {r['tokens_per_s']:,.0f} tok/s, {r['step_ms']:.1f} ms/step, MFU {mfu}, "
              f"max mem {r['max_mem_gib']:.2f} GiB", flush=True)
    try:
        results["trainer_smoke"] = trainer_smoke(steps=10)
    except Exception as exc:  # noqa: BLE001
        results["trainer_smoke"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print(f"trainer end-to-end: {results['trainer_smoke']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
