"""Is the "new run" really new? verify refuses the diagnosed run itself, a copy of it, or a run older than the fix.

Verifying the old run would grade the fix on evidence it never touched (and, if a plan had once edited a file in
that run's folder, it could even pass). Three checks, each on what the diagnosis recorded when it read the run
(`run.sources[].sha256` and `.mtime` of every file it read as the run's logs):
1. the same folder: a new path is, contains, or lies inside a diagnosed run's folder;
2. the same content: every log the new run has hashes to one the diagnosed run had (a copy, or the run unchanged);
3. older than the fix: the new run's newest log was written before the plan's files were (the apply), or, with no
   applied plan at hand, before the diagnosed run's own newest log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from traindoc.ingest.fingerprint import fingerprint

PLAN_NAMES = ("plan.json",)


def _stamp(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "unknown time"


def _run_dirs(sources: list[dict[str, Any]]) -> list[Path]:
    out = []
    for s in sources:
        p = Path(str(s.get("path", "")))
        if s.get("path") and not str(s.get("format", "")).endswith("_config"):
            out.append((p if p.is_dir() else p.parent).resolve())
    return list(dict.fromkeys(out))


def applied_plan(diagnosis_path: str | None, plan_path: str | None = None) -> tuple[dict[str, Any] | None,
                                                                                  str | None]:
    """The plan given, else `plan.json` next to the diagnosis when it names this diagnosis: (plan, its path)."""
    cands = [Path(plan_path)] if plan_path else [Path(diagnosis_path).resolve().parent / n for n in PLAN_NAMES] \
        if diagnosis_path else []
    for c in cands:
        try:
            plan = json.loads(c.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(plan, dict) or (not plan_path and diagnosis_path and plan.get("diagnosis")
                                          and Path(str(plan["diagnosis"])).resolve()
                                          != Path(diagnosis_path).resolve()):
            continue
        return plan, str(c)
    return None, None


def applied_at(diagnosis_path: str | None, plan_path: str | None = None) -> tuple[float | None, str | None]:
    """When the fix was applied: the newest mtime of the files an applied plan changed (they now hold its new
    text)."""
    plan, where = applied_plan(diagnosis_path, plan_path)
    if plan is None:
        return None, None
    root = Path(str(plan.get("root", ".")))
    times = []
    for ch in plan.get("changes") or []:
        if not isinstance(ch, dict):
            continue
        f = root / str(ch.get("file", ""))
        try:
            if ch.get("after") and ch["after"] in f.read_text(encoding="utf-8"):
                times.append(f.stat().st_mtime)
        except (OSError, UnicodeDecodeError):
            continue
    return (max(times), where) if times else (None, None)


def check(original: dict[str, Any], new_sources: list[dict[str, Any]], new_paths: list[str],
          diagnosis_path: str | None = None, plan_path: str | None = None) -> str | None:
    """None when the new run is fresh; else the one-paragraph reason to refuse, naming both runs."""
    old_sources = [s for s in (original.get("run") or {}).get("sources") or [] if isinstance(s, dict)]
    old_dirs = _run_dirs(old_sources)
    new_dirs = _run_dirs(new_sources) or [Path(p).resolve() for p in new_paths]
    old_name = ", ".join(str(d) for d in old_dirs) or ", ".join((original.get("run") or {}).get("paths") or [])
    new_name = ", ".join(str(d) for d in new_dirs)
    both = f"diagnosed run: {old_name}; new run: {new_name}"
    for p in [Path(x).resolve() for x in new_paths] + new_dirs:
        for d in old_dirs:
            if p == d or p.is_relative_to(d) or d.is_relative_to(p) and p != Path(p.anchor):
                return f"the new run is the diagnosed run's own folder, not a retrained run ({both})"
    old_hashes = {s.get("sha256") for s in old_sources if s.get("sha256")}
    new_logs = [s for s in new_sources if not str(s.get("format", "")).endswith("_config")]
    new_fp = [fingerprint(str(s["path"])) for s in new_logs]
    new_hashes = [f.get("sha256") for f in new_fp]
    if old_hashes and new_hashes and all(h in old_hashes for h in new_hashes):
        return f"the new run's logs are byte for byte the diagnosed run's (same sha256): a copy, not a retrained " \
               f"run ({both})"
    newest = max((f["mtime"] for f in new_fp if "mtime" in f), default=None)
    if newest is None:
        return None
    fixed_at, plan = applied_at(diagnosis_path, plan_path)
    if fixed_at is not None and newest < fixed_at:
        return f"the new run was last written at {_stamp(newest)}, before the fix was applied at {_stamp(fixed_at)} " \
               f"(files of {plan}): it cannot show the fix ({both})"
    old_newest = max((float(s["mtime"]) for s in old_sources if isinstance(s.get("mtime"), int | float)),
                     default=None)
    if old_newest is not None and newest <= old_newest:
        return f"the new run was last written at {_stamp(newest)}, not after the diagnosed run " \
               f"({_stamp(old_newest)}): it predates the fix ({both})"
    return None
