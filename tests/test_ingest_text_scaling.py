"""The console text-log reader stays linear in the number of lines (issue 8): a log of n lines and one of 4n lines,
read in the same process.

Not a timed test: no absolute limit, only the ratio time(4n) / time(n), as in tests/test_evidence_scaling.py. Linear
work gives ~4x (less while the fixed cost of choosing the family on the first 2,000 lines still shows); 6x leaves
room for a loaded machine; a quadratic step (a buffer re-joined per block, a list searched per line) gives ~16x. The
sizes keep the per-line work above the fixed cost, so that a quadratic step still shows (nanoGPT: ~0.25 s of
lines beside ~0.2 s of family choice at n).
Each size is timed best-of-3, interleaved with the other size, so a burst of load hits both.

Two logs: nanoGPT lines with an eval line, a warning and a short stretch of lines the bulk layout does not take every
few hundred lines (both paths and the switching between them), and the same number of mixed lines that all go one
by one (Megatron lines from several ranks with warnings).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log


def nanogpt_mixed(path: Path, n: int) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"iter {i}: loss {2 + (i * 7919 % 1000) / 1e4:.4f}, time {150 + i % 7:.2f}ms, mfu 31.02%\n")
            if i % 500 == 0:
                f.write(f"step {i}: train loss 2.1000, val loss 2.2000\n")
                f.write("/x/train.py:3: UserWarning: careful\n  warnings.warn(\n")
                # mfu -100 %: "not measured yet", lines the layout leaves to the per-line rules
                f.write(5 * f"iter {i}: loss 2.5000, time 1.00ms, mfu -100.00%\n")


def megatron_ranks(path: Path, n: int) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"[default{i % 4}]: iteration {i // 4 + 1:8d}/ 1000000 | lm loss: {2 + (i % 97) / 100:.6E} |"
                    f" grad norm: {1 + (i % 13) / 10:.3f} | loss scale: 1.0 |\n")
            if i % 300 == 0:
                f.write(f"[default{i % 4}]: WARNING: step {i} is slow\n")


def read_time(path: Path) -> float:
    t0 = time.perf_counter()
    run = Run()
    text_log.read(path, run)
    run.finalize()
    return time.perf_counter() - t0


@pytest.mark.parametrize(("write", "n"), [(nanogpt_mixed, 200_000), (megatron_ranks, 20_000)])
def test_text_log_reader_is_linear_in_the_number_of_lines(tmp_path, write, n) -> None:
    small_path, large_path = tmp_path / "small.log", tmp_path / "large.log"
    write(small_path, n)
    write(large_path, 4 * n)
    read_time(small_path)  # imports and the page cache: one-off costs that would flatter the small size
    small, large = [], []
    for _ in range(3):
        small.append(read_time(small_path))
        large.append(read_time(large_path))
    ratio = min(large) / min(small)
    assert ratio <= 6.0, f"4x the lines took {ratio:.1f}x the time ({min(small):.3f}s -> {min(large):.3f}s)"
