#!/usr/bin/env python3
"""Measure how far each fault-zoo scenario's symptom sits from its thresholds, over seeds and both forms.

    python tools/zoo_margins.py --seeds 5 --forms reduced --out margins.jsonl      # train and record
    python tools/zoo_margins.py --scenarios grad_explosion --forms reduced,normal --seeds 5 --out m.jsonl
    python tools/zoo_margins.py --table m.jsonl                                     # the table, from records

Every (scenario, form, faulty|fixed, seed) is materialised in a scratch folder exactly as tests/zoo_cache.py does
it (the fixed run is the faulty workspace with the known fix applied to its files), trained single-threaded in a
fresh interpreter, measured with phase1.zoo_symptoms (every figure is recorded, so a threshold can be reconsidered
without retraining), then deleted (embedding_heavy's checkpoints are ~1 GB). One JSON line per run is appended to
--out as soon as it finishes, so a long measurement can be interrupted and resumed: runs already in the file are
skipped. Seeds are train.seed values (weights, data and batch order all follow it); 1337 is the trainer default,
the one the tests train.

--table prints, per scenario, check and form: the figure's min and max over seeds for the faulty and the fixed
runs, the thresholds, and the margin: the factor by which the worst seed still clears the threshold (for
"present if > t": min/t; for "absent if < t": t/max; inf when the worst value is 0 against a "<" rule). docs/
fault-zoo.md quotes this table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from phase1 import scenarios  # noqa: E402
from phase1.zoo_symptoms import SYMPTOMS, margin  # noqa: E402

DEFAULT_SEEDS = [1337, 1, 2, 3, 4]


def diagnose(ws: Path) -> list[list]:
    """traindoc's top causes for a workspace (as a user runs it: the CLI on the folder): [[cause, confidence]]."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-m", "traindoc", "diagnose", str(ws), "--json"], capture_output=True,
                          text=True, timeout=600, env=env, check=False)
    if proc.returncode != 0:
        return [["error", proc.stderr.strip()[-200:]]]
    return [[rc["cause"], round(rc["confidence"], 3)] for rc in json.loads(proc.stdout)["root_causes"][:3]]


def run_one(name: str, reduced: bool, fixed: bool, seed: int, scratch: Path, extra: dict,
            trace: bool = False, with_diagnosis: bool = False) -> dict:
    """Materialise, (fix,) train and measure one run; the workspace is deleted afterwards."""
    ws = scratch / f"ws-{name}-{'r' if reduced else 'n'}-{'fix' if fixed else 'flt'}-{seed}"
    shutil.rmtree(ws, ignore_errors=True)
    t0 = time.time()
    try:
        scenarios.materialise(name, ws, reduced=reduced, extra={"train.seed": seed, **extra})
        if fixed:
            scenarios.apply_known_fix(ws, name)
        rc = scenarios.train_workspace(ws, out=ws / "run", quiet=True, timeout=3600)
        records = scenarios.read_records(ws / "run")
        figs = scenarios.measure(records)
        causes = diagnose(ws) if with_diagnosis else None
    finally:
        shutil.rmtree(ws, ignore_errors=True)
    present, absent = scenarios.judge(name, figs)
    rec = {"scenario": name, "form": "reduced" if reduced else "normal", "variant": "fixed" if fixed else "faulty",
           "seed": seed, "extra": extra, "exit": rc, "seconds": round(time.time() - t0, 1),
           "present": present, "absent": absent, "figures": figs}
    if causes is not None:
        rec["diagnosis"] = causes
    if trace:  # the per-step grad norm and loss, to see a trajectory while exploring a scenario
        steps = [r for r in records if r["type"] == "step"]
        rec["trace"] = {k: [float(f"{r[k]:.4g}") for r in steps] for k in ("grad_norm", "loss")}
    return rec


def same_forms(name: str) -> bool:
    """Whether the scenario's reduced form is its normal form (none at present: seed_divergence and future_leak had
    one config for both until 2026-12-06, when their reduced form moved to half the batch)."""
    sc = scenarios.get(name)
    return scenarios.effective_config(sc, reduced=True).to_dict() == scenarios.effective_config(sc).to_dict()


def _done(path: Path) -> set[tuple]:
    if not path.is_file():
        return set()
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.add((r["scenario"], r["form"], r["variant"], r["seed"], json.dumps(r.get("extra", {}), sort_keys=True)))
    return out


