"""`traindoc apply PLAN.json --approve PLAN_ID [--dry-run] [--test-cmd CMD] [--no-tests]` and
`traindoc apply --recover [ROOT|PLAN.json]`. Prints the implementation report (report.schema.json) on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from traindoc.apply.run import apply_plan
from traindoc.apply.transaction import recover
from traindoc.cli import UsageError


def command(args: Any) -> int:
    if getattr(args, "recover", False):
        target = Path(args.plan or ".")
        if target.is_file():
            target = Path(json.loads(target.read_text(encoding="utf-8")).get("root", "."))
        actions = recover(target.resolve())
        print("\n".join(actions) if actions else f"nothing to recover under {target}", file=sys.stderr)
        return 0
    if not args.plan:
        raise UsageError("give PLAN.json (made by `traindoc plan -o PLAN.json`)")
    try:
        plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(f"plan {args.plan} not found") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"plan {args.plan} is not readable JSON ({e})") from e
    if not isinstance(plan, dict) or "changes" not in plan or "plan_id" not in plan:
        raise UsageError(f"{args.plan} is not a traindoc plan")
    outcome = apply_plan(plan, args.approve, dry_run=args.dry_run, test_cmd=args.test_cmd,
                         run_the_tests=not getattr(args, "no_tests", False))
    for line in outcome.recovered:
        print(f"traindoc apply: {line}", file=sys.stderr)
    rep = outcome.report
    if rep["status"] == "refused":
        print(f"traindoc apply: refused: {rep.get('reason')}", file=sys.stderr)
    elif rep["status"] == "rolled_back":
        print(f"traindoc apply: {rep.get('reason')}", file=sys.stderr)
        print((rep.get("tests_detail") or {}).get("output_tail", "")[-2000:], file=sys.stderr)
    if args.dry_run and rep["status"] == "dry_run":
        sys.stderr.write(rep.get("diff", ""))
    shown = {k: v for k, v in rep.items() if k != "diff"} if not args.dry_run else rep
    json.dump(shown, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return outcome.exit_code
