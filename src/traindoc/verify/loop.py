"""The whole fix loop on one project folder, with no human edit: diagnose -> plan -> apply -> retrain -> verify.

Used by the acceptance tests (every fault-zoo scenario, the user-project layouts of tests/userproj) and by
bench/. Retraining runs the plan's own retrain command (the user's launch command with the fix, recovered by
plan/launch.py, or `retrain_cmd` when given), in its folder, with `python` meaning this interpreter and the
interpreter's own folder first on PATH (so `accelerate launch` is this environment's accelerate). The new run is the
folder the plan names; when the framework picks it at run time (Hydra's dated folder, a W&B run, the next
`version_N` of a logger the plan cannot read), it is the one new folder the retrain wrote that holds files
(`new_folder`), and the loop says so. With no retrain command the loop fails and says so: it never invents one.
The loop passes only when the retrain succeeded and verify passed, and either the plan fixed at least one cause
and verify found each gone, or the run was diagnosed healthy, nothing was planned and the new run is healthy too:
a loop that could not diagnose the run, or retrained nothing, fixed nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traindoc.apply.run import apply_plan
from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import load_run
from traindoc.plan.build import build_plan
from traindoc.verify.check import verify

SCAN_LIMIT = 20_000  # folders looked at when finding the retrain's new folder (a project tree, not a disk)


def folders(top: Path) -> set[Path]:
    """Every folder under `top` (links not followed), up to SCAN_LIMIT."""
    out: set[Path] = set()
    for d, subdirs, _ in os.walk(top):
        subdirs[:] = [s for s in subdirs if s not in (".git", ".traindoc", "__pycache__", ".venv")]
        out.add(Path(d))
        if len(out) >= SCAN_LIMIT:
            break
    return out


def new_folder(before: set[Path], after: set[Path]) -> tuple[Path | None, str]:
    """The outermost new folder that holds files itself (a dated Hydra folder's `outputs/<day>/` holds only the
    time folder): the new run; (None, why) when there is none or several."""
    fresh = sorted(after - before)
    holding = [d for d in fresh if any(p.is_file() for p in d.iterdir())]
    outer = [d for d in holding if not any(e != d and d.is_relative_to(e) for e in holding)]
    if len(outer) == 1:
        return outer[0], ""
    return None, f"the retrain wrote {len(outer)} new folders holding files ({', '.join(map(str, outer[:5]))})"


Retrainer = Callable[[list[str], Path, dict[str, str], float], subprocess.CompletedProcess]


def run_retrain(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run the retrain command as it is, its output captured (run_loop's default `retrain`)."""
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def run_loop(ws: Path, run_dir: str = "run", retrain_timeout: float = 900, test_cmd: str | None = None,
             retrain_cmd: str | None = None, diagnose_paths: list[str] | None = None,
             fix: str | None = None, retrain: Retrainer = run_retrain) -> dict[str, Any]:
    """`diagnose_paths` (relative to ws): what the diagnosis reads (default: the whole project folder); `fix`: the
    root-cause ranks to fix, as `traindoc plan --fix` takes them (default: every cause above 0.5); `retrain`: what
    runs the retrain command (argv, cwd, env, timeout) -> its completed process (the fault-zoo tests pass one that
    trains each distinct set of inputs once and shares the run: tests/zoo_cache.py)."""
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
    result["fixed_causes"] = [f["cause"] for f in plan.get("fixes", []) if f.get("planned")
                              or f.get("in_retrain_command")]
    if not ver_plan.get("retrain_argv"):
        result["retrain_exit"] = None
        result["retrain_tail"] = ver_plan.get("retrain_missing") or "the plan has no retrain command"
        result["passed"] = False
        return result
    argv = [sys.executable if re.fullmatch(r"python[\d.]*", a) else a for a in ver_plan["retrain_argv"]]
    result["retrain_cmd"] = ver_plan["retrain"]
    cwd = Path(ver_plan["retrain_cwd"])
    before = folders(cwd) if not ver_plan.get("new_run") else set()
    t = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}
    proc = retrain(argv, cwd, env, retrain_timeout)
    times["retrain"] = time.perf_counter() - t
    result["retrain_exit"] = proc.returncode
    if proc.returncode != 0:
        result["retrain_tail"] = (proc.stdout + proc.stderr)[-1500:]
        result["passed"] = False
        return result
    if ver_plan.get("new_run"):
        new_run = Path(ver_plan["new_run"])
        result["new_run_source"] = "named by the plan"
    else:
        found, why = new_folder(before, folders(cwd))
        if found is None:
            result["retrain_tail"] = f"the plan names no new run folder and {why}"
            result["passed"] = False
            return result
        new_run = found
        result["new_run_source"] = "the one new folder the retrain wrote (the plan could not name it in advance)"
    result["new_run"] = str(new_run)

    t = time.perf_counter()
    ver = verify(diag, [str(new_run)], diagnosis_path=str(diag_path), plan_path=str(ws / "plan.json"))
    times["verify"] = time.perf_counter() - t
    result["verify"] = ver
    # nothing planned passes only for a run diagnosed healthy that stays so (the zoo's healthy scenario)
    fixed_or_healthy = bool(ver["causes"]) if result["fixed_causes"] else diag["verdict"] == "healthy"
    result["passed"] = bool(ver["passed"]) and fixed_or_healthy and result["apply"] in ("applied",
                                                                                       "nothing to apply")
    times["total"] = sum(v for k, v in times.items() if k != "total")
    return result
