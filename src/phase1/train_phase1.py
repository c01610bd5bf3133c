"""Phase 1 trainer: read top to bottom, nanoGPT style.

    python src/phase1/train_phase1.py --model reasoning --test        # CPU, reduced, < 2 minutes
    phase1-train --model reasoning --out runs/r1 --set optim.muon_lr=5e-3
    torchrun --nproc_per_node 2 src/phase1/train_phase1.py --test     # DDP (gloo on CPU, nccl on CUDA)
    phase1-train --out runs/r1 --resume                               # continue after a crash / kill -9

Writes into --out: metrics.jsonl (format: docs/phase1-log-format.md), config.yaml (the effective config) and
checkpoints/{last,best}.pt (written atomically; loaded with weights_only=True).
"""

# ruff: noqa: E402  (the script bootstrap below must run before the package imports)
from __future__ import annotations

# Running as a script (`python src/phase1/train_phase1.py`): re-enter as the package module so that the relative
# imports below work, and drop the script's own folder from sys.path so `config`, `data`, ... cannot shadow anything.
if __name__ == "__main__" and not __package__:
    import pathlib
    import runpy
    import sys

    _here = pathlib.Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))
    runpy.run_module(f"{_here.name}.train_phase1", run_name="__main__", alter_sys=True)
    sys.exit(0)

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import __version__
from .config import Config, ConfigError, apply_overrides, build_config, config_from_dict, dump_yaml, parse_set
from .data import SAMPLE_PROMPTS, DataError, Phase1Data
from .model import Phase1Model, halting_stats
from .optim import build_optimizer, group_lrs, lr_factor, set_lr

WARNINGS_PER_MESSAGE = 100  # log at most this many copies of one identical warning (the rest are counted)


# ---- run-directory helpers ---------------------------------------------------------------------------------------
class MetricsLog:
    """Append-only JSONL, one flushed line per record, so a kill -9 loses at most the line being written.

    Non-finite floats are written as bare NaN / Infinity (Python's json default), as real logs do."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.fh = open(path, "a", encoding="utf-8") if enabled else None  # noqa: SIM115 - closed in close()

    def write(self, record: dict[str, Any]) -> None:
        if self.fh is not None:
            self.fh.write(json.dumps(record) + "\n")
            self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def truncate_log(path: Path, last_step: int) -> None:
    """On resume: keep the records up to the checkpoint's step (and drop a torn last line), atomically."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written when the process was killed
        if rec.get("type") == "end":
            continue
        if rec.get("type") == "meta" or int(rec.get("step", 0)) <= last_step:
            kept.append(line)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
    os.replace(tmp, path)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Atomic: write a temp file in the same folder, fsync, then rename over the old checkpoint."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        torch.save(payload, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    return torch.load(path, map_location=device, weights_only=True)


class WarningCapture:
    """Every Python warning (torch's C++ TORCH_WARN included) becomes a `warning` record with the current step."""

    def __init__(self, log: MetricsLog) -> None:
        self.log = log
        self.step = 0
        self.counts: dict[tuple, int] = {}

    def __enter__(self) -> WarningCapture:
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("always")  # not "once per location": the step of every occurrence is evidence
        warnings.showwarning = self._show
        return self

    def __exit__(self, *exc) -> None:
        self._ctx.__exit__(*exc)

    def _show(self, message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        key = (category.__name__, str(message), filename, lineno)
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] == 1:
            print(f"warning at step {self.step}: {category.__name__}: {message}", file=sys.stderr)
        if self.counts[key] <= WARNINGS_PER_MESSAGE:
            self.log.write({"type": "warning", "step": self.step, "category": category.__name__,
                            "message": str(message), "filename": str(filename), "lineno": int(lineno)})

    def suppressed(self) -> int:
        return sum(max(0, c - WARNINGS_PER_MESSAGE) for c in self.counts.values())


