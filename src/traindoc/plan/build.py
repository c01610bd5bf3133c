"""Turn a diagnosis into an implementation plan: concrete, reviewable edits to the user's own files.

How a plan is made, per chosen root cause (best rank first):
1. the diagnosis's own `fix.changes` are tried first (a config key and its new value, or a code template at a
   file:line found by traindoc.evidence.code_sites);
2. if none of them can be realised (key not in any config file, site gone), the cause's default fixer runs: its
   plan policy in the cause registry (src/traindoc/causes/<id>.py), interpreted by plan/policy.py.

One concern per module: plan/workspace.py (the in-memory edit workspace), plan/config_sites.py (where the next run
reads a key, and the config edit there), plan/code_fix.py (fix templates, imports, regression tests),
plan/policy.py (the per-cause policy table) with plan/strategies.py (its named rules), plan/hunks.py (the plan's
hunks and plan_id), plan/test_command.py (the test command), plan/render.py (the Markdown), and this module, which
chooses the causes and assembles the plan.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traindoc.evidence import code_sites
from traindoc.plan import targets
from traindoc.plan.config_sites import RUN_OUTPUT_MARKERS, discover_config_files
from traindoc.plan.hunks import compute_plan_id, hunks
from traindoc.plan.launch import find as find_launch
from traindoc.plan.policy import COMPLETE_AFTER_DIAGNOSIS, DEFAULT_FIXERS, apply_diagnosis_changes
from traindoc.plan.render import render_markdown
from traindoc.plan.retrain import plan_retrain
from traindoc.plan.setting_test import add_setting_tests
from traindoc.plan.test_command import argv_for_tests
from traindoc.plan.workspace import Context, Workspace

SCHEMA_VERSION = "1.0"
# build_plan, PlanError and the two functions other stages call on a plan (apply: compute_plan_id; the CLI:
# render_markdown) are imported from here
__all__ = ["SCHEMA_VERSION", "PlanError", "build_plan", "choose_root_causes", "compute_plan_id", "default_root",
           "render_markdown"]


class PlanError(ValueError):
    """The diagnosis cannot be turned into a plan (unreadable, nothing chosen). One line for the user."""


def choose_root_causes(diagnosis: dict[str, Any], fix: str | None) -> list[dict[str, Any]]:
    """The root causes `--fix` names, by rank (1,2) or by cause id (fp16_overflow), in the order given; without
    `--fix`, every cause above 0.5. A cause id reads the same whatever rank the diagnosis gave it."""
    rcs = diagnosis.get("root_causes") or []
    if not fix:
        return [rc for rc in rcs if float(rc.get("confidence", 0)) > 0.5]
    by_rank = {str(rc.get("rank")): rc for rc in rcs}
    by_cause = {str(rc.get("cause")): rc for rc in rcs}
    chosen = []
    for token in (t.strip() for t in fix.split(",")):
        if not token:
            continue
        rc = by_rank.get(token) or by_cause.get(token)
        if rc is None:
            what = "rank" if token.isdigit() else "cause"
            listed = ", ".join(f"{r.get('rank')}:{r.get('cause')}" for r in rcs) or "none"
            raise PlanError(f"--fix {token}: no root cause with that {what} (the diagnosis lists {listed})")
        chosen.append(rc)
    return chosen


def default_root(diagnosis: dict[str, Any], base: Path) -> Path:
    """The common folder of everything the diagnosis read, lifted out of a run's output folder."""
    run = diagnosis.get("run") or {}
    paths = list(run.get("paths") or []) + [s.get("path") for s in run.get("sources") or [] if s.get("path")]
    paths += list(run.get("code_files") or [])
    resolved = [str((base / p).resolve()) for p in paths if p]
    if not resolved:
        return base.resolve()
    root = Path(os.path.commonpath(resolved))
    if root.is_file():
        root = root.parent
    while any((root / m).exists() for m in RUN_OUTPUT_MARKERS) and root.parent != root:
        root = root.parent
    base = base.resolve()
    return targets.project_above(root, stop=base if root.is_relative_to(base) else None)


