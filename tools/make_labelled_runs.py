"""Materialise every labelled real-library run (HF Trainer and Lightning, one per injected fault) and list them.

    .venv/bin/python tools/make_labelled_runs.py [--json] [--workers 2]

Runs are produced by tests/reallib (the same cache the tests use: `.cache/reallib/`, once per code version), so
calibration fitting and the acceptance tests see the same files. Output: one line per run, `lib fault label path`
(label `-` for healthy), or with --json a list of {"lib", "fault", "label", "path", "seconds"} objects, where
label is the cause id a correct diagnosis names first and seconds is how long that run took to generate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reallib import LABELS, all_runs, generation_seconds  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of text lines")
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
    else:
        for row in rows:
            print(f"{row['lib']:<10} {row['fault']:<18} {row['label'] or '-':<18} {row['path']}")
    print(f"{len(rows)} runs ready in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
