"""Benchmark: the whole fix loop (diagnose -> plan -> apply -> retrain -> verify) per fault-zoo scenario on CPU.

Goal: <= 2 minutes per scenario. Baseline, measured in the same run on the same workspace: a plain retrain
(`python WS/train.py`), the floor for any loop that fixes by retraining; by default the loop's own retrain step,
with --separate-baseline an extra retrain of the unfixed workspace. The ratio loop / retrain shows what traindoc's
own stages (diagnose, plan, apply + the project's tests, verify) add on top of the training itself.

    .venv/bin/python bench/bench_loop.py [SCENARIO ...] [--workspaces DIR] [--separate-baseline] [--no-write]

Writes the "## Fix loop" section of bench/RESULTS.md (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from test_loop_zoo import loop_fixed, materialise, scenario_cause, scenario_names  # noqa: E402
from traindoc.verify.loop import run_loop  # noqa: E402

SECTION = "## Fix loop"
GOAL_S = 120.0


def _finished(ws: Path) -> bool:
    """The workspace's first training has ended (the trainer's last record is {"type": "end", ...})."""
    log = ws / "run" / "metrics.jsonl"
    if not log.is_file():
        return False
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return bool(lines) and '"type": "end"' in lines[-1].replace('"type":"end"', '"type": "end"')


def source_workspace(name: str, workspaces: Path | None, wait_s: float = 0) -> Path:
    """A materialised (already trained) workspace: from --workspaces DIR/<name> when given (waiting up to
    `wait_s` for a training still running there), else the zoo cache."""
    if workspaces is not None:
        deadline = time.time() + wait_s
        while not _finished(workspaces / name) and time.time() < deadline:
            time.sleep(5)
        if _finished(workspaces / name):
            return workspaces / name
    return materialise(name)


def bench_one(name: str, scratch: Path, workspaces: Path | None, separate_baseline: bool, wait_s: float) -> dict:
    src = source_workspace(name, workspaces, wait_s)
    ws = scratch / name
    shutil.copytree(src, ws, symlinks=True, ignore=shutil.ignore_patterns("run-*", ".traindoc", "__pycache__",
                                                                          "diagnosis.json", "plan.json"))
    baseline = None
    if separate_baseline:  # a plain retrain of the unfixed workspace, timed on its own
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ws / "train.py"), "--out", str(ws / "run-baseline")], cwd=ws,
                       capture_output=True, check=False, timeout=900)
        baseline = time.perf_counter() - t
        shutil.rmtree(ws / "run-baseline", ignore_errors=True)
    r = run_loop(ws)
    if baseline is None:
        baseline = r["times"]["retrain"]  # the loop's own retrain: a plain training run, timed in the same run
    return {"scenario": name, "passed": loop_fixed(r, scenario_cause(name)), "verify_passed": r["passed"],
            "times": r["times"], "baseline_retrain": baseline,
            "diagnosis": r["diagnosis"], "apply": r["apply"], "tests": r.get("tests"), "result": r}


def table(rows: list[dict]) -> str:
    out = ["| scenario | loop total (s) | diagnose | plan | apply+tests | retrain | verify | plain retrain (s) | "
           "loop / retrain | diagnosed causes | fixed |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["times"]
        out.append(f"| {r['scenario']} | {t['total']:.1f} | {t['diagnose']:.1f} | {t['plan']:.1f} | {t['apply']:.1f} | "
                   f"{t['retrain']:.1f} | {t['verify']:.1f} | {r['baseline_retrain']:.1f} | "
                   f"{t['total'] / max(r['baseline_retrain'], 1e-9):.2f} | "
                   f"{', '.join(f'{c} {p:.2f}' for c, p in r['diagnosis']) or '—'} | {'✓' if r['passed'] else '✗'} |")
    return "\n".join(out)


def write_section(text: str) -> None:
    path = REPO / "bench" / "RESULTS.md"
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = text.rstrip("\n") + "\n\n"
    new = pattern.sub(text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--workspaces", type=Path, help="folder of already materialised zoo workspaces (DIR/<name>)")
    ap.add_argument("--wait", type=float, default=0, help="seconds to wait for a --workspaces training to finish")
    ap.add_argument("--separate-baseline", action="store_true",
                    help="time a plain retrain of each workspace separately (doubles the run time)")
    args = ap.parse_args()
    names = args.scenarios or scenario_names()
    if not names:
        print("bench_loop: no fault-zoo scenarios (phase1.scenarios) found", file=sys.stderr)
        return 2
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as scratch:
        for n in names:
            rows.append(bench_one(n, Path(scratch), args.workspaces, args.separate_baseline, args.wait))
            r = rows[-1]
            print(f"{n}: loop {r['times']['total']:.1f}s (retrain {r['times']['retrain']:.1f}s, plain retrain "
                  f"{r['baseline_retrain']:.1f}s) fixed={r['passed']}", file=sys.stderr)
            report(rows, len(names), write=not args.no_write)  # after every scenario: a cut-off run keeps its rows
    return 0


def failure_reason(row: dict) -> str:
    """One line: the diagnosis missed the scenario's cause, or which verify checks failed (before -> after)."""
    r = row["result"]
    cause = scenario_cause(row["scenario"])
    named = [c for c, p in r["diagnosis"] if p > 0.5]
    parts = []
    if cause != "healthy" and cause not in named:
        parts.append(f"the diagnosis did not name `{cause}` (it reported {', '.join(named) or 'nothing'} above 0.5)")
    v = r.get("verify") or {}
    for c in v.get("checks", []):
        if not c["holds"]:
            parts.append(f"verify check failed: {c['description']} (before {c['before']:.4g}, after {c['after']:.4g})"
                         if isinstance(c["before"], int | float) and isinstance(c["after"], int | float)
                         else f"verify check failed: {c['description']}")
    if r.get("apply") not in ("applied", "nothing to apply"):
        parts.append(f"apply: {r.get('apply')} ({r.get('apply_reason')})")
    return "; ".join(parts) or "see .cache/bench_loop.json"


def report(rows: list[dict], planned: int, write: bool) -> None:
    passed = sum(r["passed"] for r in rows)
    worst = max(r["times"]["total"] for r in rows)
    mean = sum(r["times"]["total"] for r in rows) / len(rows)
    partial = f"Partial: {len(rows)} of the {planned} scenarios measured so far.\n\n" if len(rows) < planned else ""
    text = (f"{SECTION}\n\n`python bench/bench_loop.py` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS')}, shared machine (other people's trainings ran at the same time).\n\n"
            f"Loop = diagnose → plan → apply (+ the workspace's tests) → retrain → verify, no human edit, on the "
            f"zoo's reduced workspaces. Baseline: the plain training run inside the same loop (`python train.py`), "
            f"so loop / retrain is what traindoc adds on top of retraining. Goal: ≤ {GOAL_S:.0f} s per "
            f"scenario.\n\n{table(rows)}\n\n{partial}"
            f"Fixed (verify passed and the diagnosis had named the scenario's own cause, or healthy stayed healthy): "
            f"{passed}/{len(rows)} scenarios; mean loop {mean:.1f} s, worst {worst:.1f} s "
            f"({'within' if worst <= GOAL_S else 'over'} the {GOAL_S:.0f} s goal).\n")
    why = [f"- {r['scenario']}: {failure_reason(r)}" for r in rows if not r["passed"]]
    if why:
        text += "\nNot fixed, and why (from the loop's own records):\n" + "\n".join(why) + "\n"
    print(text)
    if write:
        write_section(text)
    (REPO / ".cache").mkdir(exist_ok=True)
    (REPO / ".cache" / "bench_loop.json").write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
