"""Materialise every labelled real-library run (HF Trainer and Lightning, one per injected fault) and list them.

    .venv/bin/python tools/make_labelled_runs.py [--json | --summary | --diagnose] [--variants] [--workers 2]

Runs are produced by tests/reallib (the same cache the tests use: `.cache/reallib/`, once per code version), so
calibration fitting and the acceptance tests see the same files. Output: one line per run, `lib fault label path`
(label `-` for healthy), or with --json a list of {"lib", "run", "fault", "label", "variant", "path", "seconds"}
objects, where label is the cause id a correct diagnosis names first (null: healthy), run is the fault or the
variant's name, and seconds is how long that run took to generate. --variants adds the VARIANTS of
tests/reallib (same faults, other severities and recipes: more diverse calibration data).
--summary prints each run's headline figures instead, read from the raw files (not through traindoc): peak LR,
train loss first -> last, validation best (step) -> last, grad norm first / median / max, first non-finite step.
--diagnose runs `traindoc diagnose RUN --json` on each and prints the top cause against the label (scored as the
acceptance test scores: top-1 cause = label; healthy = verdict healthy and no cause >= 0.5).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reallib import LABELS, VARIANT_LABELS, VARIANTS, all_runs, generation_seconds  # noqa: E402
from reallib.rawread import hf_history, lightning_metrics, values  # noqa: E402


def headline(lib: str, run: Path) -> str:
    """One line of the figures that show a run's symptom, from trainer_state.json or metrics.csv."""
    if lib == "hf":
        train, evals = hf_history(run)
        steps = [r["step"] for r in train]
        loss, grad = [r["loss"] for r in train], [r["grad_norm"] for r in train]
        lr = [r["learning_rate"] for r in train]
        val = [(e["step"], e["eval_loss"]) for e in evals]
        # HF's NaN filter: a logged loss of 0.0 with a non-finite grad norm is a NaN step.
        bad = [s for s, g in zip(steps, grad, strict=True) if not math.isfinite(g)]
    else:
        m = lightning_metrics(run)
        steps, loss = [s for s, _ in m["train_loss_step"]], values(m["train_loss_step"])
        grad, lr = values(m["grad_norm"]), values(next(v for k, v in m.items() if k.startswith("lr-")))
        val = m["val_loss"]
        bad = [s for s, v in m["train_loss_step"] if not math.isfinite(v)]
    finite_val = [(s, v) for s, v in val if math.isfinite(v)]
    best = min(finite_val, key=lambda sv: sv[1]) if finite_val else (None, math.nan)
    finite_grad = sorted(g for g in grad if math.isfinite(g))
    median = finite_grad[len(finite_grad) // 2] if finite_grad else math.nan
    return (
        f"lr {max(lr):.3g} | loss {loss[0]:.3g}->{loss[-1]:.3g} | val best {best[1]:.3g}@{best[0]} last "
        f"{val[-1][1]:.3g} | grad {grad[0]:.3g}/{median:.3g}/{max(finite_grad, default=math.nan):.3g} | "
        f"first non-finite {bad[0] if bad else '-'} | {steps[-1]} steps"
    )


def diagnose_line(label: str | None, run: Path) -> tuple[bool, str]:
    """Top-1 of `traindoc diagnose --json` against the label, scored like tests/test_reallib_acceptance.py."""
    proc = subprocess.run(
        [sys.executable, "-m", "traindoc", "diagnose", str(run), "--json"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return False, f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:] or ''}"
    diagnosis = json.loads(proc.stdout)
    causes = diagnosis.get("root_causes") or []
    top = ", ".join(f"{c['cause']} {c['confidence']:.2f}" for c in causes[:3]) or "none"
    if label is None:
        ok = diagnosis["verdict"] == "healthy" and all(c["confidence"] < 0.5 for c in causes)
    else:
        ok = bool(causes) and causes[0]["cause"] == label
    return ok, f"{diagnosis['verdict']}; {top}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list instead of text lines")
    out.add_argument("--summary", action="store_true", help="print each run's headline figures")
    out.add_argument("--diagnose", action="store_true", help="diagnose each run and score the top cause")
    parser.add_argument("--variants", action="store_true", help="also the variants (other severities, recipes)")
    parser.add_argument("--workers", type=int, default=2, help="runs generated in parallel (default 2)")
    ns = parser.parse_args(argv)
    start = time.perf_counter()
    runs = all_runs(workers=max(1, ns.workers), variants=ns.variants)
    elapsed = time.perf_counter() - start
    labels = {**LABELS, **VARIANT_LABELS}
    rows = [
        {
            "lib": lib,
            "run": name,
            "fault": VARIANTS[(lib, name)][0] if (lib, name) in VARIANTS else name,
            "label": labels[(lib, name)],
            "variant": (lib, name) in VARIANTS,
            "path": str(path),
            "seconds": generation_seconds(lib, name),
        }
        for (lib, name), path in runs.items()
    ]
    if ns.json:
        print(json.dumps(rows, indent=2))
    elif ns.summary:
        for row in rows:
            print(f"{row['lib']:<10} {row['run']:<28} {headline(row['lib'], Path(row['path']))}")
    elif ns.diagnose:
        correct = 0
        for row in rows:
            ok, detail = diagnose_line(row["label"], Path(row["path"]))
            correct += ok
            expected = row["label"] or "healthy"
            print(f"{'ok  ' if ok else 'MISS'} {row['lib']:<10} {row['run']:<28} expected {expected:<18} {detail}")
        print(f"top-1 {correct}/{len(rows)} = {correct / len(rows):.1%}")
    else:
        for row in rows:
            print(f"{row['lib']:<10} {row['run']:<28} {row['label'] or '-':<18} {row['path']}")
    print(f"{len(rows)} runs ready in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head: not an error
        sys.exit(0)
