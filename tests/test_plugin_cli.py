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
from pathlib import Path

import pytest

from skills_support import ROOT, SKILLS, fresh_env, installed_home

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
    # a plugin's skills find the backend install.sh put in the user's config folder (launcher search path 3)
    backend_home, _ = installed_home()
    launcher = install_path / "skills" / "ml-training-debugger" / "scripts" / "traindoc"
    found = subprocess.run([str(launcher), "--version"], capture_output=True, text=True,
                           env=fresh_env(tmp_path, CLAUDE_CONFIG_DIR=str(backend_home / ".claude")))
    assert found.returncode == 0 and found.stdout.startswith("traindoc "), found.stderr
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
