"""`traindoc plan DIAGNOSIS.json [--fix N,...] [-o PLAN.json] [--json] [--root DIR]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from traindoc.cli import UsageError
from traindoc.plan.build import PlanError, build_plan, render_markdown


def load_json(path: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(f"{what} {path} not found") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{what} {path} is not readable JSON ({e})") from e
    if not isinstance(data, dict):
        raise UsageError(f"{what} {path} is not a JSON object")
    return data


def command(args: Any) -> int:
    diagnosis = load_json(args.diagnosis, "diagnosis")
    if "root_causes" not in diagnosis:
        raise UsageError(f"{args.diagnosis} is not a traindoc diagnosis (no root_causes)")
    try:
        plan = build_plan(diagnosis, args.diagnosis, getattr(args, "fix", None), getattr(args, "root", None),
                          getattr(args, "retrain_cmd", None))
    except PlanError as e:
        raise UsageError(str(e)) from e
    text = json.dumps(plan, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"plan written to {args.output} (plan id {plan['plan_id']})", file=sys.stderr)
    if args.json:
        sys.stdout.write(text)
    else:
        md = render_markdown(plan)
        if args.output:
            md = md.replace("PLAN.json", args.output)
        sys.stdout.write(md)
    return 0