def build_plan(diagnosis: dict[str, Any], diagnosis_path: str, fix: str | None = None,
               root: str | None = None, retrain_cmd: str | None = None) -> dict[str, Any]:
    base = Path(diagnosis_path).resolve().parent if diagnosis_path else Path.cwd()
    base = Path.cwd() if not diagnosis_path else base
    root_path = Path(root).resolve() if root else default_root(diagnosis, Path.cwd())
    if not root_path.is_dir():
        raise PlanError(f"project root {root_path} is not a folder")
    chosen = choose_root_causes(diagnosis, fix)
    run = diagnosis.get("run") or {}
    code_paths = [str((Path.cwd() / p).resolve()) for p in run.get("code_files") or []]
    code_paths.append(str(root_path))
    code_files = [str(Path(f).resolve()) for f in code_sites.python_files(code_paths)]
    code_files = [f for f in dict.fromkeys(code_files) if Path(f).resolve().is_relative_to(root_path)
                  and "tests" not in Path(f).relative_to(root_path).parts[:1]]
    step_range = run.get("step_range") or [None, None]
    total = step_range[1] if len(step_range) > 1 and isinstance(step_range[1], int) else None
    ws = Workspace(root_path)
    outputs = targets.RunOutputs.from_diagnosis(diagnosis, root_path, Path.cwd())
    try:
        launch, launch_notes = find_launch(root_path, diagnosis, outputs, code_files, retrain_cmd)
    except ValueError as e:
        raise PlanError(str(e)) from e
    ws.notes += launch_notes
    listed = diagnosis.get("root_causes") or []
    if not chosen and listed:
        # every cause is below 0.5 (a candidate, not a diagnosis): nothing is planned unless the person picks one
        names = ", ".join(f"{rc.get('rank')}. {rc.get('cause')} ({float(rc.get('confidence') or 0):.0%})"
                          for rc in listed)
        ws.notes.append(f"no cause reaches confidence 0.5, so none is planned by default; the diagnosis lists "
                        f"{names}: to plan one, run `traindoc plan` again with --fix N (its rank)")
    ctx = Context(ws, diagnosis, discover_config_files(root_path), code_files, total, Path.cwd(), outputs, launch)
    fixes = []
    for rc in chosen:
        cause = rc.get("cause", "")
        n_before = len(ws.edits)
        overrides_before = dict(launch.overrides) if launch is not None else {}
        done = apply_diagnosis_changes(ctx, rc)
        if not done and cause in DEFAULT_FIXERS:
            done = DEFAULT_FIXERS[cause](ctx, rc)
        elif done and cause in COMPLETE_AFTER_DIAGNOSIS:
            COMPLETE_AFTER_DIAGNOSIS[cause](ctx, rc)  # the diagnosis may cite one site of several
        if not done and len(ws.edits) == n_before:
            ws.notes.append(f"rank {rc.get('rank')} {cause}: no change could be planned automatically")
        fix = {"rank": rc.get("rank"), "cause": cause, "summary": (rc.get("fix") or {}).get("summary", ""),
               "confidence": rc.get("confidence"), "planned": len(ws.edits) > n_before}
        if launch is not None and launch.overrides != overrides_before:
            # the value is set on a recorded-only launch command (W&B, MLflow, a log line, --retrain-cmd): no file
            # holds it, the retrain command carries it; verify checks this cause like a planned one
            fix["in_retrain_command"] = True
        fixes.append(fix)
    add_setting_tests(ctx)  # each changed setting, loaded back as the project loads it
    changes = hunks(root_path, ws)
    tests_add = [{"file": c["file"], "content": c["after"], "description": c["description"]}
                 for c in changes if c["kind"] == "new_file"]
    expected = [p for rc in chosen for p in rc.get("expected_outcome") or []]
    diag_abs = str(Path(diagnosis_path).resolve()) if diagnosis_path else ""
    retrain = plan_retrain(ctx.launch, outputs.runs, ws.text, diag_abs)
    plan: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "plan_id": "",
        "root": str(root_path),
        "diagnosis": str(Path(diagnosis_path).resolve()) if diagnosis_path else "",
        "fixes": fixes,
        "changes": changes,
        "tests": {"add": tests_add, "run": argv_for_tests(root_path)},
        "verification": {**retrain, "expected_outcome": expected},
        "notes": ws.notes,
    }
    plan["plan_id"] = compute_plan_id(plan)
    return plan