class Progress:
    """A tqdm bar on a terminal; plain lines every log_every steps otherwise (CI logs, pipes, files)."""

    def __init__(self, total: int, initial: int, log_every: int, enabled: bool) -> None:
        self.bar = None
        self.log_every = max(1, log_every)
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, initial=initial, dynamic_ncols=True, unit="step")
            except ImportError:
                self.bar = None
        self.total = total

    def update(self, rec: dict[str, Any]) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{rec['loss']:.4f}", gn=f"{rec['grad_norm']:.2f}", stage=rec["stage"])
        elif rec["step"] % self.log_every == 0 or rec["step"] == self.total:
            lrs = "/".join(f"{v:.2e}" for v in rec["lr"].values())
            print(f"step {rec['step']}/{self.total} | epoch {rec['epoch']} {rec['stage']} | loss {rec['loss']:.4f}"
                  f" | grad_norm {rec['grad_norm']:.3f} | lr {lrs} | {rec['tokens_per_s']:.0f} tok/s", flush=True)

    def write(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def param_checksum(model: torch.nn.Module) -> float:
    return float(sum(p.detach().double().sum().item() for p in model.parameters()))


# ---- evaluation ------------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: Phase1Model, data: Phase1Data, stage: str, device: torch.device, autocast) -> float:
    """Mean validation cross-entropy (nats/token) of the stage's held-out rows: really computed, every epoch.

    train.eval_mode=prefix (default) scores each position from its prefix alone, one forward pass per prefix
    length, which is how the model is used when it generates. For a causal model this equals the teacher-forced
    loss (up to float rounding); a model that peeks at future tokens during training scores far worse here than
    in training, which is exactly the gap that exposes the leak. teacher_forced = one pass per batch."""
    model.eval()
    total, count = 0.0, 0
    prefix = data.cfg.train.eval_mode == "prefix"
    for x, y in data.val_batches(stage, data.cfg.train.eval_batches):
        x, y = x.to(device), y.to(device)
        with autocast():
            if prefix:
                for t in range(x.shape[1]):
                    logits = model(x[:, : t + 1]).logits[:, -1, :].float()
                    total += F.cross_entropy(logits, y[:, t], reduction="sum").item()
            else:
                total += model(x, y).lm_loss.item() * y.numel()
        count += y.numel()
    model.train()
    return total / max(1, count)


@torch.no_grad()
def generate_samples(model: Phase1Model, data: Phase1Data, stage: str, device: torch.device) -> list[tuple[str, str]]:
    model.eval()
    samples = []
    newline = data.tok.encode("\n")[0]
    for prompt in SAMPLE_PROMPTS.get(stage, SAMPLE_PROMPTS["File"]):
        idx = torch.tensor([data.tok.encode(prompt)], dtype=torch.long, device=device)
        out = model.generate(idx, data.cfg.train.sample_tokens, stop_token=newline)
        samples.append((prompt, data.tok.decode(out[0, idx.shape[1] :].tolist())))
    model.train()
    return samples


# ---- the training run ------------------------------------------------------------------------------------------
def train(cfg: Config, out_dir: Path, resume: bool = False, model_name: str = "reasoning") -> int:
    # -- distributed / device setup (torchrun sets RANK, LOCAL_RANK, WORLD_SIZE)
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    want_cuda = cfg.train.device == "cuda" or (cfg.train.device == "auto" and torch.cuda.is_available())
    if cfg.train.device == "cuda" and not torch.cuda.is_available():
        print("phase1-train: train.device=cuda but no CUDA device is available", file=sys.stderr)
        return 2
    if ddp:
        dist.init_process_group(backend="nccl" if want_cuda else "gloo")
        rank, world_size = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
    else:
        rank, world_size, local_rank = 0, 1, 0
    device = torch.device(f"cuda:{local_rank}" if want_cuda else "cpu")
    if want_cuda:
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if cfg.train.threads > 0 and not want_cuda:
        torch.set_num_threads(cfg.train.threads)
    master = rank == 0
    use_bf16 = want_cuda and cfg.train.precision in ("auto", "bf16") and torch.cuda.is_bf16_supported()
    if cfg.train.precision == "bf16" and not use_bf16:
        print("phase1-train: bf16 autocast needs a CUDA device with bf16; training in fp32", file=sys.stderr)
    precision = "bf16-autocast" if use_bf16 else "fp32"

    def autocast():
        return torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()

    data = Phase1Data(cfg)  # first: a bad data source fails before anything is written
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    if master:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.jsonl"

    # -- resume: the checkpoint's config is the run's config (plus any --set given now, e.g. more epochs)
    ckpt = None
    if resume:
        last = ckpt_dir / "last.pt"
        if not last.exists():
            print(f"phase1-train: --resume: no checkpoint at {last}; starting from scratch", file=sys.stderr)
        else:
            ckpt = load_checkpoint(last, device)

    # -- data, model, optimiser (same seed on every rank: identical initial weights)
    torch.manual_seed(cfg.train.seed)
    model = Phase1Model(cfg.model).to(device)
    if cfg.train.freeze_backbone:
        # the backbone (embeddings and all blocks but the refinement block) stops training
        for name, p in model.named_parameters():
            if name.startswith(("wte.", "wpe.")) or (name.startswith("blocks.") and
                                                     not name.startswith(f"blocks.{cfg.model.n_layers - 1}.")):
                p.requires_grad_(False)
    optimizer = build_optimizer(model, cfg.optim)
    steps_per_epoch = data.steps_per_epoch(world_size)
    total_steps = cfg.train.epochs * steps_per_epoch
    params = [p for p in model.parameters() if p.requires_grad]

    step, epoch_start, step_in_epoch = 0, 1, 0
    epoch_loss_sum, epoch_loss_count = 0.0, 0
    best_val, bad_epochs, elapsed_before, nonfinite = math.inf, 0, 0.0, 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        for group in optimizer.param_groups:  # LRs from the (possibly overridden) config, not the old file
            if cfg.optim.name == "mugrokfast":
                group["initial_lr"] = cfg.optim.muon_lr if group.get("use_muon") else cfg.optim.adam_lr
        torch.set_rng_state(ckpt["rng"].cpu())
        step, epoch_start, step_in_epoch = ckpt["step"], ckpt["epoch"], ckpt["step_in_epoch"]
        epoch_loss_sum, epoch_loss_count = ckpt["epoch_loss_sum"], ckpt["epoch_loss_count"]
        best_val, bad_epochs = ckpt["best_val"], ckpt["bad_epochs"]
        elapsed_before, nonfinite = ckpt["elapsed"], ckpt["nonfinite"]
        if ckpt.get("finished"):
            if master:
                print(f"phase1-train: {out_dir} already finished at step {step}; nothing to resume")
            return 0
        if master:
            truncate_log(metrics_path, step)

    raw_model = model
    if cfg.train.compile:
        model = torch.compile(model)
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if want_cuda else None)

    log = MetricsLog(metrics_path, enabled=master)
    if master and ckpt is None:
        metrics_path.write_text("")  # a fresh run starts a fresh log
        dump_yaml(cfg, out_dir / "config.yaml")
        log.write({
            "type": "meta",
            "config": cfg.to_dict(),
            "params": raw_model.param_counts(),
            "versions": {"python": platform.python_version(), "torch": torch.__version__, "phase1": __version__},
            "seed": cfg.train.seed,
            "device": str(device),
            "precision": precision,
            "world_size": world_size,
            "optimizer": cfg.optim.name,
            "model": model_name,
        })
    elif master:
        dump_yaml(cfg, out_dir / "config.yaml")

    def checkpoint_payload(next_epoch: int, next_step_in_epoch: int, finished: bool = False) -> dict[str, Any]:
        """Everything a resume needs to continue exactly where this checkpoint was taken."""
        return {
            "model": raw_model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "config": cfg.to_dict(),
            "step": step,
            "epoch": next_epoch,
            "step_in_epoch": next_step_in_epoch,
            "epoch_loss_sum": epoch_loss_sum,
            "epoch_loss_count": epoch_loss_count,
            "best_val": best_val,
            "bad_epochs": bad_epochs,
            "elapsed": elapsed_before + (time.time() - t_start),
            "nonfinite": nonfinite,
            "rng": torch.get_rng_state(),
            "finished": finished,
        }

    progress = Progress(total_steps, step, cfg.train.log_every, enabled=master)
    status, message = "completed", ""
    t_start = time.time()
    epoch = epoch_start
    with WarningCapture(log) as captured:
        try:
            for epoch in range(epoch_start, cfg.train.epochs + 1):
                stage = data.stage_for_epoch(epoch)
                if step_in_epoch == 0 and (epoch == 1 or stage != data.stage_for_epoch(epoch - 1)):
                    log.write({"type": "stage", "step": step + 1, "epoch": epoch, "stage": stage})
                    progress.write(f"epoch {epoch}: curriculum stage {stage}")
                while step_in_epoch < steps_per_epoch:
                    t0 = time.time()
                    captured.step = step + 1
                    set_lr(optimizer, lr_factor(step, cfg.optim.warmup_steps, total_steps, cfg.optim.min_lr_ratio))
                    x, y = data.batch(stage, epoch, step_in_epoch, rank, world_size)
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    optimizer.zero_grad(set_to_none=True)
                    with autocast():
                        out = model(x, y)
                    out.loss.backward()
                    # global norm of the raw gradients, measured BEFORE clipping (that is what gets logged)
                    max_norm = cfg.optim.grad_clip if cfg.optim.grad_clip > 0 else math.inf
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()
                    optimizer.step()
                    step += 1
                    step_in_epoch += 1

                    loss_t = out.lm_loss.detach().float()
                    if ddp:  # every rank logs the same number: the mean over ranks
                        dist.all_reduce(loss_t)
                        loss_t /= world_size
                    loss = loss_t.item()
                    if math.isfinite(loss):
                        epoch_loss_sum += loss
                        epoch_loss_count += 1
                        nonfinite = 0
                    else:
                        nonfinite += 1
                    dt = max(time.time() - t0, 1e-9)
                    rec = {
                        "type": "step",
                        "step": step,
                        "epoch": epoch,
                        "stage": stage,
                        "loss": loss,
                        "grad_norm": grad_norm,
                        "lr": group_lrs(optimizer),
                        "act": halting_stats(out.act),
                        "tokens_per_s": x.numel() * world_size / dt,
                        "time": elapsed_before + time.time() - t_start,
                        # MuGrokfast's filter diagnostic (None for another optimiser or with the filter off)
                        "grokfast": getattr(optimizer, "filter_alignment", None),
                    }
                    log.write(rec)
                    progress.update(rec)
                    if nonfinite >= cfg.train.max_nonfinite_steps:
                        status = "diverged"
                        message = f"loss was non-finite for {nonfinite} consecutive steps (last: {loss})"
                        break
                    if (cfg.train.ckpt_every and step % cfg.train.ckpt_every == 0 and master
                            and step_in_epoch < steps_per_epoch):
                        save_checkpoint(ckpt_dir / "last.pt", checkpoint_payload(epoch, step_in_epoch))
                if status != "completed":
                    break

                # -- end of epoch: validation, samples, checkpoints, early stopping
                captured.step = step
                val_loss = evaluate(raw_model, data, stage, device, autocast)
                train_loss = epoch_loss_sum / epoch_loss_count if epoch_loss_count else math.nan
                log.write({"type": "eval", "step": step, "epoch": epoch, "stage": stage,
                           "val_loss": val_loss, "train_loss": train_loss})
                progress.write(f"epoch {epoch} ({stage}): train_loss {train_loss:.4f} val_loss {val_loss:.4f}")
                for prompt, text in generate_samples(raw_model, data, stage, device):
                    log.write({"type": "sample", "step": step, "epoch": epoch, "prompt": prompt, "text": text})
                improved = val_loss < best_val
                if improved:
                    best_val, bad_epochs = val_loss, 0
                else:
                    bad_epochs += 1
                stop_early = 0 < cfg.train.early_stopping_patience <= bad_epochs
                step_in_epoch, epoch_loss_sum, epoch_loss_count = 0, 0.0, 0
                if master:  # the epoch is done: a resume starts the next one
                    payload = checkpoint_payload(epoch + 1, 0, finished=stop_early or epoch == cfg.train.epochs)
                    save_checkpoint(ckpt_dir / "last.pt", payload)
                    if improved:
                        save_checkpoint(ckpt_dir / "best.pt", payload)
                if stop_early:
                    message = (f"early stopping at epoch {epoch}: val_loss has not improved for {bad_epochs} "
                               f"epochs (best {best_val:.4f})")
                    break
            if ddp and status == "completed":
                sums = [None] * world_size
                dist.all_gather_object(sums, param_checksum(raw_model))
                if len(set(sums)) != 1:
                    status, message = "error", f"ranks disagree on the final parameters: checksums {sums}"
                else:
                    message = (message + "; " if message else "") + (
                        f"{world_size} ranks agree on the final parameters (checksum {sums[0]:.6f})")
        except KeyboardInterrupt:
            status, message = "error", "interrupted (KeyboardInterrupt)"
        except Exception as exc:  # noqa: BLE001 - record the failure in the log, then report it in one line
            status, message = "error", f"{type(exc).__name__}: {exc}"
            if os.environ.get("PHASE1_TRACEBACK"):
                import traceback

                traceback.print_exc()
        extra = captured.suppressed()
        if extra:
            message = (message + "; " if message else "") + f"{extra} repeated warnings not logged"
    log.write({"type": "end", "step": step, "status": status, "message": message})
    log.close()
    progress.close()
    if master:
        print(f"phase1-train: {status} at step {step}{': ' + message if message else ''} ({out_dir})",
              file=sys.stderr if status != "completed" else sys.stdout)
    if ddp:
        # Rank 0 still writes checkpoints and logs when the others reach this line; tearing gloo down while a peer
        # is busy aborts the process under load ("terminate called without an active exception"), so meet first.
        try:
            dist.barrier()
        except Exception:  # noqa: BLE001 - a peer already gone: nothing left to wait for
            pass
        dist.destroy_process_group()
    return 0 if status == "completed" else 1


