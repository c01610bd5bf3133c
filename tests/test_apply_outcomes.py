"""Honest apply outcomes (issue 9): the project's tests run once before the change (baseline) and tests that already
fail stop the apply unless allowed, then only new failures roll back; "no tests ran" is said as such; a test run
leaves no new file in the project; a plan with nothing automatic says so and apply exits 1 with the manual steps;
an apply killed while writing, testing or restoring is undone by the next call, which names every file it restored
and the phase the apply died in."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from test_plan_fixtures import make_project, root_cause, snapshot
from traindoc.apply import transaction
from traindoc.apply.run import apply_plan
from traindoc.cli import main
from traindoc.plan.build import build_plan, compute_plan_id, render_markdown


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def paths(root: Path) -> set[str]:
    """Every file and folder under root, .traindoc/ aside (it is traindoc's own)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if ".traindoc" not in p.parts}


BROKEN = "def test_already_broken():\n    assert False\n"
GUARD = ("from pathlib import Path\n\n\ndef test_lr_untouched():\n"
         "    assert '1.0e-2' in (Path(__file__).parents[1] / 'config.yaml').read_text()\n")


def plan_for(tmp_path: Path, fix: str | None = None, tests: dict[str, str | None] | None = None
             ) -> tuple[Path, dict, Path]:
    """The fixture project with its tests/ adjusted (name -> text, None deletes), planned."""
    root, diag = make_project(tmp_path)
    for name, text in (tests or {}).items():
        if text is None:
            (root / "tests" / name).unlink()
        else:
            (root / "tests" / name).write_text(text)
    plan = build_plan(json.loads(diag.read_text()), str(diag), fix=fix, root=str(root))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return root, plan, path


def test_failing_baseline_stops_the_apply_and_names_the_tests(tmp_path: Path) -> None:
    root, plan, path = plan_for(tmp_path, tests={"test_broken.py": BROKEN})
    before = snapshot(root)
    code, out, err = cli("apply", str(path), "--approve", plan["plan_id"])
    rep = json.loads(out)
    assert code == 1 and rep["status"] == "refused"
    assert rep["baseline"]["failing"] == ["tests/test_broken.py::test_already_broken"]
    jsonschema.validate(rep, json.loads(resources.files("traindoc").joinpath("schemas/report.schema.json").read_text()))
    assert "already fail before any change" in err and "tests/test_broken.py::test_already_broken" in err, err
    assert "--allow-failing-baseline" in err and len(err.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_allowed_failing_baseline_rolls_back_only_on_new_failures(tmp_path: Path) -> None:
    root, plan, path = plan_for(tmp_path, tests={"test_broken.py": BROKEN})
    out = apply_plan(plan, plan["plan_id"], allow_failing_baseline=True)
    rep = out.report
    assert out.exit_code == 0 and rep["status"] == "applied", rep
    assert rep["baseline"]["failing"] == ["tests/test_broken.py::test_already_broken"]
    assert "the same tests failed before the change" in rep["verification"]["tests"]

    # a change that breaks a test that passed before: rolled back, and only that test is named as new
    root2, plan2, _ = plan_for(tmp_path / "b", tests={"test_broken.py": BROKEN, "test_guard.py": GUARD})
    before = snapshot(root2)
    out = apply_plan(plan2, plan2["plan_id"], allow_failing_baseline=True)
    assert out.report["status"] == "rolled_back" and out.exit_code == 1
    assert out.report["tests_detail"]["new_failures"] == ["tests/test_guard.py::test_lr_untouched"]
    assert "tests/test_guard.py::test_lr_untouched" in out.report["reason"]
    assert snapshot(root2) == before


def test_no_tests_ran_is_never_all_pass(tmp_path: Path) -> None:
    # a config change only, in a project with no tests: the settings test the plan adds is left out of the plan
    # (a person may edit a plan before approving it; the id is the edited plan's)
    root, plan, path = plan_for(tmp_path, fix="1", tests={"test_basic.py": None})
    plan["changes"] = [c for c in plan["changes"] if c["kind"] != "new_file"]
    plan["tests"]["add"] = []
    plan["plan_id"] = compute_plan_id(plan)
    path.write_text(json.dumps(plan))
    code, out, err = cli("apply", str(path), "--approve", plan["plan_id"])
    rep = json.loads(out)
    assert code == 0 and rep["status"] == "applied", err
    assert rep["tests"].startswith("no tests ran") and rep["tests_detail"]["no_tests"] is True
    assert "no tests ran" in rep["verification"]["tests"] and "all tests pass" not in out
    # nothing for pytest to collect: the tests were not started at all, and the report says "no tests found"
    assert rep["tests"].startswith("no tests ran: no tests found")
    assert rep["baseline"]["not_run"].startswith("no tests found") and rep["baseline"]["exit_code"] is None
    assert "no tests found" in rep["verification"]["tests"]
    jsonschema.validate(rep, json.loads(resources.files("traindoc").joinpath("schemas/report.schema.json").read_text()))


def test_a_project_whose_tests_pytest_would_collect_runs_them(tmp_path: Path) -> None:
    """A test file under another name, named by a pytest configuration: pytest is started (and finds it)."""
    root, plan, path = plan_for(tmp_path, fix="1", tests={"test_basic.py": None})
    plan["changes"] = [c for c in plan["changes"] if c["kind"] != "new_file"]
    plan["tests"]["add"] = []
    (root / "tests" / "check_lr.py").write_text("def test_one():\n    assert True\n")
    (root / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n")
    plan["plan_id"] = compute_plan_id(plan)
    rep = apply_plan(plan, plan["plan_id"]).report
    assert rep["status"] == "applied" and rep["tests"] == "1/1 passing (added 0 new tests)", rep
    assert rep["baseline"]["passed"] == 1 and "not_run" not in rep["baseline"]


def test_running_the_tests_leaves_no_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's tests write bytecode, a hypothesis database and a .benchmarks folder in the working folder,
    as real suites do; after apply only the plan's own files are new."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)  # hypothesis' pytest plugin, as installed
    prop = ("import os\nfrom hypothesis import given, strategies as st\n\n\n@given(st.integers())\n"
            "def test_prop(n):\n    os.makedirs('.benchmarks', exist_ok=True)\n    assert n == n\n")
    root, plan, path = plan_for(tmp_path, tests={"test_prop.py": prop})
    before = paths(root)
    code, out, err = cli("apply", str(path), "--approve", plan["plan_id"])
    rep = json.loads(out)
    assert code == 0 and rep["status"] == "applied", err
    added = {c["file"] for c in plan["changes"] if c["kind"] == "new_file"}
    assert paths(root) - before == added, paths(root) - before
    assert ".benchmarks" in rep["tests_detail"]["removed_byproducts"]


def test_a_plan_with_nothing_automatic_says_so(tmp_path: Path) -> None:
    root, _ = make_project(tmp_path)
    diag = {"root_causes": [root_cause(1, "mode_collapse")], "run": {"paths": [], "code_files": []}}
    plan = build_plan(diag, "", root=str(root))
    assert plan["changes"] == []
    md = render_markdown(plan)
    assert "Nothing to apply automatically; manual steps:" in md and "mode_collapse: fix mode_collapse" in md
    assert "Proceed?" not in md
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    before = snapshot(root)
    for extra in ([], ["--approve", plan["plan_id"]], ["--dry-run"]):
        code, out, err = cli("apply", str(path), *extra)
        assert code == 1 and json.loads(out)["status"] == "nothing_applied"
        assert err.strip().startswith("traindoc apply: nothing applied; manual steps: mode_collapse: fix mode_collapse")
        assert len(err.strip().splitlines()) == 1
    assert snapshot(root) == before


def _killer(marker: str) -> str:
    """A test command that SIGKILLs apply (its parent) once the change is on disk, as a tool time-out does."""
    return (f"{sys.executable} -c \"import os, signal; "
            f"'{marker}' in open('config.yaml').read() and os.kill(os.getppid(), signal.SIGKILL)\"")


@pytest.mark.parametrize("next_call", ["recover", "apply"])
def test_killed_during_its_tests_is_undone_and_named(tmp_path: Path, next_call: str) -> None:
    root, plan, path = plan_for(tmp_path)
    before = snapshot(root)
    proc = subprocess.run([sys.executable, "-m", "traindoc", "apply", str(path), "--approve", plan["plan_id"],
                           "--test-cmd", _killer("5.0e-3")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert snapshot(root) != before  # the edit is on disk, the journal says "testing"
    new_files = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    if next_call == "recover":
        code, _, err = cli("apply", "--recover", str(root))
        assert code == 0 and snapshot(root) == before
    else:
        code, out, err = cli("apply", str(path), "--approve", plan["plan_id"], "--no-tests")
        assert code == 0 and json.loads(out)["status"] == "applied"
        assert any("interrupted while its tests ran" in r for r in json.loads(out)["recovered"])
    line = next(ln for ln in err.splitlines() if "undid" in ln)
    assert f"plan {plan['plan_id']} interrupted while its tests ran, before they passed" in line, err
    assert "restored config.yaml, train.py to their original bytes" in line, line
    assert f"removed {', '.join(new_files)} (created by it)" in line, line
    assert "no file was changed" not in err


def test_killed_while_restoring_is_finished_by_the_next_call(tmp_path: Path) -> None:
    """Tests fail after the change, and apply is killed at each file operation from then on (including the
    rollback itself): the next call always ends with every file old and says what it restored."""
    root, plan, _ = plan_for(tmp_path, fix="1")
    before = snapshot(root)
    fails_after = [sys.executable, "-c", "import sys; sys.exit('5.0e-3' in open('config.yaml').read())"]
    transaction.reset_op_counter()
    assert apply_plan(plan, plan["plan_id"], test_cmd=fails_after).report["status"] == "rolled_back"
    total = transaction._ops
    assert snapshot(root) == before
    phases = set()
    for n in range(1, total + 1):
        pid = os.fork()
        if pid == 0:
            try:
                os.environ["TRAINDOC_CRASH_AFTER"] = str(n)
                transaction.reset_op_counter()
                apply_plan(plan, plan["plan_id"], test_cmd=fails_after)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), n
        code, _, err = cli("apply", "--recover", str(root))
        assert code == 0 and snapshot(root) == before, (n, err)
        for phase in ("while it was writing the files", "while its tests ran", "while it restored the files"):
            if phase in err:
                phases.add(phase)
                named = [c["file"] for c in plan["changes"]]  # what it restored or removed, by name
                assert any(f in err for f in named) or "no file had been changed yet" in err, err
    assert len(phases) == 3, phases  # writing, testing and restoring were all hit
