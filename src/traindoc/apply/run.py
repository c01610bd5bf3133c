"""Apply an approved plan: check it, run the project's tests (baseline), change every file or none, run the tests
again, roll back if the change broke a test, report.

Order, and why: the approval is checked before anything that writes; then the project's lock is taken and any
interrupted earlier apply is finished or undone (under that same lock, so a recovery never undoes a live apply);
only then are the files read and checked against the plan, so two applies cannot both act on the old bytes.

Refusals (nothing is touched): a malformed plan; no or wrong `--approve` id; a plan whose content no longer
hashes to its id (edited after it was shown, or a target file changed since planning: stale); a path that is
absolute, climbs out with `..`, or resolves (through symlinks) outside the project root; a `before` text not found
at its line; a test command in the plan that is not the one traindoc derives for this project; tests that already
fail before the change (unless `--allow-failing-baseline`); another apply running; a journal not signed by this
user's traindoc. A plan with no automatic change is "nothing_applied" (exit 1) with its manual steps.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from traindoc.apply.testrun import new_failures, none_found, run_tests, summary, tests_found
from traindoc.apply.transaction import (
    FileChange,
    JournalError,
    Transaction,
    lock,
    pending,
    recover_locked,
    sha256,
    state_dir,
)
from traindoc.plan.build import compute_plan_id
from traindoc.plan.manual import manual_steps
from traindoc.plan.test_command import argv_for_tests, shown_command

SCHEMA_VERSION = "1.0"


class Refused(Exception):
    """The plan cannot be applied as it stands; one line saying why."""


class NotApproved(Refused):
    """No or the wrong `--approve` id: the report then carries no plan id at all."""


@dataclass
class Outcome:
    report: dict[str, Any]
    exit_code: int
    recovered: list[str] = field(default_factory=list)


def check_plan(plan: Any) -> None:
    """Refused (one line) unless `plan` has the shape of plan.schema.json."""
    schema = json.loads(resources.files("traindoc").joinpath("schemas/plan.schema.json").read_text())
    if not isinstance(plan, dict):
        raise Refused("not a traindoc plan (not a JSON object)")
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(plan))
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "the top level"
        raise Refused(f"not a valid traindoc plan: {err.message[:200]} (at {where})")


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
        try:
            text = old.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Refused(f"stale plan: {rel} is no longer UTF-8 text") from e
        lines = text.splitlines(keepends=True)
        for c in sorted(changes, key=lambda c: c["line"], reverse=True):
            before = c["before"].splitlines(keepends=True)
            i = c["line"] - 1
            if "".join(lines[i:i + len(before)]) != c["before"]:
                first = (c["before"].splitlines() or [""])[0]
                raise Refused(f"stale plan: {rel}:{c['line']} no longer reads {first!r}")
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


def _tests_line(t: dict[str, Any] | None, added: int) -> str:
    plural = "s" if added != 1 else ""
    if t is None:
        return f"not run (added {added} new test{plural})"
    if t["no_tests"]:
        found = ": no tests found" if t.get("not_run") else ""
        return f"no tests ran{found} (added {added} new test{plural})"
    total = t["passed"] + t["failed"]
    state = "passing" if t["ok"] else "failing"
    return f"{t['passed']}/{total} {state} (added {added} new test{plural})"


def _report(plan: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    rep = {"schema_version": SCHEMA_VERSION, "plan_id": str(plan.get("plan_id", "")), "status": status,
           "code_changes": _code_changes(plan) if status not in ("refused", "nothing_applied") else [],
           "tests": extra.pop("tests", ""), "verification": extra.pop("verification", {})}
    rep.update({k: v for k, v in extra.items() if v not in (None, [])})
    return rep


def _detail(t: dict[str, Any] | None, added: int, **more: Any) -> dict[str, Any] | None:
    return None if t is None else {**{k: v for k, v in t.items() if k != "ok"}, "added": added, **more}


def _test_argv(plan: dict[str, Any], root: Path, test_cmd: str | list[str] | None) -> list[str]:
    """The command the tests run with: the person's own `--test-cmd`, else the plan's, but only if it is exactly
    the command traindoc derives for this project (a plan file cannot bring a command of its own)."""
    if test_cmd:
        try:
            argv = shlex.split(test_cmd) if isinstance(test_cmd, str) else list(test_cmd)
        except ValueError as e:
            raise Refused(f"--test-cmd {test_cmd!r} cannot be split into arguments ({e})") from e
        if not argv:
            raise Refused("--test-cmd is empty")
        return argv
    planned, derived = plan["tests"]["run"], argv_for_tests(root)
    if planned != derived:
        raise Refused(f"the plan's test command `{shown_command(planned)}` is not the one traindoc uses for this "
                      f"project (`{shown_command(derived)}`): it was not made here or was edited; plan again, or "
                      "choose the command yourself with --test-cmd (or --no-tests)")
    return derived


def _root(plan: dict[str, Any]) -> Path:
    root_s = plan["root"]
    if not root_s or not Path(root_s).is_dir():
        raise Refused(f"project root {root_s!r} is not a folder")
    root = Path(os.path.realpath(root_s))
    if root == Path(root.anchor):
        raise Refused("refusing a plan rooted at the filesystem root")
    return root


def apply_plan(plan: dict[str, Any], approve: str | None, dry_run: bool = False,
               test_cmd: str | list[str] | None = None, run_the_tests: bool = True,
               allow_failing_baseline: bool = False) -> Outcome:
    recovered: list[str] = []
    try:
        check_plan(plan)
        root = _root(plan)
        if not plan["changes"]:
            steps = manual_steps(plan)
            return Outcome(_report(plan, "nothing_applied", reason="nothing applied; manual steps: " + "; ".join(steps),
                                   manual_steps=steps, verification={"files_changed": "no file was changed"}), 1)
        if not dry_run and approve != plan["plan_id"]:
            # The expected id is never echoed (here or in the report): an approval must come from the person who
            # read the plan, not be copied out of a refusal by whoever runs the command.
            raise NotApproved("not approved: pass --approve with the plan id shown to the person who reviewed the plan"
                              if not approve else f"approval {approve!r} does not match this plan's id")
        argv = _test_argv(plan, root, test_cmd) if run_the_tests else None
        if dry_run:
            return _dry_run(plan, root, argv)
        with lock(root):
            rec = recover_locked(root)
            recovered = rec.actions
            if rec.problems:
                raise Refused(rec.problems[0])
            contents = _new_contents(root, plan)
            if compute_plan_id(plan) != plan["plan_id"]:
                raise Refused("stale plan: the plan or a file it touches changed since it was made (plan again)")
            return _apply_locked(plan, root, contents, argv, allow_failing_baseline, recovered)
    except (Refused, JournalError) as e:
        shown = {} if isinstance(e, NotApproved) or not isinstance(plan, dict) else plan
        return Outcome(_report(shown, "refused", reason=str(e),
                               recovered=recovered), 1, recovered)


def _dry_run(plan: dict[str, Any], root: Path, argv: list[str] | None) -> Outcome:
    """Read and check only: no lock, no recovery, nothing written."""
    contents = _new_contents(root, plan)
    if compute_plan_id(plan) != plan["plan_id"]:
        raise Refused("stale plan: the plan or a file it touches changed since it was made (plan again)")
    added = _added_tests(plan)
    ver = {"dry_run": "no file was changed",
           "tests": f"would run `{shown_command(argv)}` before and after" if argv else "tests would not run"}
    left = pending(root) if state_dir(root) is not None else []
    if left:
        ver["pending"] = (f"an interrupted apply is pending ({', '.join(left)}): the next apply, or `traindoc apply "
                          "--recover`, finishes or undoes it first")
    return Outcome(_report(plan, "dry_run", diff=_diff(root, contents), tests=_tests_line(None, added),
                           verification=ver), 0)


def _added_tests(plan: dict[str, Any]) -> int:
    return sum(1 for c in plan["changes"] if c.get("kind") == "new_file" and "test" in Path(c["file"]).name)


def _apply_locked(plan: dict[str, Any], root: Path, contents: dict[Path, tuple[bytes | None, bytes]],
                  argv: list[str] | None, allow_failing_baseline: bool, recovered: list[str]) -> Outcome:
    added = _added_tests(plan)
    # traindoc's own pytest command on a project with no test to collect: "no tests found" is known without starting
    # pytest (a start-up with the project's imports, seconds); a command the person chose always runs
    default = argv is not None and argv == argv_for_tests(root)
    baseline = (none_found(argv) if default and not tests_found(root) else run_tests(argv, root)) if argv else None
    if baseline is not None and not baseline["ok"] and not allow_failing_baseline:
        reason = (f"the project's tests already fail before any change ({summary(baseline)}); fix them first, or "
                  "pass --allow-failing-baseline to apply anyway (then only new failures roll back)")
        return Outcome(_report(plan, "refused", reason=reason, baseline=_detail(baseline, 0), recovered=recovered,
                               verification={"files_changed": "no file was changed"}), 1, recovered)
    diff = _diff(root, contents)
    tx = Transaction(root, [FileChange(t, new) for t, (_old, new) in contents.items()], label=plan["plan_id"])
    tx.prepare()
    try:
        tx.apply()
    except BaseException:
        tx.rollback()
        raise
    tests = None
    if argv:
        tx.set_phase("testing")  # killed from here on, the next call undoes the change and says so
        tests = none_found(argv) if default and not tests_found(root) else run_tests(argv, root)
    broken = new_failures(baseline, tests) if tests is not None else []
    if broken != []:
        done = tx.rollback()
        restored = sorted(done.restored + done.removed + done.unchanged)
        which = ", ".join(broken[:10]) if broken else f"the test command failed (exit {tests['exit_code']})"
        return Outcome(_report(plan, "rolled_back", reason=f"the change broke tests that passed before: {which}; every "
                               "file was restored byte for byte", tests=_tests_line(tests, added),
                               tests_detail=_detail(tests, added, new_failures=broken or []),
                               baseline=_detail(baseline, 0), restored_files=restored, diff=diff, recovered=recovered,
                               verification={"rollback": f"✓ {len(restored)} files restored to their original bytes",
                                             "tests": f"✗ with the change: {summary(tests)}"}), 1, recovered)
    tx.commit()
    ver = {"files_changed": f"✓ {len(contents)} files changed atomically (all or nothing)"}
    if tests is not None:
        if tests.get("not_run"):
            ver["tests"] = f"⚠ no tests ran: {tests['not_run']}; nothing tested the change"
        elif tests["no_tests"]:
            ver["tests"] = f"⚠ no tests ran (exit {tests['exit_code']}): nothing tested the change"
        elif tests["ok"]:
            ver["tests"] = f"✓ all tests pass ({tests['passed']} passed)"
        else:
            ver["tests"] = (f"⚠ {summary(tests)}: the same tests failed before the change "
                            "(--allow-failing-baseline); no new failure")
        if added and not tests["no_tests"]:
            ver["new_tests"] = f"✓ {added} regression test{'s' if added != 1 else ''} added and run"
        if tests["created_files"]:
            ver["test_files"] = f"⚠ the tests created files in the project: {', '.join(tests['created_files'][:10])}"
    for fx in plan.get("fixes") or []:
        if fx.get("planned"):
            ver[fx["cause"]] = f"✓ fix applied: {fx.get('summary') or fx['cause']}"
    v = plan.get("verification") or {}
    if v.get("retrain"):
        ver["next_step"] = f"retrain: {v['retrain']}; then {v.get('verify', 'traindoc verify')}"
    elif v.get("verify"):
        ver["next_step"] = f"retrain, then {v['verify']}"
    return Outcome(_report(plan, "applied", tests=_tests_line(tests, added), tests_detail=_detail(tests, added),
                           baseline=_detail(baseline, 0), diff=diff, recovered=recovered, verification=ver),
                   0, recovered)
