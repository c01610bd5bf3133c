"""`traindoc verify DIAGNOSIS.json NEW_RUN... [--json] [--html FILE] [--plan PLAN.json]`: exit 0 only when every
expected outcome holds and the original causes are gone; 1 otherwise; 2 when the inputs cannot be read, or the new
run is not new (the diagnosed run itself, a copy of it, or older than the applied fix: the message names both
runs). --html also writes a before/after page (verify/report.py), named on stderr by its absolute path."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from traindoc.cli import UsageError


def command(args: Any) -> int:
    try:
        original = json.loads(Path(args.diagnosis).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(f"diagnosis {args.diagnosis} not found") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"diagnosis {args.diagnosis} is not readable JSON ({e})") from e
    if not isinstance(original, dict) or "root_causes" not in original:
        raise UsageError(f"{args.diagnosis} is not a traindoc diagnosis")
    missing = [p for p in args.new_run if not Path(p).exists()]
    if missing:
        raise UsageError(f"new run {missing[0]} not found")
    from traindoc.ingest.loader import load_run
    from traindoc.verify.check import NotANewRun, render, verify

    run = load_run(list(args.new_run))
    try:
        result = verify(original, list(args.new_run), run=run, diagnosis_path=args.diagnosis,
                        plan_path=getattr(args, "plan", None))
    except NotANewRun as e:
        raise UsageError(f"refused: {e}") from e
    html = getattr(args, "html", None)
    if html:
        from traindoc.verify.report import to_html

        full = os.path.abspath(html)
        try:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            Path(full).write_text(to_html(result, original, run), encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {html}: {e.strerror or e}") from None
        print(f"traindoc verify: wrote {full}", file=sys.stderr)
    if args.json:
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(result))
    return 0 if result["passed"] else 1
