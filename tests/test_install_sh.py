"""install.sh end to end in temporary HOMEs: layout, manifest, idempotence, dry run, ownership (--force keeps a
backup), --uninstall removing only what it installed, --project / --link / CLAUDE_CONFIG_DIR targets, and the
clear failures (old Python, no venv module, no disk).

The real installer runs: a venv is built and pip installs the backend from the package index. Two full installs
per test session (~15 s each); the other cases use --no-backend or --dry-run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skills_support import ROOT, SKILLS, fresh_env, installed_home, run_install

pytestmark = pytest.mark.slow
VERSION = next(line.split('"')[1] for line in (ROOT / "pyproject.toml").read_text().splitlines()
               if line.startswith("version"))
AGENTS = sorted(p.name for p in (ROOT / "agents").glob("*.md"))


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_install_layout(tmp_path: Path):
    home, output = installed_home()
    target = home / ".claude"
    assert f"traindoc {VERSION}" in output and "/ml-training-debugger" in output
    for skill in SKILLS:
        d = target / "skills" / skill
        assert (d / "SKILL.md").read_text() == (ROOT / "skills" / skill / "SKILL.md").read_text()
        assert (d / ".traindoc-install").exists()
        assert not (d / ".claude-plugin").exists()  # would turn the folder into a namespaced plugin
        assert os.access(d / "scripts" / "traindoc", os.X_OK)
    assert not (target / "skills" / "evals").exists()
    assert sorted(p.name for p in (target / "agents").glob("*.md")) == AGENTS
    manifest = (target / "traindoc" / "install-manifest").read_text().splitlines()
    assert f"version {VERSION}" in manifest and "mode copy" in manifest
    assert {f"skill skills/{s}" for s in SKILLS} | {f"agent agents/{a}" for a in AGENTS} <= set(manifest)
    venv_py = target / "traindoc" / "venv" / "bin" / "python"
    env = fresh_env(home)
    version = subprocess.run([str(target / "traindoc" / "bin" / "traindoc"), "--version"], env=env,
                             capture_output=True, text=True)
    assert version.stdout.strip() == f"traindoc {VERSION}"
    # core dependencies only: no torch in the skills' backend, and the backend is not the dev checkout
    probe = subprocess.run([str(venv_py), "-c", "import importlib.util as u, traindoc, jsonschema, numpy, yaml, "
                            "jinja2; print(u.find_spec('torch') is None, traindoc.__file__)"], env=env,
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    no_torch, location = probe.stdout.split()
    assert no_torch == "True" and str(ROOT) not in location
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "validate_skills.py"),
                            "--installed", str(target)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_reinstall_is_idempotent():
    home, _ = installed_home()
    target = home / ".claude"
    before = _tree(target / "skills") + _tree(target / "agents")
    again = run_install(home)
    assert again.returncode == 0, again.stderr
    assert f"installed version: {VERSION} (re-installing the same version)" in again.stdout
    for skill in SKILLS:
        assert f"/{skill}: up to date" in again.stdout
    assert _tree(target / "skills") + _tree(target / "agents") == before
    assert not list((target / "skills").glob(".*.tmp.*"))


def test_dry_run_changes_nothing(tmp_path: Path):
    out = run_install(tmp_path, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "would run:" in out.stdout and "dry run complete: nothing was changed" in out.stdout
    assert _tree(tmp_path / ".claude") == []
    home, _ = installed_home()
    before = _tree(home / ".claude")
    dry_uninstall = run_install(home, "--uninstall", "--dry-run")
    assert dry_uninstall.returncode == 0 and "would run: rm -rf" in dry_uninstall.stdout
    assert "dry run complete: nothing was removed" in dry_uninstall.stdout
    assert "uninstalled" not in dry_uninstall.stdout.replace("nothing was removed", "")
    assert _tree(home / ".claude") == before
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    dry_project = run_install(tmp_path, "--project", "--dry-run", cwd=project)
    assert dry_project.returncode == 0 and "dry run complete" in dry_project.stdout
    assert sorted(p.name for p in project.iterdir()) == [".git"]


def test_link_mode_symlinks_and_editable_backend(tmp_path: Path):
    plan = run_install(tmp_path, "--link", "--dry-run")
    assert "-e " + str(ROOT) in plan.stdout  # the backend would be an editable install of this checkout
    out = run_install(tmp_path, "--link", "--no-backend")
    assert out.returncode == 0, out.stderr
    for skill in SKILLS:
        link = tmp_path / ".claude" / "skills" / skill
        assert link.is_symlink() and link.resolve() == (ROOT / "skills" / skill).resolve()
    gone = run_install(tmp_path, "--uninstall")
    assert gone.returncode == 0
    assert not (tmp_path / ".claude" / "skills" / SKILLS[0]).exists()
    assert (ROOT / "skills" / SKILLS[0] / "SKILL.md").exists()  # removing a link never touches the source


def test_project_and_config_dir_targets(tmp_path: Path):
    project = tmp_path / "proj"
    project.mkdir()
    out = run_install(tmp_path, "--project", "--no-backend", cwd=project)
    assert out.returncode == 0, out.stderr
    assert (project / ".claude" / "skills" / "ml-expert" / "SKILL.md").exists()
    assert not (tmp_path / ".claude").exists()
    cfg = tmp_path / "cfg"
    out = run_install(tmp_path, "--no-backend", env_extra={"CLAUDE_CONFIG_DIR": str(cfg)})
    assert out.returncode == 0, out.stderr
    assert (cfg / "skills" / "ml-training-debugger" / "SKILL.md").exists()
    assert not (tmp_path / ".claude").exists()


def test_foreign_folder_needs_force_then_backup_and_clean_uninstall(tmp_path: Path):
    target = tmp_path / ".claude"
    mine = target / "skills" / "ml-expert"
    mine.mkdir(parents=True)
    (mine / "SKILL.md").write_text("---\nname: ml-expert\ndescription: The user's own skill.\n---\nmine\n")
    other = target / "skills" / "unrelated"
    other.mkdir()
    (other / "SKILL.md").write_text("---\nname: unrelated\ndescription: Another skill.\n---\n")

    refused = run_install(tmp_path)
    assert refused.returncode == 1
    assert "not installed by traindoc" in refused.stderr and "--force" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert (mine / "SKILL.md").read_text().endswith("mine\n")  # untouched
    # every target is checked before anything is copied: the other skill was not installed either
    assert not (target / "skills" / "ml-training-debugger").exists() and not (target / "traindoc").exists()

    forced = run_install(tmp_path, "--force")  # full install, backend included: uninstall must remove it too
    assert forced.returncode == 0, forced.stdout + forced.stderr
    backups = list((target / "traindoc-backups").glob("*/skills/ml-expert/SKILL.md"))
    assert len(backups) == 1 and backups[0].read_text().endswith("mine\n")
    assert "Implements the fixes" in (mine / "SKILL.md").read_text()
    assert (target / "traindoc" / "venv" / "bin" / "traindoc").exists()

    gone = run_install(tmp_path, "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not (target / "traindoc").exists()
    for skill in SKILLS:
        assert not (target / "skills" / skill).exists()
    assert not any((target / "agents" / a).exists() for a in AGENTS)
    assert (other / "SKILL.md").exists()  # not ours: left alone
    assert backups[0].exists()  # backups are the user's: kept
    again = run_install(tmp_path, "--uninstall")
    assert again.returncode == 0 and "nothing to uninstall" in again.stdout


def test_interrupted_install_can_be_uninstalled(tmp_path: Path):
    """The manifest is written before anything is copied: an install that dies half way (here: the interpreter
    passes the preflight but cannot build a venv) leaves a manifest that --uninstall follows."""
    broken = run_install(tmp_path, env_extra={"PYTHON": str(_fake_python(tmp_path, "3.11", True))})
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    manifest = (tmp_path / ".claude" / "traindoc" / "install-manifest").read_text().splitlines()
    assert "state installing" in manifest and "skill skills/ml-expert" in manifest
    assert (tmp_path / ".claude" / "skills" / "ml-expert" / "SKILL.md").exists()
    gone = run_install(tmp_path, "--uninstall")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert not (tmp_path / ".claude" / "skills" / "ml-expert").exists()
    assert not (tmp_path / ".claude" / "traindoc").exists()


def test_project_install_keeps_the_venv_out_of_the_repository(tmp_path: Path):
    project = tmp_path / "proj"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    out = run_install(tmp_path, "--project", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    link = project / ".claude" / "traindoc" / "venv"
    assert link.is_symlink() and project not in link.resolve().parents
    assert str(link.resolve()) in out.stdout  # says where it went
    big = sum(p.stat().st_size for p in project.rglob("*") if p.is_file() and not p.is_symlink())
    assert big < 2_000_000, big  # the skills and the manifest only
    assert "/.claude/traindoc/" in (project / ".gitignore").read_text().splitlines()
    launcher = project / ".claude" / "skills" / "ml-training-debugger" / "scripts" / "traindoc"
    version = subprocess.run([str(launcher), "--version"], env=fresh_env(tmp_path), capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("traindoc "), version.stderr
    venv = link.resolve()
    gone = run_install(tmp_path, "--project", "--uninstall", cwd=project)
    assert gone.returncode == 0 and not venv.exists() and not link.exists()


def test_refuses_to_duplicate_a_plugin_install(tmp_path: Path):
    plugins = tmp_path / ".claude" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "installed_plugins.json").write_text(
        '{"version": 2, "plugins": {"traindoc@traindoc-marketplace": [{"scope": "user"}]}}')
    out = run_install(tmp_path, "--no-backend")
    assert out.returncode == 1
    assert "already installed as the Claude Code plugin traindoc@traindoc-marketplace" in out.stderr
    assert "claude plugin uninstall traindoc@traindoc-marketplace" in out.stderr
    assert not (tmp_path / ".claude" / "skills").exists()
    forced = run_install(tmp_path, "--no-backend", "--force")
    assert forced.returncode == 0 and "each skill will appear twice" in forced.stdout


def _fake_python(tmp_path: Path, version: str, has_venv: bool) -> Path:
    script = tmp_path / f"fakepython{version}{'' if has_venv else '-novenv'}"
    script.write_text("#!/bin/bash\n"
                      f'case "$*" in *version_info*) echo {version} ;; '
                      f'*"import venv"*) exit {0 if has_venv else 1} ;; *) exit 0 ;; esac\n')
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(("case", "expected"), [
    ("old_python", "needs Python 3.10 or newer"),
    ("no_venv", "no working venv module"),
    ("no_disk", "not enough disk space"),
    ("no_python", "no Python found"),
])
def test_clear_failures(tmp_path: Path, case: str, expected: str):
    extra = {
        "old_python": {"PYTHON": str(_fake_python(tmp_path, "3.8", True))},
        "no_venv": {"PYTHON": str(_fake_python(tmp_path, "3.11", False))},
        "no_disk": {"TRAINDOC_INSTALL_MIN_FREE_MB": str(10**12)},
        "no_python": {"PYTHON": str(tmp_path / "missing-python")},
    }[case]
    out = run_install(tmp_path, env_extra=extra)
    assert out.returncode == 1
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("install.sh: error: ") and expected in line
    assert "Traceback" not in out.stderr
    assert _tree(tmp_path / ".claude") == []  # preflight fails before anything is written


def test_unknown_option_is_a_usage_error(tmp_path: Path):
    out = run_install(tmp_path, "--frobnicate")
    assert out.returncode == 2 and "unknown option '--frobnicate'" in out.stderr
