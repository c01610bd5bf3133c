"""Benchmark: the whole fix loop on user-project layouts (tests/userproj/), with their real library, on CPU.

Per layout: the user's first run (their launch script's command: the baseline, a plain training run measured in
the same process), then diagnose that run's folder -> plan -> apply (+ the project's tests) -> retrain with the
recovered command -> verify. The ratio loop / first run is what traindoc adds on top of one training.
Goal (issue 9): <= 2 min per layout on the project's 2-core machine.

    .venv/bin/python bench/bench_userproj.py [LAYOUT ...] [--no-write]

Writes the "## User-project loop" section of bench/RESULTS.md (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from bench_trainer import commit, write_section  # noqa: E402
from traindoc.verify.loop import run_loop  # noqa: E402

SECTION = "## User-project loop"
GOAL_S = 120.0
FIXTURES = REPO / "tests" / "userproj"
# layout -> (launch script, the run folder its command writes)
LAYOUTS = {"plain_argparse": ("train.sh", "runs/exp1"), "hf_script": ("run.sh", "output")}


def bench_one(layout: str, scratch: Path) -> dict:
    script, run = LAYOUTS[layout]
    root = scratch / layout
    shutil.copytree(FIXTURES / layout, root)
    shutil.copy(FIXTURES / "common" / "chardata.py", root / "chardata.py")
    line = next(ln for ln in (root / script).read_text().splitlines() if ln.startswith("python "))
    t = time.perf_counter()
    subprocess.run([sys.executable, *shlex.split(line)[1:]], cwd=root, capture_output=True, check=True, timeout=900)
    first = time.perf_counter() - t
    r = run_loop(root, run_dir=run, diagnose_paths=[run], retrain_timeout=900)
    return {"layout": layout, "first_run": first, "times": r["times"], "passed": r["passed"],
            "diagnosis": r["diagnosis"], "retrain_cmd": r.get("retrain_cmd", "—")}


def table(rows: list[dict]) -> str:
    out = ["| layout | loop total (s) | diagnose | plan | apply+tests | retrain | verify | first run (s) | "
           "loop / first run | retrain command (recovered) | fixed |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["times"]
        cmd = r["retrain_cmd"].split(" && ")[-1]
        out.append(f"| {r['layout']} | {t.get('total', 0):.1f} | {t.get('diagnose', 0):.1f} | {t.get('plan', 0):.1f} | "
                   f"{t.get('apply', 0):.1f} | {t.get('retrain', 0):.1f} | {t.get('verify', 0):.1f} | "
                   f"{r['first_run']:.1f} | {t.get('total', 0) / max(r['first_run'], 1e-9):.2f} | `{cmd}` | "
                   f"{'✓' if r['passed'] else '✗'} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("layouts", nargs="*", help=f"some of {', '.join(LAYOUTS)} (default: all)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    unknown = [n for n in args.layouts if n not in LAYOUTS]
    if unknown:
        ap.error(f"unknown layout {unknown[0]!r}; known: {', '.join(LAYOUTS)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-userproj-") as scratch:
        for name in args.layouts or list(LAYOUTS):
            rows.append(bench_one(name, Path(scratch)))
            print(f"{name}: loop {rows[-1]['times'].get('total', 0):.1f}s fixed={rows[-1]['passed']}", file=sys.stderr)
    worst = max(r["times"].get("total", 0) for r in rows)
    text = (f"{SECTION}\n\n`python bench/bench_userproj.py` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"commit {commit()}, {platform.machine()}, {os.cpu_count()} CPUs, OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS')}, shared machine (other sessions' work ran at the same time).\n\n"
            "Loop = diagnose (the run's folder only) → plan → apply (+ the project's tests, twice) → retrain with the "
            "launch command the plan recovered → verify. Baseline: the user's first run, the same training "
            "measured in the same process; loop / first run is what traindoc adds on top of one training "
            "(the retrain itself is about one first run).\n\n"
            f"{table(rows)}\n\nWorst loop {worst:.1f} s ({'within' if worst <= GOAL_S else 'over'} the "
            f"{GOAL_S:.0f} s goal).\n\n")
    print(text)
    if not args.no_write:
        write_section(REPO / "bench" / "RESULTS.md", text, SECTION)
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
