"""The plugin, checked by the real Claude Code CLI from the npm registry, offline, with a temporary HOME.

Pinned to 2.1.197: the last release whose package declares Node >= 18, so it installs cleanly on this machine's
Node 20 (every later release declares Node >= 22). It validates manifests and runs the whole local plugin
lifecycle with no login and no network. The CLI is installed once into .cache/ (npm, from the registry); the
test skips only where npm is missing.

2.1.197's `plugin list --json` lists plugins, not their skills, so the skills are checked in the plugin's
install path that list reports, and in `plugin details` (which lists components; offline it estimates tokens by
characters instead of calling the API).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skills_support import ROOT, SKILLS, fresh_env, run_install, skill_commands, write_fixture_project

pytestmark = [pytest.mark.cli, pytest.mark.slow]

CLI_VERSION = os.environ.get("TRAINDOC_CLAUDE_CLI_VERSION", "2.1.197")
CACHE = ROOT / ".cache" / "claude-code-cli" / CLI_VERSION
VERSION = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())["version"]
PLUGIN = "traindoc@traindoc-marketplace"


@pytest.fixture(scope="module")
def claude() -> Path:
    exe = CACHE / "node_modules" / ".bin" / "claude"
    if not exe.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot fetch the Claude Code CLI to validate the plugin")
        CACHE.mkdir(parents=True, exist_ok=True)
        out = subprocess.run([npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--loglevel=error",
                              f"@anthropic-ai/claude-code@{CLI_VERSION}"], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0 and exe.exists(), f"npm install failed:\n{out.stdout}\n{out.stderr}"
    return exe


@pytest.fixture()
def cli(claude: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "CI": "1"}

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(claude), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    run.home = str(home)  # type: ignore[attr-defined]
    return run


def _export_checkout(dest: Path) -> Path:
    """What `git clone` gives a user: tracked and committable files only (no .venv, no caches, no runs)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def test_cli_version(cli):
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.startswith(CLI_VERSION)


def test_validate_strict_passes(cli):
    for target in (ROOT, ROOT / ".claude-plugin" / "plugin.json"):
        out = cli("plugin", "validate", str(target), "--strict")
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Validation passed" in out.stdout


def _bundle(dest: Path) -> Path:
    for name in ("skills", "agents", ".claude-plugin"):
        shutil.copytree(ROOT / name, dest / name, symlinks=True)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_which_validation_checks_what(cli, tmp_path: Path):
    """docs/skills.md, "Validation": the CLI on the repository root reads only marketplace.json, so a skill with
    broken YAML passes there; on .claude-plugin/plugin.json it parses the skills; neither reads a skill's body or
    its scripts, which our validator does."""
    sys.path.insert(0, str(ROOT / "tools"))
    import validate_skills

    broken = _bundle(tmp_path / "broken_yaml")
    md = broken / "skills" / "ml-expert" / "SKILL.md"
    md.write_text(md.read_text().replace("name: ml-expert\n", "name: [ml-expert\n", 1))
    assert cli("plugin", "validate", str(broken), "--strict").returncode == 0  # the gap
    on_manifest = cli("plugin", "validate", str(broken / ".claude-plugin" / "plugin.json"), "--strict")
    assert on_manifest.returncode == 1 and "YAML" in on_manifest.stdout + on_manifest.stderr
    assert any("not valid YAML" in e for e in validate_skills.validate_repo(broken)[0])

    body = _bundle(tmp_path / "body")
    md = body / "skills" / "ml-expert" / "SKILL.md"
    md.write_text(md.read_text() + "\nRun `$ARGUMENTS` now, then !`ls`.\n")
    (body / "skills" / "ml-expert" / "scripts" / "traindoc-preview").chmod(0o644)
    for target in (body, body / ".claude-plugin" / "plugin.json"):
        assert cli("plugin", "validate", str(target), "--strict").returncode == 0  # the CLI misses all three
    errors = validate_skills.validate_repo(body)[0]
    for expected in ("inside code is substituted", "run as a shell command", "must be executable"):
        assert any(expected in e for e in errors), (expected, errors)