def measure_all(names: list[str], forms: list[str], variants: list[str], seeds: list[int], out: Path,
                extra: dict, trace: bool = False, with_diagnosis: bool = False) -> None:
    done = _done(out)
    scratch = Path(tempfile.mkdtemp(prefix="zoo-margins-"))
    try:
        for name in names:
            for form in forms:
                if form == "normal" and "reduced" in forms and same_forms(name):
                    continue  # the same runs as the reduced form
                for seed in seeds:  # seed outermost: an interrupted measurement still pairs faulty with fixed
                    for variant in variants:
                        if variant == "fixed" and not (scenarios.get(name).fix_config or scenarios.get(name).edits):
                            continue  # nothing to fix (healthy): the fixed run would be the same run
                        key = (name, form, variant, seed, json.dumps(extra, sort_keys=True))
                        if key in done:
                            continue
                        rec = run_one(name, form == "reduced", variant == "fixed", seed, scratch, extra, trace,
                                      with_diagnosis)
                        with open(out, "a", encoding="utf-8") as f:
                            f.write(json.dumps(rec) + "\n")
                        keys = [c.figure for c in SYMPTOMS[name]] + ["steps", "first_nonfinite_step"]
                        figs = ", ".join(f"{k}={rec['figures'].get(k, math.nan):.4g}" for k in keys)
                        ok = rec["present"] if variant == "faulty" else rec["absent"]
                        top = f" top={rec['diagnosis'][0][0]}" if rec.get("diagnosis") else ""
                        print(f"{name} {form} {variant} seed={seed} {'OK ' if ok else 'BAD'} {rec['seconds']}s {figs}"
                              f"{top}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    if math.isinf(x):
        return "inf"
    if x == 0:
        return "0"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"


def table(path: Path) -> str:
    """Markdown table of min/max per figure over seeds, faulty and fixed, with thresholds and margins."""
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = ["| Scenario | Form | Figure | Faulty min / max (seeds) | Present if | Margin | Fixed min / max (seeds) "
            "| Absent if | Margin |", "|---|---|---|---|---|---|---|---|---|"]
    for name in SYMPTOMS:
        for form in ("reduced", "normal"):
            sel = [r for r in recs if r["scenario"] == name and r["form"] == form and not r.get("extra")]
            measured = any(r["scenario"] == name and not r.get("extra") for r in recs)
            if not sel and form == "normal" and measured and same_forms(name):
                rows.append(f"| `{name}` | normal | (the reduced form's runs: same config) |||||||")
                continue
            if not sel:
                continue
            for check in SYMPTOMS[name]:
                cells = []
                for variant, rule in (("faulty", check.present), ("fixed", check.absent)):
                    vals = [r["figures"].get(check.figure, math.nan) for r in sel if r["variant"] == variant]
                    vals = [math.nan if v is None else v for v in vals]
                    if not vals:
                        cells += ["—", f"{rule[0]} {_fmt(rule[1])}", "—"]
                        continue
                    worst = min((margin(rule, v) for v in vals), key=lambda m: -1 if math.isnan(m) else m)
                    cells += [f"{_fmt(min(vals))} / {_fmt(max(vals))} ({len(vals)})", f"{rule[0]} {_fmt(rule[1])}",
                              _fmt(worst) if math.isinf(worst) else f"{_fmt(worst)}x"]
                rows.append(f"| `{name}` | {form} | {check.figure} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default="all", help="comma-separated names (default: all)")
    ap.add_argument("--forms", default="reduced", help="reduced,normal")
    ap.add_argument("--variants", default="faulty,fixed")
    ap.add_argument("--seeds", type=int, default=5, help=f"the first N of {DEFAULT_SEEDS}")
    ap.add_argument("--seed-list", help="explicit comma-separated train.seed values")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra config override for both variants (exploring a scenario; recorded with the run)")
    ap.add_argument("--diagnose", action="store_true", help="also record traindoc's top causes for each run")
    ap.add_argument("--trace", action="store_true", help="also record the per-step grad norm and loss")
    ap.add_argument("--out", type=Path, help="JSONL file the runs are appended to (resumable)")
    ap.add_argument("--table", type=Path, help="print the margin table of a JSONL file and exit")
    args = ap.parse_args(argv)
    if args.table:
        print(table(args.table))
        return 0
    if not args.out:
        ap.error("--out is required to measure")
    names = list(SYMPTOMS) if args.scenarios == "all" else [n.strip() for n in args.scenarios.split(",")]
    unknown = [n for n in names if n not in scenarios.SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    seeds = [int(s) for s in args.seed_list.split(",")] if args.seed_list else DEFAULT_SEEDS[: args.seeds]
    from phase1.config import parse_set

    measure_all(names, args.forms.split(","), args.variants.split(","), seeds, args.out, parse_set(args.set),
                args.trace, args.diagnose)
    print(table(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
