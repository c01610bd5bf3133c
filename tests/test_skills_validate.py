"""The skills bundle passes our validator, and the validator really catches each rule it claims to enforce."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from skills_support import ROOT, SKILLS

sys.path.insert(0, str(ROOT / "tools"))
import gen_cause_docs  # noqa: E402
import validate_skills  # noqa: E402


def test_repository_bundle_is_valid():
    errors, summary = validate_skills.validate_repo(ROOT)
    assert errors == []
    assert summary.startswith("2 skills, 2 agents")


def test_cli_exit_codes():
    ok = subprocess.run([sys.executable, str(ROOT / "tools" / "validate_skills.py")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok: ")


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    """A copy of the repository's bundle to break on purpose."""
    for name in ("skills", "agents", ".claude-plugin"):
        shutil.copytree(ROOT / name, tmp_path / name, symlinks=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert validate_skills.validate_repo(tmp_path)[0] == []
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(("mutation", "expected"), [
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "name: ml-expert", "name: ml-expert\nfoo-unknown: 1"),
     "frontmatter key 'foo-unknown' is not allowed"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "name: ml-expert", "name: ml-expertise"),
     "differs from its folder"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "name: ml-expert", "name: Bad_Name"),
     "must be 1-64 of [a-z0-9-]"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "description: Implements", "description: <b>Implements"),
     "contains '<' or '>'"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "description: Implements", "description: " + "x" * 1100),
     "the limit is 1024"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "description: Implements", "description: You implement"),
     "third person"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "# ML expert", "# ML expert\n" + "line\n" * 500),
     "keep it under 500"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "references/plan-and-apply.md)", "references/gone.md)"),
     "references 'references/gone.md'"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "scripts/validate-json plan", "scripts/check-json plan"),
     "references 'scripts/check-json'"),
    (lambda b: (b / "skills/ml-expert/scripts/traindoc").chmod(0o644), "must be executable"),
    (lambda b: _edit(b / "skills/ml-expert/SKILL.md", "name: ml-expert", "name: ml-expert\ncontext: fork"),
     "cannot ask the user"),
    (lambda b: (b / "skills/ml-expert/README.md").write_text("# hi\n"), "does not belong inside a skill folder"),
    (lambda b: (b / "skills/ml-expert/notes.txt").write_text("scratch\n"), "unexpected in a skill folder"),
    (lambda b: _edit(b / "skills/ml-expert/scripts/validate_json.py", "MAX_ERRORS = 20", "MAX_ERRORS = 21"),
     "keep the copies identical"),
    (lambda b: _edit(b / "agents/ml-fix-implementer.md", "name: ml-fix-implementer", "name: traindoc:fixer"),
     "agent name"),
    (lambda b: _edit(b / ".claude-plugin/plugin.json", '"version": "0.1.0"', '"version": "0.2.0"'),
     "differs from pyproject.toml"),
    (lambda b: _edit(b / ".claude-plugin/marketplace.json", '"version": "0.1.0"\n', '"version": "9.9.9"\n'),
     "differs from pyproject.toml"),
    (lambda b: _edit(b / "skills/evals/ml-expert.json", '"should_trigger": false', '"should_trigger": true'),
     "should-not-trigger"),
])
def test_validator_catches(bundle: Path, mutation, expected: str):
    mutation(bundle)
    errors, _ = validate_skills.validate_repo(bundle)
    assert any(expected in e for e in errors), errors


def test_versions_in_sync_with_package():
    import traindoc

    version = validate_skills.project_version(ROOT)
    assert traindoc.__version__ == version
    assert json.loads((ROOT / ".claude-plugin/plugin.json").read_text())["version"] == version
    market = json.loads((ROOT / ".claude-plugin/marketplace.json").read_text())
    assert [p["version"] for p in market["plugins"]] == [version]
    install_sh = (ROOT / "install.sh").read_text()
    assert "pyproject.toml" in install_sh  # install.sh reads the version from there, never hard-codes it


def test_failure_guide_is_generated_from_the_registry():
    schema = json.loads((ROOT / "schemas" / "diagnosis.schema.json").read_text())
    guide = gen_cause_docs.GUIDE.read_text()
    for cause in schema["$defs"]["cause"]["enum"]:
        assert f"### `{cause}`" in guide, f"{cause} missing from the failure-mode guide"
    assert gen_cause_docs.main(["--check"]) == 0, "run python tools/gen_cause_docs.py"