def test_validate_really_checks(cli, tmp_path: Path):
    broken = tmp_path / "broken"
    (broken / ".claude-plugin").mkdir(parents=True)
    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    manifest["name"] = "train doc"
    (broken / ".claude-plugin" / "plugin.json").write_text(json.dumps(manifest))
    out = cli("plugin", "validate", str(broken), "--strict")
    assert out.returncode == 1 and "kebab-case" in out.stdout + out.stderr


def test_marketplace_install_list_uninstall(cli, tmp_path: Path):
    repo = _export_checkout(tmp_path / "clone")
    added = cli("plugin", "marketplace", "add", str(repo))
    assert added.returncode == 0, added.stdout + added.stderr
    installed = cli("plugin", "install", PLUGIN)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    listed = cli("plugin", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = {p["id"]: p for p in json.loads(listed.stdout)}
    assert PLUGIN in entries and entries[PLUGIN]["enabled"] and entries[PLUGIN]["version"] == VERSION
    install_path = Path(entries[PLUGIN]["installPath"])
    for skill in SKILLS:
        assert (install_path / "skills" / skill / "SKILL.md").exists()
        assert os.access(install_path / "skills" / skill / "scripts" / "traindoc", os.X_OK)  # exec bit kept
    # install.sh next to the plugin would give every skill twice: it refuses
    dup = run_install(Path(cli.home), "--no-backend")
    assert dup.returncode == 1 and f"already installed as the Claude Code plugin {PLUGIN}" in dup.stderr
    assert not (Path(cli.home) / ".claude" / "skills").exists()
    details = cli("plugin", "details", PLUGIN)
    assert details.returncode == 0, details.stderr
    skills_line = next(line for line in details.stdout.splitlines() if line.strip().startswith("Skills ("))
    assert "Skills (2)" in skills_line and all(s in skills_line for s in SKILLS)
    assert "Agents (2)" in details.stdout

    removed = cli("plugin", "uninstall", PLUGIN)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert PLUGIN not in {p["id"] for p in json.loads(cli("plugin", "list", "--json").stdout)}
    gone = cli("plugin", "marketplace", "remove", "traindoc-marketplace")
    assert gone.returncode == 0, gone.stdout + gone.stderr


def test_marketplace_install_alone_runs_the_debugger_commands(cli, tmp_path: Path):
    """Only the marketplace install, nothing else: the skill's commands, verbatim as SKILL.md gives them, work on a
    real run; the first call builds the plugin's backend from its own copy (${CLAUDE_PLUGIN_ROOT})."""
    repo = _export_checkout(tmp_path / "clone")
    assert cli("plugin", "marketplace", "add", str(repo)).returncode == 0
    assert cli("plugin", "install", PLUGIN).returncode == 0
    install_path = Path(json.loads(cli("plugin", "list", "--json").stdout)[0]["installPath"])
    skill_dir = install_path / "skills" / "ml-training-debugger"
    project = write_fixture_project(tmp_path / "project")
    env = fresh_env(Path(cli.home))
    log = []
    for raw in skill_commands("ml-training-debugger"):
        command = (raw.replace("${CLAUDE_SKILL_DIR}", str(skill_dir)).replace("<run-paths>", "run")
                   .replace("<config-file>", "config.yaml").replace("<code-dir>", "code"))
        out = subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True,
                             timeout=600)
        log.append(f"$ {command}\n[exit {out.returncode}]\n{out.stdout[-800:]}{out.stderr[-800:]}")
        assert out.returncode == 0 and "Traceback" not in out.stderr, "\n".join(log)
    assert "first use of the plugin" in "\n".join(log)  # built once, by the first backend call
    assert json.loads((project / ".traindoc" / "diagnosis.json").read_text())["verdict"] == "problems_found"
    assert (project / ".traindoc" / "report.html").stat().st_size > 0
