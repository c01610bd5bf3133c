"""Apply an approved plan: check it, change every file or none, run the tests, roll back on failure, report.

Refusals (nothing is touched): no or wrong `--approve` id; a plan whose content no longer hashes to its id (edited
after it was shown, or a target file changed since planning: stale); a path that is absolute, climbs out with
`..`, or resolves (through symlinks) outside the project root; a `before` text not found at its line.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traindoc.apply.transaction import FileChange, Transaction, lock, recover, sha256
from traindoc.plan.build import compute_plan_id

SCHEMA_VERSION = "1.0"


class Refused(Exception):
    """The plan cannot be applied as it stands; one line saying why."""


@dataclass
class Outcome:
    report: dict[str, Any]
    exit_code: int
    recovered: list[str] = field(default_factory=list)


def _inside(root: Path, rel: str) -> Path:
    """The real path of `rel` under `root`, or Refused if it is not inside it (also through symlinks)."""
    if not rel or Path(rel).is_absolute() or "\0" in rel:
        raise Refused(f"path {rel!r} is not relative to the project root")
    candidate = root / rel
    real = Path(os.path.realpath(candidate))
    if not real.is_relative_to(root) or real == root:
        raise Refused(f"path {rel!r} resolves to {real}, outside the project root {root}")
    # a symlink inside the root that points inside the root is fine: the real file is what gets replaced
    return real


def _new_contents(root: Path, plan: dict[str, Any]) -> dict[Path, tuple[bytes | None, bytes]]:
    """target -> (old bytes or None if it does not exist, new bytes). Checks staleness and `before` texts."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for ch in plan["changes"]:
        by_file.setdefault(ch["file"], []).append(ch)
    out: dict[Path, tuple[bytes | None, bytes]] = {}
    for rel, changes in by_file.items():
        target = _inside(root, rel)
        if target.is_dir():
            raise Refused(f"{rel} is a folder")
        exists = target.exists()
        old = target.read_bytes() if exists else None
        if any(c.get("kind") == "new_file" for c in changes):
            if exists:
                raise Refused(f"stale plan: {rel} exists now but the plan creates it")
            out[target] = (None, "".join(c["after"] for c in changes).encode("utf-8"))
            continue
        if not exists:
            raise Refused(f"stale plan: {rel} no longer exists")
        want = {c.get("file_sha256") for c in changes} - {None, ""}
        if want and sha256(old) not in want:
            raise Refused(f"stale plan: {rel} changed since the plan was made (run traindoc plan again)")
        text = old.decode("utf-8")
        lines = text.splitlines(keepends=True)
        for c in sorted(changes, key=lambda c: c["line"], reverse=True):
            before = c["before"].splitlines(keepends=True)
            i = c["line"] - 1
            if "".join(lines[i:i + len(before)]) != c["before"]:
                raise Refused(f"stale plan: {rel}:{c['line']} no longer reads {c['before'].splitlines()[0]!r}")
            lines[i:i + len(before)] = c["after"].splitlines(keepends=True)
        out[target] = (old, "".join(lines).encode("utf-8"))
    return out


def _diff(root: Path, contents: dict[Path, tuple[bytes | None, bytes]]) -> str:
    chunks = []
    for target, (old, new) in contents.items():
        rel = str(target.relative_to(root))
        a = (old or b"").decode("utf-8").splitlines(keepends=True)
        b = new.decode("utf-8").splitlines(keepends=True)
        chunks.append("".join(difflib.unified_diff(a, b, f"a/{rel}" if old is not None else "/dev/null",
                                                   f"b/{rel}")))
    return "".join(chunks)


def _code_changes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in plan["changes"]:
        before, after = c["before"].splitlines(), c["after"].splitlines()
        sm = difflib.SequenceMatcher(None, before, after, autojunk=False)
        added = sum(j2 - j1 for tag, _, _, j1, j2 in sm.get_opcodes() if tag in ("insert", "replace"))
        removed = sum(i2 - i1 for tag, i1, i2, _, _ in sm.get_opcodes() if tag in ("delete", "replace"))
        if c.get("kind") == "new_file":
            change = f"new file, {len(after)} lines"
        elif len(before) == 1 and len(after) == 1:
            change = f"{before[0].strip()}  →  {after[0].strip()}"
        else:
            change = f"+{added} / -{removed} lines"
        out.append({"file": c["file"], "line": c["line"], "change": change, "loc_added": added,
                    "loc_removed": removed, "description": c["description"]})
    return out


_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def run_tests(cmd: str, root: Path) -> dict[str, Any]:
    timeout = float(os.environ.get("TRAINDOC_TEST_TIMEOUT", "1800"))
    try:
        proc = subprocess.run(cmd, shell=True, cwd=root, capture_output=True, text=True, timeout=timeout)
        output, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        output, code = f"{e.stdout or ''}{e.stderr or ''}\n(timed out after {timeout:.0f}s)", 124
    counts: dict[str, int] = {}
    tail_lines = [ln for ln in output.splitlines() if _COUNT.search(ln)]
    if tail_lines:
        for n, what in _COUNT.findall(tail_lines[-1]):
            counts[what.rstrip("s") if what.startswith("error") else what] = int(n)
    passed = counts.get("passed", 0)
    failed = counts.get("failed", 0) + counts.get("error", 0)
    # pytest exit 5 = no tests collected: not a failure of the fix
    ok = code == 0 or (code == 5 and failed == 0)
    return {"command": cmd, "passed": passed, "failed": failed, "exit_code": code, "ok": ok,
            "output_tail": output[-4000:]}


