"""`traindoc apply PLAN.json --approve PLAN_ID [--dry-run] [--test-cmd CMD] [--no-tests] [--allow-failing-baseline]`
and `traindoc apply --recover [ROOT|PLAN.json]`. Prints the implementation report (report.schema.json) on stdout;
every refusal, recovery and problem is one line on stderr."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from traindoc.apply.run import apply_plan
from traindoc.apply.transaction import JournalError, recover
from traindoc.cli import UsageError


def _read_plan(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(f"plan {path} not found") from e
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise UsageError(f"plan {path} is not readable JSON ({str(e)[:200]})") from e


def _recover(target_s: str | None) -> int:
    target = Path(target_s or ".")
    if target.is_file():
        plan = _read_plan(str(target))
        if not isinstance(plan, dict) or not isinstance(plan.get("root"), str):
            raise UsageError(f"{target} is not a traindoc plan (no root)")
        target = Path(plan["root"])
    if not target.is_dir():
        raise UsageError(f"{target} is not a project folder or a plan")
    try:
        rec = recover(Path(os.path.realpath(target)))
    except JournalError as e:
        print(f"traindoc apply: {e}", file=sys.stderr)
        return 1
    for line in rec.actions + rec.problems:
        print(f"traindoc apply: {line}", file=sys.stderr)
    if not rec.actions and not rec.problems:
        print(f"traindoc apply: nothing to recover under {target}", file=sys.stderr)
    return 1 if rec.problems else 0


def command(args: Any) -> int:
    if getattr(args, "recover", False):
        return _recover(args.plan)
    if not args.plan:
        raise UsageError("give PLAN.json (made by `traindoc plan -o PLAN.json`)")
    plan = _read_plan(args.plan)
    if not isinstance(plan, dict) or "changes" not in plan or "plan_id" not in plan:
        raise UsageError(f"{args.plan} is not a traindoc plan")
    outcome = apply_plan(plan, args.approve, dry_run=args.dry_run, test_cmd=args.test_cmd,
                         run_the_tests=not getattr(args, "no_tests", False),
                         allow_failing_baseline=getattr(args, "allow_failing_baseline", False))
    for line in outcome.recovered:
        print(f"traindoc apply: {line}", file=sys.stderr)
    rep = outcome.report
    if rep["status"] == "refused":
        print(f"traindoc apply: refused: {rep.get('reason')}", file=sys.stderr)
    elif rep["status"] in ("rolled_back", "nothing_applied"):
        print(f"traindoc apply: {rep.get('reason')}", file=sys.stderr)
    if args.dry_run and rep["status"] == "dry_run":
        sys.stderr.write(rep.get("diff", ""))
    shown = {k: v for k, v in rep.items() if k != "diff"} if not args.dry_run else rep
    json.dump(shown, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return outcome.exit_code