# ---- command line ----------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="phase1-train", description="Train the Phase 1 model (see docs/phase1.md).")
    ap.add_argument("--model", default="reasoning", help="preset: reasoning | memory | speed")
    ap.add_argument("--test", action="store_true", help="reduced CPU run (< 2 minutes) on the same code path")
    ap.add_argument("--config", help="YAML config file (nested sections or dotted keys)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. optim.muon_lr=1e-2")
    ap.add_argument("--out", help="run directory (default runs/<model>-<timestamp>)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    ap.add_argument("--scenario", help="fault-zoo scenario: build a workspace in --out and train it (phase1.scenarios)")
    ap.add_argument("--list-scenarios", action="store_true", help="list the fault-zoo scenarios")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scenario or args.list_scenarios:
        try:
            from . import scenarios
        except ImportError as exc:
            print(f"phase1-train: the fault zoo is not available ({exc})", file=sys.stderr)
            return 2
        return scenarios.main(args)
    try:
        if args.resume and args.out and (Path(args.out) / "checkpoints" / "last.pt").exists():
            import torch as _torch

            saved = _torch.load(Path(args.out) / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
            cfg = config_from_dict(saved["config"])
            apply_overrides(cfg, parse_set(args.set))
        else:
            cfg = build_config(args.model, test=args.test, yaml_path=args.config, sets=args.set)
    except ConfigError as exc:
        print(f"phase1-train: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("runs") / f"{args.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        return train(cfg, out, resume=args.resume, model_name=args.model)
    except (DataError, ConfigError) as exc:
        print(f"phase1-train: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
