"""`traindoc plan` on a user-style project: the right edits, valid against the schema, bound to the files."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from test_plan_fixtures import make_project, root_cause
from traindoc.cli import main
from traindoc.plan.build import PlanError, build_plan, compute_plan_id, render_markdown


def schema(name: str) -> dict:
    return json.loads(resources.files("traindoc").joinpath(f"schemas/{name}").read_text())


def test_plan_covers_config_and_code_and_validates(tmp_path: Path) -> None:
    root, diag = make_project(tmp_path)
    plan = build_plan(json.loads(diag.read_text()), str(diag), root=str(root))
    jsonschema.validate(plan, schema("plan.schema.json"))
    by_file = {}
    for c in plan["changes"]:
        by_file.setdefault(c["file"], []).append(c)
    (cfg,) = by_file["config.yaml"]  # two adjacent lines: one hunk
    assert cfg["line"] == 3
    assert cfg["before"] == "  lr: 1.0e-2   # tried 3e-3 before\n  warmup_steps: 0\n"
    assert cfg["after"] == "  lr: 5.0e-3   # tried 3e-3 before\n  warmup_steps: 20\n"  # 5% of the 400 steps
    code = "".join(c["after"] for c in by_file["train.py"])
    assert "is_causal=True" in code and "opt.zero_grad(set_to_none=True)" in code
    new_tests = {c["file"] for c in plan["changes"] if c["kind"] == "new_file"}
    assert new_tests == {"tests/test_traindoc_zero_grad.py", "tests/test_traindoc_causal_mask.py",  # code fixes
                         "tests/test_traindoc_lr_too_high_settings.py", "tests/test_traindoc_no_warmup_settings.py"}
    assert plan["plan_id"] == compute_plan_id(plan)
    md = render_markdown(plan)
    assert md.startswith("## Implementation Plan") and "Proceed?" in md and plan["plan_id"] in md


def test_plan_id_binds_the_file_bytes(tmp_path: Path) -> None:
    root, diag = make_project(tmp_path)
    plan = build_plan(json.loads(diag.read_text()), str(diag), fix="1", root=str(root))
    assert [f["cause"] for f in plan["fixes"]] == ["lr_too_high"]
    first = plan["plan_id"]
    (root / "config.yaml").write_text((root / "config.yaml").read_text() + "\n")
    assert compute_plan_id(plan) != first


def test_default_root_leaves_the_run_folder(tmp_path: Path) -> None:
    root, diag = make_project(tmp_path)
    plan = build_plan(json.loads(diag.read_text()), str(diag), fix="1")
    assert Path(plan["root"]) == root.resolve()


def test_bad_fix_rank_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, diag = make_project(tmp_path)
    with pytest.raises(PlanError):
        build_plan(json.loads(diag.read_text()), str(diag), fix="9")
    assert main(["plan", str(diag), "--fix", "x"]) == 2
    err = capsys.readouterr().err
    assert "--fix x: no root cause with that cause" in err and "1:lr_too_high" in err


def test_fix_by_cause_id_picks_the_same_cause_as_its_rank(tmp_path: Path) -> None:
    root, diag = make_project(tmp_path)
    doc = json.loads(diag.read_text())
    by_id = build_plan(doc, str(diag), fix="lr_too_high", root=str(root))
    assert [f["cause"] for f in by_id["fixes"]] == ["lr_too_high"]
    assert by_id["plan_id"] == build_plan(doc, str(diag), fix="1", root=str(root))["plan_id"]


def test_cli_writes_plan_and_prints_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, diag = make_project(tmp_path)
    out = tmp_path / "plan.json"
    assert main(["plan", str(diag), "-o", str(out), "--root", str(root)]) == 0
    printed = capsys.readouterr().out
    plan = json.loads(out.read_text())
    assert f"--approve {plan['plan_id']}" in printed
    assert main(["plan", str(diag), "--json", "--root", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)["plan_id"] == plan["plan_id"]


def test_param_imbalance_ties_then_adds_layers(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "config.yaml").write_text("model:\n  vocab_size: 50257\n  d_model: 512\n  n_layers: 8  # depth\n"
                                      "  tie_embeddings: false\n")
    diag = {"root_causes": [{"rank": 1, "cause": "param_imbalance", "confidence": 0.9,
                             "fix": {"summary": "tie", "changes": [{"target": "config", "key": "model.tie_embeddings",
                                                                    "after": "true", "description": "tie"}]},
                             "expected_outcome": []}], "run": {"paths": [], "code_files": []}}
    plan = build_plan(diag, "", root=str(root))
    (change,) = [c for c in plan["changes"] if c["kind"] != "new_file"]
    # tied: 50257*512 vs 12*512^2*8 -> 50% embeddings; 10 layers bring it to 45%
    assert change["after"] == "  n_layers: 10  # depth\n  tie_embeddings: true\n"


def test_default_test_command_prefers_the_projects_own_python(tmp_path):
    """The backend's venv may have no pytest (install.sh): the project's .venv runs its tests when it has one.
    It is chosen by where it lies: plan never runs it (tests/test_apply_hostile.py)."""
    from traindoc.plan.test_command import argv_for_tests

    (tmp_path / "tests").mkdir()
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    argv = argv_for_tests(tmp_path)
    assert argv[0] == str(venv / "bin" / "python") and argv[1:3] == ["-m", "pytest"], argv
    assert argv[-1] == "tests" and "no:cacheprovider" in argv


def test_candidates_below_half_are_planned_only_when_picked(tmp_path: Path) -> None:
    """Every cause below 0.5: nothing is planned by default and the plan says how to pick one; --fix 1 plans it."""
    root, diag = make_project(tmp_path)
    doc = json.loads(diag.read_text())
    for rc in doc["root_causes"]:
        rc["confidence"] = 0.3
    plan = build_plan(doc, str(diag), root=str(root))
    assert plan["changes"] == [] and plan["fixes"] == []
    assert any("no cause reaches confidence 0.5" in n and "--fix N" in n for n in plan["notes"])
    picked = build_plan(doc, str(diag), fix="1", root=str(root))
    assert picked["changes"] and not any("no cause reaches" in n for n in picked["notes"])


def test_traindocs_own_documents_in_the_project_are_never_configs(tmp_path: Path) -> None:
    """`traindoc diagnose -o diagnosis.json` run in the project folder (as the whole loop does): the diagnosis quotes
    `precision` (here as the run's precision), and used to be taken for the project's config holding it, so the fix
    found nothing to change there and planned nothing; the Trainer call in the code is where the next run reads it."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "train.py").write_text('import pytorch_lightning as pl\n\ntrainer = pl.Trainer(max_steps=10, '
                                   'precision="16-true")\n')
    diag = {"schema_version": "1.0", "verdict": "problems_found", "quick_wins": [], "findings": [],
            "run": {"paths": [], "sources": [], "metrics": {}, "step_range": [0, 10], "config_keys": [],
                    "code_files": [], "precision": "float16"},
            "root_causes": [root_cause(1, "fp16_overflow")]}
    path = root / "diagnosis.json"
    path.write_text(json.dumps(diag))
    (root / "plan.json").write_text(json.dumps({"schema_version": "1.0", "plan_id": "0", "precision": "16-true"}))
    plan = build_plan(diag, str(path), root=str(root))
    edits = [c for c in plan["changes"] if c["kind"] != "new_file"]
    assert [(c["file"], c["after"].strip()) for c in edits] == [
        ("train.py", 'trainer = pl.Trainer(max_steps=10, precision="bf16-true")')], plan["changes"]
