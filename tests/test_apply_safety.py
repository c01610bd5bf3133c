"""`traindoc apply` refuses what it must, applies all or nothing, and restores byte-identical files when the
tests fail."""

from __future__ import annotations

import copy
import json
import os
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from test_plan_fixtures import make_project, snapshot
from traindoc.apply.run import apply_plan
from traindoc.cli import main
from traindoc.plan.build import build_plan, compute_plan_id


def added_tests(plan: dict) -> int:
    """Test functions in the files the plan adds: a regression test per code fix, a settings test per changed
    setting (plan/setting_test.py)."""
    return sum(c["after"].count("\ndef test_") for c in plan["changes"] if c["kind"] == "new_file")


def report_schema() -> dict:
    return json.loads(resources.files("traindoc").joinpath("schemas/report.schema.json").read_text())


@pytest.fixture
def project(tmp_path: Path):
    root, diag = make_project(tmp_path)
    plan = build_plan(json.loads(diag.read_text()), str(diag), root=str(root))
    return root, plan


def test_applies_everything_runs_tests_and_reports(project) -> None:
    root, plan = project
    before = snapshot(root)
    out = apply_plan(plan, plan["plan_id"], test_cmd=f"{sys.executable} -m pytest -q -p no:cacheprovider tests")
    rep = out.report
    jsonschema.validate(rep, report_schema())
    assert out.exit_code == 0 and rep["status"] == "applied", rep
    n = added_tests(plan)
    assert n == 4  # zero_grad and causal-mask regression tests, the LR and warmup settings tests
    assert rep["tests"] == f"{n + 1}/{n + 1} passing (added {n} new tests)"
    after = snapshot(root)
    assert after["config.yaml"] != before["config.yaml"] and after["train.py"] != before["train.py"]
    assert "tests/test_traindoc_zero_grad.py" in after
    assert b"# experiment config (hand-written, with comments that must survive)" in after["config.yaml"]
    assert not list((root / ".traindoc" / "journal").iterdir())  # journal removed after commit


def test_refuses_without_or_with_a_wrong_approval(project) -> None:
    root, plan = project
    before = snapshot(root)
    for approve in (None, "0" * 16, plan["plan_id"][:-1]):
        out = apply_plan(plan, approve, run_the_tests=False)
        assert out.report["status"] == "refused" and out.exit_code == 1
        jsonschema.validate(out.report, report_schema())
        # the refusal must not hand the expected id to whoever runs the command
        assert plan["plan_id"] not in json.dumps(out.report)
    assert snapshot(root) == before


def test_refuses_a_stale_plan(project) -> None:
    root, plan = project
    text = (root / "train.py").read_text()
    (root / "train.py").write_text(text.replace("# not our trainer", "# edited since"))
    (root / "train.py").write_text(text + "# edited since the plan\n")
    before = snapshot(root)
    out = apply_plan(plan, plan["plan_id"], run_the_tests=False)
    assert out.report["status"] == "refused" and "stale" in out.report["reason"]
    assert snapshot(root) == before


def test_refuses_a_tampered_plan(project) -> None:
    root, plan = project
    evil = copy.deepcopy(plan)
    evil["changes"][0]["after"] = "import os; os.system('echo pwned')\n"
    out = apply_plan(evil, plan["plan_id"], run_the_tests=False)
    assert out.report["status"] == "refused"


@pytest.mark.parametrize("where", ["dotdot", "absolute", "symlink_dir", "symlink_file"])
def test_refuses_paths_outside_the_root(project, tmp_path: Path, where: str) -> None:
    root, plan = project
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me\n")
    rel = {"dotdot": "../outside/victim.txt", "absolute": str(victim), "symlink_dir": "link/victim.txt",
           "symlink_file": "innocent.txt"}[where]
    if where == "symlink_dir":
        os.symlink(outside, root / "link")
    if where == "symlink_file":
        os.symlink(victim, root / "innocent.txt")
    evil = copy.deepcopy(plan)
    evil["changes"].append({"file": rel, "line": 1, "before": "keep me\n", "after": "owned\n", "description": "x",
                            "impact": "low", "effort": "low", "risk": "low", "kind": "config",
                            "file_sha256": ""})
    evil["plan_id"] = compute_plan_id(evil)
    before = snapshot(root)
    out = apply_plan(evil, evil["plan_id"], run_the_tests=False)
    reason = out.report.get("reason", "")
    assert out.report["status"] == "refused" and ("outside" in reason or "relative" in reason), out.report
    assert victim.read_text() == "keep me\n"
    assert snapshot(root) == before


def test_failing_tests_restore_every_file_byte_for_byte(project) -> None:
    root, plan = project
    (root / "tests" / "test_guard.py").write_text(
        "from pathlib import Path\n\n\ndef test_lr_untouched():\n"
        "    assert '1.0e-2' in (Path(__file__).parents[1] / 'config.yaml').read_text()\n")
    plan = build_plan(json.loads(Path(plan["diagnosis"]).read_text()), plan["diagnosis"], root=str(root))
    before = snapshot(root)
    out = apply_plan(plan, plan["plan_id"])
    rep = out.report
    jsonschema.validate(rep, report_schema())
    assert rep["status"] == "rolled_back" and out.exit_code == 1
    assert rep["tests"].endswith(f"failing (added {added_tests(plan)} new tests)")
    assert rep["tests_detail"]["failed"] == 1
    assert snapshot(root) == before  # byte for byte, and the new test files are gone again
    assert set(rep["restored_files"]) >= {"config.yaml", "train.py"}


def test_dry_run_shows_the_diff_and_changes_nothing(project, capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    root, plan = project
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    before = snapshot(root)
    assert main(["apply", str(path), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "+  lr: 5.0e-3   # tried 3e-3 before" in out.err and json.loads(out.out)["status"] == "dry_run"
    assert snapshot(root) == before
    assert main(["apply", str(path)]) == 1  # no approval
    assert main(["apply", str(tmp_path / "missing.json"), "--approve", "x"]) == 2
