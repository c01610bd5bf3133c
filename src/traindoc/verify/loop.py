"""The whole fix loop on one project folder, with no human edit: diagnose -> plan -> apply -> retrain -> verify.

Used by the acceptance tests (every fault-zoo scenario, the user-project layouts of tests/userproj) and by
bench/. Retraining runs the plan's own retrain command (the user's launch command with the fix, recovered by
plan/launch.py, or `retrain_cmd` when given), in its folder, with `python` meaning this interpreter; the new run
is the folder the plan names. With no retrain command the loop fails and says so: it never invents one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from traindoc.apply.run import apply_plan
from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import load_run
from traindoc.plan.build import build_plan
from traindoc.verify.check import verify


def run_loop(ws: Path, run_dir: str = "run", retrain_timeout: float = 900, test_cmd: str | None = None,
             retrain_cmd: str | None = None, diagnose_paths: list[str] | None = None,
             fix: str | None = None) -> dict[str, Any]:
    """`diagnose_paths` (relative to ws): what the diagnosis reads (default: the whole project folder); `fix`: the
    root-cause ranks to fix, as `traindoc plan --fix` takes them (default: every cause above 0.5)."""
    ws = ws.resolve()
    times: dict[str, float] = {}
    result: dict[str, Any] = {"workspace": str(ws), "times": times}

    t = time.perf_counter()
    # diagnosed as a user would: the whole project folder (its run, config and code), nothing else
    paths = [str(ws / p) for p in diagnose_paths] if diagnose_paths else [str(ws)]
    run = load_run(paths)
    diag = diagnose(run, paths)
    diag_path = ws / "diagnosis.json"
    diag_path.write_text(json.dumps(diag, indent=1))
    times["diagnose"] = time.perf_counter() - t
    result["diagnosis"] = [(rc["cause"], rc["confidence"]) for rc in diag["root_causes"]]
    result["verdict"] = diag["verdict"]

    t = time.perf_counter()
    plan = build_plan(diag, str(diag_path), fix=fix, root=str(ws), retrain_cmd=retrain_cmd)
    (ws / "plan.json").write_text(json.dumps(plan, indent=1))
    times["plan"] = time.perf_counter() - t
    result["changes"] = len(plan["changes"])
    result["plan_notes"] = plan.get("notes", [])

    t = time.perf_counter()
    if plan["changes"]:
        outcome = apply_plan(plan, plan["plan_id"], test_cmd=test_cmd)
        result["apply"] = outcome.report["status"]
        result["tests"] = outcome.report.get("tests")
        if outcome.report["status"] != "applied":
            result["apply_reason"] = outcome.report.get("reason")
            result["tests_tail"] = (outcome.report.get("tests_detail") or {}).get("output_tail", "")[-1500:]
    else:
        result["apply"] = "nothing to apply"
    times["apply"] = time.perf_counter() - t

    ver_plan = plan["verification"]
    if not ver_plan.get("retrain_argv") or not ver_plan.get("new_run"):
        result["retrain_exit"] = None
        result["retrain_tail"] = ver_plan.get("retrain_missing") or "the retrain command names no new run folder"
        result["passed"] = False
        return result
    argv = [sys.executable if re.fullmatch(r"python[\d.]*", a) else a for a in ver_plan["retrain_argv"]]
    new_run = Path(ver_plan["new_run"])
    result["retrain_cmd"] = ver_plan["retrain"]
    t = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run(argv, cwd=ver_plan["retrain_cwd"], env=env, capture_output=True, text=True,
                          timeout=retrain_timeout)
    times["retrain"] = time.perf_counter() - t
    result["retrain_exit"] = proc.returncode
    if proc.returncode != 0:
        result["retrain_tail"] = (proc.stdout + proc.stderr)[-1500:]

    t = time.perf_counter()
    ver = verify(diag, [str(new_run)], diagnosis_path=str(diag_path), plan_path=str(ws / "plan.json"))
    times["verify"] = time.perf_counter() - t
    result["verify"] = ver
    result["passed"] = bool(ver["passed"]) and result["apply"] in ("applied", "nothing to apply")
    times["total"] = sum(v for k, v in times.items() if k != "total")
    return result