def test_handwritten_diagnosis_example_is_schema_valid():
    """The minimal document the skill tells Claude to write for symptoms-only cases must itself be valid."""
    text = (ROOT / "skills/ml-training-debugger/references/output-format.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    doc = json.loads(block)
    schema = json.loads((ROOT / "schemas" / "diagnosis.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert all(c["confidence"] <= 0.6 for c in doc["root_causes"])  # the cap the skill states


def _validate_json(kind: str, path: Path) -> subprocess.CompletedProcess[str]:
    script = ROOT / "skills/ml-training-debugger/scripts/validate_json.py"
    return subprocess.run([sys.executable, str(script), kind, str(path)], capture_output=True, text=True)


def test_validate_json_loop_messages(tmp_path: Path):
    text = (ROOT / "skills/ml-training-debugger/references/output-format.md").read_text()
    doc = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    good = tmp_path / "d.json"
    good.write_text(json.dumps(doc))
    ok = _validate_json("diagnosis", good)
    assert ok.returncode == 0 and "valid diagnosis, verdict problems_found" in ok.stdout
    doc["root_causes"][0]["cause"] = "bad_lr"
    doc["root_causes"][0]["rank"] = 2
    good.write_text(json.dumps(doc))
    bad = _validate_json("diagnosis", good)
    assert bad.returncode == 1
    assert "$.root_causes[0].cause: 'bad_lr' is not one of" in bad.stdout
    doc["root_causes"][0]["cause"] = "lr_too_high"
    good.write_text(json.dumps(doc))
    ranks = _validate_json("diagnosis", good)
    assert ranks.returncode == 1 and "ranks must be 1..1 in order" in ranks.stdout
    (tmp_path / "broken.json").write_text("{not json")
    broken = _validate_json("diagnosis", tmp_path / "broken.json")
    assert broken.returncode == 2 and "is not JSON" in broken.stderr and "Traceback" not in broken.stderr
    assert _validate_json("nonsense", good).returncode == 2


def test_evals_cover_both_directions():
    for skill in SKILLS:
        data = json.loads((ROOT / "skills" / "evals" / f"{skill}.json").read_text())
        yes = [t for t in data["trigger_evals"] if t["should_trigger"]]
        no = [t for t in data["trigger_evals"] if not t["should_trigger"]]
        assert len(yes) >= 3 and len(no) >= 3 and len(data["evals"]) >= 3


def test_find_runs_lists_run_folders(tmp_path: Path):
    from skills_support import write_seed_like_run

    write_seed_like_run(tmp_path / "runs" / "exp42", steps_per_epoch=5)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "metrics.jsonl").write_text("{}\n")  # inside a venv: never a run
    script = ROOT / "skills/ml-training-debugger/scripts/find_runs.py"
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].startswith("runs/exp42  [metrics: metrics.jsonl, config: config.yaml]")
    assert ".venv" not in out.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    none = subprocess.run([sys.executable, str(script)], cwd=empty, capture_output=True, text=True)
    assert none.returncode == 1 and "no training artifacts" in none.stdout


def test_launcher_without_backend_says_what_to_do(tmp_path: Path):
    """A skill copied outside any plugin (as install.sh --no-backend leaves it), no venv beside it, none in ~/.claude,
    none on PATH: one line naming install.sh, and exit 69, which the skills read as "backend missing" (2 is bad
    input, 3 insufficient data)."""
    skill = tmp_path / "claude" / "skills" / "ml-expert"
    shutil.copytree(ROOT / "skills" / "ml-expert", skill)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for script in ("traindoc", "validate-json", "traindoc-preview"):
        args = ["plan.json"] if script == "traindoc-preview" else ["--version"]
        out = subprocess.run([str(skill / "scripts" / script), *args], env=env, capture_output=True, text=True)
        assert out.returncode == 69, (script, out.stderr)
        assert out.stderr.count("\n") == 1 and "run ./install.sh" in out.stderr


def test_launcher_honours_traindoc_venv(tmp_path: Path):
    venv = Path(sys.executable).parent.parent  # the dev venv has bin/traindoc and bin/python
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TRAINDOC_VENV": str(venv)}
    out = subprocess.run([str(ROOT / "skills/ml-expert/scripts/traindoc"), "--version"], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("traindoc ")