def _tests_line(t: dict[str, Any] | None, added: int) -> str:
    plural = "s" if added != 1 else ""
    if t is None:
        return f"not run (added {added} new test{plural})"
    total = t["passed"] + t["failed"]
    state = "passing" if t["ok"] else "failing"
    return f"{t['passed']}/{total} {state} (added {added} new test{plural})"


def _report(plan: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    rep = {"schema_version": SCHEMA_VERSION, "plan_id": plan.get("plan_id", ""), "status": status,
           "code_changes": _code_changes(plan) if status != "refused" else [], "tests": extra.pop("tests", ""),
           "verification": extra.pop("verification", {})}
    rep.update({k: v for k, v in extra.items() if v is not None})
    return rep


def apply_plan(plan: dict[str, Any], approve: str | None, dry_run: bool = False, test_cmd: str | None = None,
               run_the_tests: bool = True) -> Outcome:
    root_s = plan.get("root")
    if not root_s or not Path(root_s).is_dir():
        return Outcome(_report(plan, "refused", reason=f"project root {root_s!r} is not a folder"), 1)
    root = Path(os.path.realpath(root_s))
    if root == Path(root.anchor):
        return Outcome(_report(plan, "refused", reason="refusing a plan rooted at the filesystem root"), 1)
    recovered = recover(root) if (root / ".traindoc").is_dir() else []
    try:
        if not dry_run and approve != plan.get("plan_id"):
            raise Refused("not approved: pass --approve with the plan id shown by `traindoc plan`" if not approve
                          else f"approval {approve!r} does not match this plan's id {plan.get('plan_id')!r}")
        contents = _new_contents(root, plan)
        if compute_plan_id(plan) != plan.get("plan_id"):
            raise Refused("stale plan: the plan or a file it touches changed since it was made (plan again)")
    except Refused as e:
        return Outcome(_report(plan, "refused", reason=str(e)), 1, recovered)
    diff = _diff(root, contents)
    added_tests = sum(1 for c in plan["changes"] if c.get("kind") == "new_file" and "test" in Path(c["file"]).name)
    if dry_run:
        return Outcome(_report(plan, "dry_run", diff=diff, tests=_tests_line(None, added_tests),
                               verification={"dry_run": "no file was changed"}), 0, recovered)
    changes = [FileChange(t, new) for t, (_old, new) in contents.items()]
    with lock(root):
        tx = Transaction(root, changes, label=plan.get("plan_id", ""))
        tx.prepare()
        try:
            tx.apply()
        except BaseException:
            tx.rollback()
            raise
        tests = None
        if run_the_tests:
            cmd = test_cmd or (plan.get("tests") or {}).get("run") or "python -m pytest -q"
            tests = run_tests(cmd, root)
        if tests is not None and not tests["ok"]:
            restored = tx.rollback()
            rel = [str(Path(p).relative_to(root)) for p in restored]
            return Outcome(_report(plan, "rolled_back", reason=f"tests failed (exit {tests['exit_code']}); every "
                                   "file was restored byte for byte", tests=_tests_line(tests, added_tests),
                                   tests_detail={**{k: v for k, v in tests.items() if k != "ok"},
                                                 "added": added_tests},
                                   restored_files=rel, diff=diff,
                                   verification={"rollback": f"✓ {len(rel)} files restored to their original bytes",
                                                 "tests": "✗ the test suite failed with the change applied"}),
                           1, recovered)
        tx.commit()
    ver = {"files_changed": f"✓ {len(changes)} files changed atomically (all or nothing)"}
    if tests is not None:
        ver["tests"] = f"✓ all tests pass ({tests['passed']} passed)"
        if added_tests:
            ver["new_tests"] = f"✓ {added_tests} regression test{'s' if added_tests != 1 else ''} added and passing"
    for fx in plan.get("fixes") or []:
        if fx.get("planned"):
            ver[fx["cause"]] = f"✓ fix applied: {fx.get('summary') or fx['cause']}"
    v = plan.get("verification") or {}
    if v.get("retrain"):
        ver["next_step"] = f"retrain: {v['retrain']}; then {v.get('verify', 'traindoc verify')}"
    elif v.get("verify"):
        ver["next_step"] = f"retrain, then {v['verify']}"
    detail = None if tests is None else {**{k: val for k, val in tests.items() if k != "ok"}, "added": added_tests}
    return Outcome(_report(plan, "applied", tests=_tests_line(tests, added_tests), tests_detail=detail, diff=diff,
                           verification=ver), 0, recovered)


def load_plan(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
