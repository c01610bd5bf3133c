"""The plan's edit workspace: in-memory copies of the files a plan edits, the edits made to them, and the context
every fixer reads (the diagnosis, the project's config and code files, the run's outputs, the launch command).

All edits are made on these copies, in order, so two fixes that touch the same file compose; the plan's hunks are
the differences between each original and its final text (plan/hunks.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import MAX_PARSE_CHARS, parse_python
from traindoc.plan import targets
from traindoc.plan.launch import Launch


@dataclass


class Edit:
    """One logical edit, kept to describe the hunks it produced."""

    file: str  # absolute path
    cause: str
    kind: str  # config | code | new_file
    description: str
    impact: str
    effort: str
    risk: str
    new_lines: list[str]
    old_lines: list[str]
    template: str | None = None
    # a setting the edit gives its value ({"key": as written, "value": new}): its regression test loads it back
    # the way the project does (plan/setting_test.py)
    setting: dict[str, Any] | None = None


@dataclass


class Workspace:
    """In-memory texts of the files a plan edits; originals kept for the final diff."""

    root: Path
    texts: dict[str, str] = field(default_factory=dict)
    originals: dict[str, str | None] = field(default_factory=dict)  # None: the file does not exist yet
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    edited_keys: set[str] = field(default_factory=set)

    def text(self, path: str) -> str:
        if path not in self.texts:
            p = Path(path)
            self.originals[path] = p.read_text(encoding="utf-8") if p.exists() else None
            self.texts[path] = self.originals[path] or ""
        return self.texts[path]

    def set_text(self, path: str, new: str, edit: Edit) -> None:
        self.text(path)
        self.texts[path] = new
        self.edits.append(edit)

    def set_lines(self, path: str, lines: list[str], edits: list[Edit]) -> bool:
        """`lines` joined as `path`'s new text, recorded under every edit that made it, only if it still parses: a
        code fix that breaks the file's syntax is dropped whole (False), never half recorded."""
        new = "".join(lines)
        if parse_python(new) is None:
            return False
        for edit in edits:
            self.set_text(path, new, edit)
        return True


@dataclass


class Context:
    ws: Workspace
    diagnosis: dict[str, Any]
    config_files: list[str]
    code_files: list[str]
    total_steps: int | None
    base: Path  # where relative paths in the diagnosis are resolved from
    outputs: targets.RunOutputs | None = None  # folders a run wrote: never edited
    launch: Launch | None = None  # how the user launched training (its flags win over every file)


def level(rc: dict[str, Any], name: str, default: str = "medium") -> str:
    v = rc.get(name)
    return v if v in ("low", "medium", "high", "critical") else default


def rel(ctx: Context, path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ctx.ws.root))
    except ValueError:
        return path


def code_texts(ctx: Context) -> dict[str, str]:
    texts = {}
    for f in ctx.code_files:
        if f.endswith(".py") and not Path(f).name.startswith("test_"):
            try:
                if f not in ctx.ws.texts and Path(f).stat().st_size > MAX_PARSE_CHARS * 4:
                    continue  # too big to parse (code_sites.parse_python): never a fix site, and not read
                texts[f] = ctx.ws.text(f)
            except (UnicodeDecodeError, OSError):
                continue  # not text we could edit byte-exactly: never a fix site
    return texts


def code_trees(ctx: Context) -> Iterator[tuple[str, ast.Module]]:
    """(path, parsed module) of each code file that parses."""
    for path, text in code_texts(ctx).items():
        tree = parse_python(text)
        if tree is not None:
            yield path, tree


def line_starts(text: str) -> list[int]:
    """Character offset at which each line of `text` starts (and the end of the text, last)."""
    out, pos = [0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        out.append(pos)
    return out


def char_at(text: str, starts: list[int], lineno: int, col_bytes: int) -> int:
    """The character offset of ast's (lineno, col_offset): ast counts the column in UTF-8 bytes."""
    line = text[starts[lineno - 1]:starts[lineno]]
    return starts[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))
