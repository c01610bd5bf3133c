"""`make bench`: run every benchmark in turn; each writes its own section of bench/RESULTS.md.

Benchmarks measure ratios against a baseline timed in the same run, so the figures mean something even on a
loaded machine. Run one alone with `python bench/<name>.py --help`. A failing benchmark does not stop the others;
the exit status says whether all of them finished.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (script, arguments): the order puts the quick, torch-free ones first.
BENCHMARKS = [
    ("bench_text_log.py", []),
    ("bench_ingest.py", []),
    ("bench_diagnose.py", []),
    ("bench_trainer.py", ["--write", str(HERE / "RESULTS.md")]),
    ("bench_loop.py", []),
    ("gpu_check.py", []),
]


def main() -> int:
    failed = []
    for script, args in BENCHMARKS:
        print(f"== {script} {' '.join(args)}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / script), *args])
        if rc != 0:
            failed.append(f"{script} (exit {rc})")
    if failed:
        print("bench: failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print("bench: all benchmarks finished; figures in bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
