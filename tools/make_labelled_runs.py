"""Materialise every labelled real-library run (HF Trainer and Lightning, one per injected fault) and list them.

    .venv/bin/python tools/make_labelled_runs.py [--json | --summary] [--workers 2]

Runs are produced by tests/reallib (the same cache the tests use: `.cache/reallib/`, once per code version), so
calibration fitting and the acceptance tests see the same files. Output: one line per run, `lib fault label path`
(label `-` for healthy), or with --json a list of {"lib", "fault", "label", "path", "seconds"} objects, where
label is the cause id a correct diagnosis names first and seconds is how long that run took to generate.
--summary prints each run's headline figures instead, read from the raw files (not through traindoc): peak LR,
train loss first -> last, validation best (step) -> last, grad norm first / median / max, first non-finite step.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reallib import LABELS, all_runs, generation_seconds  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list instead of text lines")
    out.add_argument("--summary", action="store_true", help="print each run's headline figures")
    parser.add_argument("--workers", type=int, default=2, help="runs generated in parallel (default 2)")
    ns = parser.parse_args(argv)
    start = time.perf_counter()
    runs = all_runs(workers=max(1, ns.workers))
    elapsed = time.perf_counter() - start
    rows = [
        {
            "lib": lib,
            "fault": fault,
            "label": LABELS[(lib, fault)],
            "path": str(path),
            "seconds": generation_seconds(lib, fault),
        }
        for (lib, fault), path in runs.items()
    ]
    if ns.json:
        print(json.dumps(rows, indent=2))
    elif ns.summary:
        for row in rows:
            print(f"{row['lib']:<10} {row['fault']:<18} {headline(row['lib'], Path(row['path']))}")
    else:
        for row in rows:
            print(f"{row['lib']:<10} {row['fault']:<18} {row['label'] or '-':<18} {row['path']}")
    print(f"{len(rows)} runs ready in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head: not an error
        sys.exit(0)
