"""The plan's changes and its id: the hunks between each original file and its final text (file, first line, exact
`before`, `after`), and `plan_id`, a hash of the plan and of the current bytes of every file it touches (an approval
binds to what the person saw; a later edit of a file makes it stale)."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from traindoc.plan.workspace import Edit, Workspace


def hunks(root: Path, ws: Workspace) -> list[dict[str, Any]]:
    changes = []
    for path, new in ws.texts.items():
        old = ws.originals.get(path)
        if old == new:
            continue
        rel = str(Path(path).resolve().relative_to(root))
        file_edits = [e for e in ws.edits if e.file == path]
        if old is None:
            e = file_edits[0]
            changes.append({"file": rel, "line": 1, "before": "", "after": new, "description": e.description,
                            "cause": e.cause, "kind": "new_file", "impact": e.impact, "effort": e.effort,
                            "risk": e.risk, "file_sha256": ""})
            continue
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
        sha = hashlib.sha256(old.encode("utf-8")).hexdigest()
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            before, after = "".join(a[i1:i2]), "".join(b[j1:j2])
            line = i1 + 1
            if tag == "insert":  # anchor an insertion on the line before it (or after, at the top)
                if i1 > 0:
                    before, after, line = a[i1 - 1], a[i1 - 1] + after, i1
                else:
                    before, after, line = a[0], after + a[0], 1
            owner = _owner(file_edits, before, after)
            changes.append({"file": rel, "line": line, "before": before, "after": after,
                            "description": owner.description, "cause": owner.cause, "kind": owner.kind,
                            "impact": owner.impact, "effort": owner.effort, "risk": owner.risk,
                            "file_sha256": sha})
    return changes


def _owner(edits: list[Edit], before: str, after: str) -> Edit:
    """The edit that produced a hunk: the one sharing the most distinctive new (else removed) lines with it."""
    def lines(text: str | list[str]) -> set[str]:
        items = text.splitlines() if isinstance(text, str) else text
        return {ln.strip() for ln in items if len(ln.strip()) > 3}

    added = lines(after) - lines(before)
    best = max(edits, key=lambda e: (len(lines(e.new_lines) & added), len(lines(e.old_lines) & lines(before))))
    return best


def file_state_bytes(root: Path, rel: str) -> bytes:
    """The file's bytes for the plan id; a path that leaves the root is never read (apply refuses it anyway)."""
    p = root / rel
    if Path(rel).is_absolute() or not Path(os.path.realpath(p)).is_relative_to(os.path.realpath(root)):
        return b"outside\0"
    try:
        return b"present\0" + p.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return b"absent\0"


def compute_plan_id(plan: dict[str, Any]) -> str:
    """sha256 over the canonical plan (without plan_id) and the current bytes of every file it touches."""
    body = {k: v for k, v in plan.items() if k != "plan_id"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    root = Path(plan["root"])
    for rel in sorted({c["file"] for c in plan["changes"]}):
        h.update(b"\0file\0" + rel.encode("utf-8") + b"\0")
        h.update(file_state_bytes(root, rel))
    return h.hexdigest()[:16]
