"""Bench: the console text-log reader against the least any line parser must do, side by side in one run.

Baseline: `for line in f: regex.match(line)` with the one nanoGPT/Megatron regex that extracts step and loss: the
cost of reading the file and touching every line once. The reader additionally normalises each line (ANSI, rank and
logger prefixes), picks the family, extracts every metric, checks warning-ish lines against the catalogue and stores
arrays. Peak memory is measured in a fresh process (RSS after minus RSS before the read) to show the text is
streamed: it grows with the numbers kept (16 bytes per value), not with the file size.

Usage: python bench/bench_text_log.py [--lines 1000000] [--repeat 2]
Prints a markdown section for bench/RESULTS.md ("## Text logs").
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def write_nanogpt(path: Path, lines: int) -> None:
    rnd = random.Random(0)
    with open(path, "w") as f:
        for i in range(lines):
            f.write(f"iter {i}: loss {2 + rnd.random():.4f}, time 152.33ms, mfu 31.02%\n")
            if i % 5000 == 0:
                f.write(f"step {i}: train loss 2.1000, val loss 2.2000\n")


def write_megatron(path: Path, lines: int) -> None:
    rnd = random.Random(0)
    with open(path, "w") as f:
        for i in range(1, lines + 1):
            f.write(f"[default0]: [2024-04-06 03:02:12] iteration {i:8d}/{lines:8d} | consumed samples: "
                    f"{i * 128:12d} | elapsed time per iteration (ms): 5361.6 | learning rate: 1.420000E-05 | "
                    f"global batch size:   128 | lm loss: {2 + rnd.random():.6E} | loss scale: 1.0 | grad norm: "
                    f"1.300 | num zeros: 0.0 | number of skipped iterations:   0 | number of nan iterations:   0 |\n")


BASELINES = {
    "nanogpt": re.compile(r"^iter (\d+): loss ([\d.]+)"),
    "megatron": re.compile(r"iteration\s+(\d+)/.*?lm loss: ([\d.E+-]+)"),
}


def bare(path: Path, rx: re.Pattern) -> float:
    t = time.perf_counter()
    n = 0
    with open(path) as f:
        for line in f:
            if rx.match(line) or rx.search(line):
                n += 1
    return time.perf_counter() - t


def reader(path: Path) -> float:
    from traindoc.ingest.model import Run
    from traindoc.ingest.readers import text_log

    t = time.perf_counter()
    run = Run()
    text_log.read(path, run)
    run.finalize()
    return time.perf_counter() - t


# VmHWM (peak RSS of this address space) rather than ru_maxrss, which Linux carries over from the parent on exec.
_MEM_SCRIPT = """
import re, sys
from pathlib import Path
sys.path.insert(0, {src!r})
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log
def kb(field):
    return int(re.search(field + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
before = kb("VmRSS")
run = Run(); text_log.read(Path({path!r}), run); run.finalize()
values = sum(len(s) for s in run.metrics.values())
print((kb("VmHWM") - before) * 1024, values)
"""


def peak_rss(path: Path) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", _MEM_SCRIPT.format(src=str(ROOT / "src"), path=str(path))],
                         capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    grown, values = out.stdout.split()
    return int(grown), int(values)


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family, writer in (("nanogpt", write_nanogpt), ("megatron", write_megatron)):
            path = Path(tmp) / f"{family}.log"
            writer(path, args.lines)
            size = path.stat().st_size
            bare(path, BASELINES[family])  # warm the page cache
            reader(path)  # and the imports
            bs, rs = [], []
            for _ in range(args.repeat):  # interleaved: a change in machine load hits both sides
                bs.append(bare(path, BASELINES[family]))
                rs.append(reader(path))
            b, r = min(bs), min(rs)
            pairs = sorted(x / y for x, y in zip(rs, bs, strict=True))
            grown, values = peak_rss(path)
            rows.append((family, args.lines, size, b, r, grown, values, pairs))
    load = os.getloadavg()[0]
    print("## Text logs (bench/bench_text_log.py)\n")
    print(f"`python bench/bench_text_log.py --lines {args.lines} --repeat {args.repeat}`, measured "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC at commit {commit()}, load average {load0:.1f} "
          f"before and {load:.1f} after (shared 2-core box). Best of {args.repeat} interleaved runs each; the ratio "
          "of each run pair shows the spread. Goal (issue 8): <= 4x the bare regex pass.\n")
    print("| log | lines | file MB | bare regex pass s | text_log reader s | ratio (best/best) | per-pair ratios |"
          " lines/s | RSS growth MB | values kept | bytes per value |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for family, n, size, b, r, grown, values, pairs in rows:
        print(f"| {family} | {n:,} | {size / 1e6:.0f} | {b:.2f} | {r:.2f} | {r / b:.1f}x |"
              f" {', '.join(f'{x:.1f}' for x in pairs)} | {n / r:,.0f} |"
              f" {grown / 1e6:.0f} | {values:,} | {grown / max(values, 1):.1f} |")
    print("\nThe reader does per line what the baseline does once (a regex) plus normalisation, every metric, the "
          "catalogue check and storage; memory grows with the numbers kept, not with the text (streamed in blocks, "
          "frames capped at 64 KiB). Lines of the commonest shape (nanoGPT iter lines, Megatron iteration lines) "
          "are read in bulk: a run of such lines that differ only in digits straight from the block's bytes as a digit "
          "matrix (no regex pass), any other stretch with one findall, then its numbers a column at a time (a column "
          "printed at one width as a numpy digit matrix, any other with float(); both exactly float()).")


if __name__ == "__main__":
    main()
