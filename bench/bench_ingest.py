"""Bench: traindoc's structured-log readers against their baselines, measured side by side in one run.

1. JSONL: load_run() on a 1,000,000-step bundled-trainer log vs a bare `for line in f: json.loads(line)` over the
   same file (target: <= 1.5x; the whole `traindoc diagnose` is timed by bench_diagnose.py). Best of N each, after
   one warm-up pass that brings the file into the page cache; the two are interleaved so machine noise hits both.
2. TensorBoard: load_run() vs tensorboard's EventAccumulator with size_guidance {scalars: 0, tensors: 0} (no
   downsampling) on 1,000,000 scalar values (target: >= 5x faster). Written with tensorboard's own RecordWriter
   and Event protos: a simple_value file (what torch's SummaryWriter writes) and a mixed file with all three
   encodings (EventAccumulator puts tensor scalars in .Tensors(), counted too).
3. Memory: peak RSS (VmHWM) of a fresh process that streams a ~1 GB bundled-trainer log with load_run, minus the same
   process's RSS after imports, against the file size and the numeric payload it must keep (every value of every
   metric: not bounded by design, all of it is evidence; the text is never held).

Usage: python bench/bench_ingest.py [--steps 1000000] [--tb-values 1000000] [--gb 1.0] [--repeat 3] [--quick]
Prints a markdown section for bench/RESULTS.md ("## Ingest").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def write_phase1_log(path: Path, steps: int) -> None:
    """A bundled-trainer metrics.jsonl (format pinned in the project brief): meta, step records with nested lr and
    act dicts, an eval every 2% of the run, a stage switch at 70%."""
    import math

    switch = int(steps * 0.7)
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "config": {"optim": {"muon_lr": 5e-3, "adam_lr": 3e-4}},
                            "params": {"total": 10_000_000, "embedding": 1_000_000, "unembedding": 0,
                                       "blocks": 9_000_000, "act_head": 1000, "other": 0,
                                       "trainable": 10_000_000, "tied": True},
                            "optimizer": "mugrokfast", "model": "reasoning"}) + "\n")
        buf = []
        for s in range(1, steps + 1):
            stage = "Foundation" if s < switch else "Advanced"
            if s == switch:
                buf.append(json.dumps({"type": "stage", "step": s, "epoch": 7, "stage": stage}))
            loss = 3 * math.exp(-s / (steps / 10)) + 0.2 + 0.01 * math.sin(s)
            buf.append(f'{{"type": "step", "step": {s}, "epoch": {s * 10 // steps}, "stage": "{stage}", '
                       f'"loss": {loss:.6f}, "grad_norm": {2 + 0.1 * math.cos(s):.5f}, "lr": {{"muon": 0.005, '
                       f'"adam": 0.0003}}, "act": {{"halt_mean": 0.5, "halt_var": 0.02, "steps_mean": 2.0}}, '
                       f'"tokens_per_s": 10000.0, "time": {s * 0.01:.2f}}}')
            if s % max(steps // 50, 1) == 0:
                buf.append(json.dumps({"type": "eval", "step": s, "epoch": s * 10 // steps, "stage": stage,
                                       "val_loss": loss * 1.05, "train_loss": loss}))
            if len(buf) >= 20_000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        f.write("\n".join(buf) + "\n" if buf else "")
        f.write(json.dumps({"type": "end", "step": steps, "status": "completed", "message": ""}) + "\n")


def bare_json(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
            n += 1
    return n


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def bench_jsonl(tmp: Path, steps: int, repeat: int) -> dict:
    from traindoc.ingest import load_run

    path = tmp / "metrics.jsonl"
    write_phase1_log(path, steps)
    bare_json(path)  # warm the page cache
    base, ours = [], []
    for _ in range(repeat):
        base.append(timed(bare_json, path))
        ours.append(timed(load_run, [path]))
    run = load_run([path])
    assert len(run.series("loss")) == steps and not run.warnings, run.warnings
    return {"steps": steps, "mb": path.stat().st_size / 1e6, "baseline_s": min(base), "ours_s": min(ours),
            "ratio": min(ours) / min(base)}


def write_tensorboard(path: Path, values: int, mixed: bool) -> None:
    """`values` scalars over 4 tags, one value per event (as SummaryWriter writes), via tensorboard's writer."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.summary.writer.record_writer import RecordWriter

    md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"), data_class=1)
    tags = ["train/loss", "train/grad_norm", "train/learning_rate", "eval/loss"]
    with open(path, "wb") as f:
        w = RecordWriter(f)
        w.write(Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        for i in range(values):
            step, k = divmod(i, 4)
            v = 1.0 / (step + 1)
            if not mixed or k < 2:
                val = Summary.Value(tag=tags[k], simple_value=v)
            elif k == 2:  # torch new_style: typed float_val
                val = Summary.Value(tag=tags[k], metadata=md, tensor=TensorProto(dtype=1, float_val=[v]))
            else:  # TF2 / Keras: raw tensor_content bytes
                val = Summary.Value(tag=tags[k], metadata=md,
                                    tensor=TensorProto(dtype=1, tensor_content=struct.pack("<f", v)))
            w.write(Event(wall_time=1.7e9 + step, step=step, summary=Summary(value=[val])).SerializeToString())


def event_accumulator(path: Path) -> int:
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    return sum(len(acc.Scalars(t)) for t in tags["scalars"]) + sum(len(acc.Tensors(t)) for t in tags["tensors"])


def bench_tensorboard(tmp: Path, values: int, repeat: int, mixed: bool) -> dict:
    from traindoc.ingest import load_run

    path = tmp / f"events.out.tfevents.{int(time.time())}.bench{'.mixed' if mixed else ''}"
    write_tensorboard(path, values, mixed)
    path.read_bytes()  # page cache
    n_ea = event_accumulator(path)
    base = [timed(event_accumulator, path) for _ in range(max(1, repeat - 1))]
    ours = [timed(load_run, [path]) for _ in range(repeat)]
    run = load_run([path])
    n_ours = sum(len(s) for s in run.metrics.values())
    assert n_ours == values == n_ea, (n_ours, values, n_ea)
    return {"values": values, "mb": path.stat().st_size / 1e6, "ea_s": min(base), "ours_s": min(ours),
            "speedup": min(base) / min(ours), "mixed": mixed}


_MEMORY_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import numpy
from traindoc.ingest import load_run
import traindoc.ingest.readers.jsonl_metrics, traindoc.ingest.readers._structured

def hwm_kb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would inherit its parent's peak
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

before = hwm_kb()
t = time.perf_counter()
run = load_run([sys.argv[1]])
dt = time.perf_counter() - t
after = hwm_kb()
payload = sum(s.values.nbytes + s.steps.nbytes for s in run.metrics.values())
print(before, after, dt, len(run.series("loss")), payload)
"""


def bench_memory(tmp: Path, gb: float) -> dict:
    path = tmp / "big.jsonl"
    steps = int(gb * 1e9 / 248)  # ~248 bytes per step record in this format
    write_phase1_log(path, steps)
    raw = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(path), str(ROOT / "src")], check=True,
                         capture_output=True, text=True).stdout
    print(f"memory child: {raw.strip()}", file=sys.stderr)
    out = raw.split()
    before_kb, after_kb, dt, n, payload = int(out[0]), int(out[1]), float(out[2]), int(out[3]), int(out[4])
    size = path.stat().st_size
    path.unlink()
    return {"gb": size / 1e9, "steps": n, "seconds": dt, "rss_growth_mb": (after_kb - before_kb) / 1024,
            "payload_mb": payload / 1e6, "ratio_to_file": (after_kb - before_kb) * 1024 / size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--tb-values", type=int, default=1_000_000)
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the script itself")
    ap.add_argument("--memory-only", action="store_true", help="only the 1 GB streaming check")
    args = ap.parse_args()
    if args.memory_only:
        with tempfile.TemporaryDirectory() as d:
            print(bench_memory(Path(d), args.gb))
        return
    if args.quick:
        args.steps, args.tb_values, args.gb, args.repeat = 20_000, 20_000, 0.01, 1
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        j = bench_jsonl(tmp, args.steps, args.repeat)
        print(f"jsonl: {j}", file=sys.stderr)
        tb = bench_tensorboard(tmp, args.tb_values, args.repeat, mixed=False)
        print(f"tensorboard simple: {tb}", file=sys.stderr)
        tbm = bench_tensorboard(tmp, args.tb_values, args.repeat, mixed=True)
        print(f"tensorboard mixed: {tbm}", file=sys.stderr)
        for p in tmp.iterdir():
            p.unlink()
        mem = bench_memory(tmp, args.gb)
        print(f"memory: {mem}", file=sys.stderr)
    cpu = platform.processor() or platform.machine()
    print(f"""## Ingest

Measured by `bench/bench_ingest.py` ({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, {cpu},
{os.cpu_count()} CPUs, shared machine: best of {args.repeat} runs, baseline and traindoc interleaved).

| Check | Baseline | traindoc | Ratio | Target |
|---|---|---|---|---|
| {j['steps']:,}-step bundled-trainer JSONL ({j['mb']:.0f} MB): `load_run` vs bare `json.loads` per line | \
{j['baseline_s']:.2f} s | {j['ours_s']:.2f} s | **{j['ratio']:.2f}x** the baseline | <= 1.5x |
| TensorBoard, {tb['values']:,} simple_value scalars ({tb['mb']:.0f} MB): `load_run` vs `EventAccumulator` \
(scalars=0) | {tb['ea_s']:.2f} s | {tb['ours_s']:.2f} s | **{tb['speedup']:.1f}x** faster | >= 5x |
| TensorBoard, {tbm['values']:,} scalars in all three encodings ({tbm['mb']:.0f} MB): vs `EventAccumulator` \
(scalars=0, tensors=0) | {tbm['ea_s']:.2f} s | {tbm['ours_s']:.2f} s | **{tbm['speedup']:.1f}x** faster | >= 5x |

Streaming a {mem['gb']:.2f} GB bundled-trainer log ({mem['steps']:,} steps) in a fresh process took \
{mem['seconds']:.0f} s; peak RSS grew by **{mem['rss_growth_mb']:.0f} MB** ({mem['ratio_to_file']:.2f}x the file \
size). What it keeps is the numeric payload, {mem['payload_mb']:.0f} MB of float64 values and int64 steps for every \
metric (after `Run.finalize()` each series owns its step array); the text is read in 1 MiB blocks and never held, and \
lines over 1 MiB are skipped. Every value is kept on purpose (a one-step spike is evidence), so memory grows with \
the number of logged values, not with the bytes of the log.
""")


if __name__ == "__main__":
    main()
