"""Our own validator for the skills bundle: what `claude plugin validate` does not check (see
docs/skills.md and the conventions it follows).

    python tools/validate_skills.py                    # the repository: skills/, agents/, plugin manifests, evals
    python tools/validate_skills.py --installed DIR    # an install target (e.g. ~/.claude) after install.sh

Prints one line per problem (`<file>: <problem>`) and exits 1 when there is any, else prints a summary, exit 0.

Portability choice: the skills use Claude Code extension keys (`argument-hint`, `allowed-tools` with
${CLAUDE_SKILL_DIR} rules, ...), so the bundle is Claude Code-only; FRONTMATTER_KEYS is that allow-list.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# The six Agent Skills spec keys plus the Claude Code extensions we use or may use. Anything else is a typo or a
# key Claude Code would silently ignore, so it is an error here.
SPEC_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
CLAUDE_CODE_KEYS = {"argument-hint", "arguments", "when_to_use", "disable-model-invocation", "user-invocable",
                    "disallowed-tools", "model", "effort", "paths"}
FRONTMATTER_KEYS = SPEC_KEYS | CLAUDE_CODE_KEYS
AGENT_KEYS = {"name", "description", "tools", "disallowedTools", "model", "effort", "maxTurns", "skills", "memory",
              "background", "isolation", "color", "initialPrompt"}
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # spec: lowercase, digits, single inner hyphens
AGENT_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
RESERVED_WORDS = ("anthropic", "claude")
MAX_NAME = 64
MAX_DESCRIPTION = 1024  # spec limit (quick_validate, skills-ref)
MAX_LISTING = 1536  # Claude Code truncates description + when_to_use at this length in the skill listing
MAX_BODY_LINES = 500  # Anthropic's authoring guidance for SKILL.md bodies
TOC_OVER_LINES = 100  # long reference files open with a table of contents
FORBIDDEN_IN_SKILL = ("README.md", "CHANGELOG.md", "INSTALLATION_GUIDE.md", ".claude-plugin")
# What a skill folder may hold (progressive disclosure layout); install.sh's ownership marker is allowed too.
SKILL_ENTRIES = {"SKILL.md", "scripts", "references", "assets", "LICENSE.txt", ".traindoc-install", "__pycache__"}
MIN_EVALS_EACH_WAY = 3  # "at least three evaluations", for both should-trigger and should-not-trigger

# Claude Code substitutes these in a SKILL.md body when the skill is invoked with arguments (a backslash before the
# dollar keeps it literal): $ARGUMENTS, $ARGUMENTS[N], $N, and $name for each name under `arguments:`.
ARG_PLACEHOLDER = re.compile(r"(?<!\\)\$(ARGUMENTS(?:\[\d+\])?|\d+)(?![\w\[])")
INLINE_CODE = re.compile(r"`[^`\n]+`")
FENCED = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.S | re.M)
# "!`cmd`" in a skill body is run as a shell command by Claude Code when the skill loads (dynamic context)
SHELL_INJECTION = re.compile(r"!`[^`\n]+`")
SKILL_DIR_REF = re.compile(r"\$\{CLAUDE_SKILL_DIR\}/([^\s`'\")*]+)")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
BARE_REF = re.compile(r"(?<![\w/.-])((?:references|scripts|assets)/[\w./-]+\w)")


def split_frontmatter(text: str) -> tuple[dict | None, str, str | None]:
    """(frontmatter, body, error)."""
    if not text.startswith("---\n"):
        return None, text, "no YAML frontmatter (the file must start with a '---' line)"
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, text, "frontmatter is not closed by a '---' line"
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as e:
        return None, text, f"frontmatter is not valid YAML: {e}".replace("\n", " ")
    if not isinstance(meta, dict):
        return None, text, "frontmatter is not a mapping"
    return meta, text[end + 5:], None


def check_description(where: str, desc: object, extra: object = None) -> list[str]:
    errs = []
    if not isinstance(desc, str) or not desc.strip():
        return [f"{where}: description is missing or empty"]
    if len(desc) > MAX_DESCRIPTION:
        errs.append(f"{where}: description is {len(desc)} characters, the limit is {MAX_DESCRIPTION}")
    if "<" in desc or ">" in desc:
        errs.append(f"{where}: description contains '<' or '>' (rejected by quick_validate, escaped by Claude Code)")
    if re.match(r"^(I|You|We|My)\b", desc):
        errs.append(f"{where}: description must be in the third person (it is injected into the system prompt)")
    if len(desc) + len(str(extra or "")) > MAX_LISTING:
        errs.append(f"{where}: description + when_to_use exceed {MAX_LISTING} characters and would be truncated")
    return errs


def check_skill(skill: Path) -> list[str]:
    md = skill / "SKILL.md"
    where = str(md)
    meta, body, err = split_frontmatter(md.read_text(encoding="utf-8"))
    if err:
        return [f"{where}: {err}"]
    errs = []
    for key in sorted(set(meta) - FRONTMATTER_KEYS):
        errs.append(f"{where}: frontmatter key '{key}' is not allowed (allowed: {', '.join(sorted(FRONTMATTER_KEYS))})")
    name = meta.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME:
        errs.append(f"{where}: name {name!r} must be 1-{MAX_NAME} of [a-z0-9-], no leading/trailing/double hyphen")
    elif name != skill.name:
        errs.append(f"{where}: name '{name}' differs from its folder '{skill.name}' (the folder is the command)")
    if isinstance(name, str) and any(w in name for w in RESERVED_WORDS):
        errs.append(f"{where}: name contains a reserved word ({', '.join(RESERVED_WORDS)})")
    errs += check_description(where, meta.get("description"), meta.get("when_to_use"))
    if meta.get("context") == "fork":
        errs.append(f"{where}: context: fork runs the skill in a subagent, which cannot ask the user anything")
    lines = body.count("\n") + 1
    if lines >= MAX_BODY_LINES:
        errs.append(f"{where}: body has {lines} lines, keep it under {MAX_BODY_LINES}")
    for bad in FORBIDDEN_IN_SKILL:
        if (skill / bad).exists():
            errs.append(f"{skill / bad}: does not belong inside a skill folder")
    for entry in sorted(p.name for p in skill.iterdir()):
        if entry not in SKILL_ENTRIES and entry not in FORBIDDEN_IN_SKILL:
            errs.append(f"{skill / entry}: unexpected in a skill folder (allowed: {', '.join(sorted(SKILL_ENTRIES))})")
    errs += check_substitutions(where, body, meta)
    errs += check_references(skill, md, body + "\n" + yaml.safe_dump(meta.get("allowed-tools", "")))
    for ref in sorted((skill / "references").glob("*.md")) if (skill / "references").is_dir() else []:
        text = ref.read_text(encoding="utf-8")
        if text.count("\n") > TOC_OVER_LINES and "## Contents" not in text:
            errs.append(f"{ref}: over {TOC_OVER_LINES} lines without a '## Contents' section")
    return errs


def check_substitutions(where: str, body: str, meta: dict) -> list[str]:
    """What Claude Code would rewrite in the body before Claude reads it. A placeholder inside code (a command, a
    `quoted` word) is never meant to be replaced: substitution would corrupt the command or, with no arguments,
    leave a stray word in the prose. `claude plugin validate` does not look at the body at all."""
    errs = []
    names = [n for n in (meta.get("arguments") or []) if isinstance(n, str)] if isinstance(
        meta.get("arguments"), list) else []
    named = re.compile(r"(?<!\\)\$(" + "|".join(map(re.escape, names)) + r")(?![\w\[])") if names else None
    code = [m.group(0) for m in FENCED.finditer(body)] + [m.group(0) for m in INLINE_CODE.finditer(
        FENCED.sub("", body))]
    for chunk in code:
        for m in ARG_PLACEHOLDER.finditer(chunk):
            errs.append(f"{where}: '${m.group(1)}' inside code is substituted by Claude Code with the user's "
                        f"arguments; escape it as '\\${m.group(1)}' or move it out of the code")
        for m in named.finditer(chunk) if named else ():
            errs.append(f"{where}: '${m.group(1)}' inside code is substituted by Claude Code (an `arguments` name)")
    if len(ARG_PLACEHOLDER.findall(body)) > 1:
        errs.append(f"{where}: more than one argument placeholder in the body; Claude Code substitutes every one "
                    "(keep a single line that is meant to receive the arguments)")
    for m in SHELL_INJECTION.finditer(body):
        errs.append(f"{where}: '{m.group(0)}' is run as a shell command when the skill loads; write it without the "
                    "'!' or in a fenced block")
    return errs


def check_references(skill: Path, md: Path, text: str) -> list[str]:
    errs = []
    refs: set[str] = set()
    refs.update(m.group(1) for m in SKILL_DIR_REF.finditer(text))
    refs.update(m.group(1) for m in MD_LINK.finditer(text) if "://" not in m.group(1))
    refs.update(m.group(1) for m in BARE_REF.finditer(text))
    for ref in sorted(refs):
        ref = ref.rstrip("/")
        if not ref or ref.startswith("/"):
            continue
        target = skill / ref
        if not target.exists():
            errs.append(f"{md}: references '{ref}', which does not exist in {skill}")
        elif target.is_file() and ref.startswith("scripts/") and not target.suffix == ".py" \
                and not os.access(target, os.X_OK):
            errs.append(f"{target}: a script the skill runs directly must be executable")
    for script in sorted((skill / "scripts").glob("*")) if (skill / "scripts").is_dir() else []:
        if script.is_file() and script.suffix != ".py" and not script.name.startswith("_") \
                and not os.access(script, os.X_OK):
            errs.append(f"{script}: scripts without .py are run directly and must be executable")
    return errs


def check_agent(path: Path) -> list[str]:
    meta, _body, err = split_frontmatter(path.read_text(encoding="utf-8"))
    if err:
        return [f"{path}: {err}"]
    errs = []
    name = meta.get("name")
    if not isinstance(name, str) or not AGENT_NAME_RE.match(name) or ":" in name:
        errs.append(f"{path}: agent name {name!r} must be lowercase letters, digits and hyphens (no ':', no "
                    "leading '-'); Claude Code silently skips such a file")
    errs += check_description(str(path), meta.get("description"))
    for key in sorted(set(meta) - AGENT_KEYS):
        errs.append(f"{path}: agent key '{key}' is not one Claude Code reads "
                    f"(allowed: {', '.join(sorted(AGENT_KEYS))})")
    return errs


def skill_dirs(skills_root: Path) -> list[Path]:
    return sorted(p.parent for p in skills_root.glob("*/SKILL.md"))


def check_evals(root: Path, names: list[str]) -> list[str]:
    errs = []
    for name in names:
        path = root / "skills" / "evals" / f"{name}.json"
        if not path.exists():
            errs.append(f"{path}: missing (each skill keeps its trigger evals here)")
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            errs.append(f"{path}: not JSON: {e}")
            continue
        trig = data.get("trigger_evals", [])
        yes = [t for t in trig if t.get("should_trigger") is True and t.get("query")]
        no = [t for t in trig if t.get("should_trigger") is False and t.get("query")]
        if len(yes) < MIN_EVALS_EACH_WAY or len(no) < MIN_EVALS_EACH_WAY:
            errs.append(f"{path}: needs at least {MIN_EVALS_EACH_WAY} should-trigger and {MIN_EVALS_EACH_WAY} "
                        f"should-not-trigger queries (has {len(yes)} and {len(no)})")
        if data.get("skill_name") != name:
            errs.append(f"{path}: skill_name should be '{name}'")
        for e in data.get("evals", []):
            if not e.get("prompt") or not e.get("expected_output"):
                errs.append(f"{path}: eval {e.get('id')} needs a prompt and an expected_output")
    return errs


def project_version(root: Path) -> str:
    # tomllib is 3.11+ and the project supports 3.10: the version line is simple enough to read directly
    m = re.search(r'^version\s*=\s*"([^"]+)"', (root / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else "?"


def check_manifests(root: Path) -> list[str]:
    errs = []
    version = project_version(root)
    plugin_path = root / ".claude-plugin" / "plugin.json"
    market_path = root / ".claude-plugin" / "marketplace.json"
    try:
        plugin = json.loads(plugin_path.read_text(encoding="utf-8"))
        market = json.loads(market_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return [f"{root / '.claude-plugin'}: {e}"]
    if plugin.get("version") != version:
        errs.append(f"{plugin_path}: version {plugin.get('version')} differs from pyproject.toml's {version}")
    entries = [p for p in market.get("plugins", []) if p.get("name") == plugin.get("name")]
    if not entries:
        errs.append(f"{market_path}: no entry for plugin '{plugin.get('name')}'")
    for p in entries:
        if p.get("version") != version:
            errs.append(f"{market_path}: version {p.get('version')} differs from pyproject.toml's {version}")
    if market.get("metadata", {}).get("version", version) != version:
        errs.append(f"{market_path}: metadata.version differs from pyproject.toml's {version}")
    return errs


def check_shared_scripts(skills: list[Path]) -> list[str]:
    """Scripts present in several skills are copies of one another (standalone skills cannot share a folder)."""
    errs = []
    seen: dict[str, tuple[Path, bytes]] = {}
    for skill in skills:
        for f in sorted((skill / "scripts").glob("*")) if (skill / "scripts").is_dir() else []:
            data = f.read_bytes()
            if f.name in seen and seen[f.name][1] != data:
                errs.append(f"{f}: differs from {seen[f.name][0]}; keep the copies identical")
            seen.setdefault(f.name, (f, data))
    return errs


def validate_repo(root: Path = ROOT) -> tuple[list[str], str]:
    skills = skill_dirs(root / "skills")
    agents = sorted((root / "agents").glob("*.md"))
    errs: list[str] = []
    if not skills:
        errs.append(f"{root / 'skills'}: no skill folders found")
    for s in skills:
        errs += check_skill(s)
    for a in agents:
        errs += check_agent(a)
    errs += check_shared_scripts(skills)
    errs += check_evals(root, [s.name for s in skills])
    errs += check_manifests(root)
    return errs, f"{len(skills)} skills, {len(agents)} agents, manifests at version {project_version(root)}"


def validate_installed(target: Path, names: list[str]) -> tuple[list[str], str]:
    errs = []
    for name in names:
        if not (target / "skills" / name / "SKILL.md").exists():
            errs.append(f"{target / 'skills' / name}: not installed")
        else:
            errs += check_skill(target / "skills" / name)
    agents = sorted((target / "agents").glob("*.md"))
    for a in agents:
        errs += check_agent(a)
    return errs, f"{len(names)} installed skills, {len(agents)} agents under {target}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this one)")
    ap.add_argument("--installed", type=Path, metavar="DIR", help="check an install target instead, e.g. ~/.claude")
    args = ap.parse_args(argv)
    if args.installed:
        names = [s.name for s in skill_dirs(args.root / "skills")]
        errs, what = validate_installed(args.installed, names)
    else:
        errs, what = validate_repo(args.root)
    for e in errs:
        print(e)
    if errs:
        print(f"{len(errs)} problem(s)", file=sys.stderr)
        return 1
    print(f"ok: {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
