"""The whole fix loop on one project folder, with no human edit: diagnose -> plan -> apply -> retrain -> verify.

Used by the acceptance tests (every fault-zoo scenario) and by bench/bench_loop.py. The folder follows the fault
zoo's workspace layout: `run/` (the failed run), `config.yaml` (the editable config), `train.py` (retrains from the
folder's own files: `python train.py --out DIR`), `tests/` (the project's tests, run by apply) and the code.
"""

from __future__ import annotations

import json
import os
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


def run_loop(ws: Path, run_dir: str = "run", new_run_dir: str = "run-fixed", retrain_timeout: float = 900,
             test_cmd: str | None = None) -> dict[str, Any]:
    ws = ws.resolve()
    times: dict[str, float] = {}
    result: dict[str, Any] = {"workspace": str(ws), "times": times}

    t = time.perf_counter()
    # diagnosed as a user would: the whole project folder (its run, config and code), nothing else
    run = load_run([str(ws)])
    diag = diagnose(run, [str(ws)])
    diag_path = ws / "diagnosis.json"
    diag_path.write_text(json.dumps(diag, indent=1))
    times["diagnose"] = time.perf_counter() - t
    result["diagnosis"] = [(rc["cause"], rc["confidence"]) for rc in diag["root_causes"]]
    result["verdict"] = diag["verdict"]

    t = time.perf_counter()
    plan = build_plan(diag, str(diag_path), root=str(ws))
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

    t = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run([sys.executable, str(ws / "train.py"), "--out", str(ws / new_run_dir)], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=retrain_timeout)
    times["retrain"] = time.perf_counter() - t
    result["retrain_exit"] = proc.returncode
    if proc.returncode != 0:
        result["retrain_tail"] = (proc.stdout + proc.stderr)[-1500:]

    t = time.perf_counter()
    ver = verify(diag, [str(ws / new_run_dir)])
    times["verify"] = time.perf_counter() - t
    result["verify"] = ver
    result["passed"] = bool(ver["passed"]) and result["apply"] in ("applied", "nothing to apply")
    times["total"] = sum(v for k, v in times.items() if k != "total")
    return result
