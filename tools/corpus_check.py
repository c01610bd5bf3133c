"""Validate the real-world log corpus under tests/corpus/realworld/ and print its make-up.

Every entry is a folder `<id>/` with `run/` (the artifacts as their owner had them: what `traindoc diagnose`
reads), `SOURCE.md` (where it came from and how its cause was confirmed) and `label.json`. The layout and the
label fields are described in tests/corpus/README.md. This script checks each entry and prints counts by label,
format, source kind, stack and model family; it exits 1 when an entry is malformed.

    PYTHONPATH=src .venv/bin/python tools/corpus_check.py [CORPUS_DIR]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "tests" / "corpus" / "realworld"
# The whole corpus must stay small enough to commit (issue 8: <= 60 MB); one run/ folder is kept far below that.
MAX_ENTRY_BYTES = 4 * 1024 * 1024
FAMILY_KEYS = ("source", "stack", "model_family")
URL = re.compile(r"https?://\S+")


def cause_ids() -> set[str]:
    """The cause vocabulary, read from the packaged diagnosis schema (its `cause` enum)."""
    text = resources.files("traindoc").joinpath("schemas/diagnosis.schema.json").read_text()
    return set(json.loads(text)["$defs"]["cause"]["enum"])


def check_entry(entry: Path, causes: set[str]) -> tuple[dict | None, list[str]]:
    """The entry's label (or None) and the problems found in it."""
    problems: list[str] = []
    run = entry / "run"
    files = [p for p in run.rglob("*") if p.is_file()] if run.is_dir() else []
    if not files:
        problems.append("run/ is missing or empty")
    elif sum(p.stat().st_size for p in files) > MAX_ENTRY_BYTES:
        problems.append(f"run/ is larger than {MAX_ENTRY_BYTES} bytes")
    for name in ("SOURCE.md", "label.json"):
        if (run / name).exists():
            problems.append(f"{name} sits inside run/, where diagnose would read it")
    source = entry / "SOURCE.md"
    if not source.is_file():
        problems.append("SOURCE.md is missing")
    elif not URL.search(source.read_text(encoding="utf-8")):
        problems.append("SOURCE.md has no URL")
    try:
        label = json.loads((entry / "label.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        problems.append(f"label.json unreadable: {e}")
        return None, problems
    cause = label.get("cause")
    if cause != "healthy" and cause not in causes:
        problems.append(f"label cause {cause!r} is neither 'healthy' nor a cause id")
    family = label.get("family")
    if not isinstance(family, dict) or any(not family.get(k) for k in FAMILY_KEYS):
        problems.append(f"label family must give {', '.join(FAMILY_KEYS)}")
    for key in ("confirmed_by", "format"):
        if not label.get(key):
            problems.append(f"label has no {key}")
    return label, problems


def main(argv: list[str]) -> int:
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    entries = sorted(p for p in corpus.iterdir() if p.is_dir())
    causes = cause_ids()
    labels: dict[str, dict] = {}
    bad = 0
    for entry in entries:
        label, problems = check_entry(entry, causes)
        for p in problems:
            print(f"{entry.name}: {p}")
        bad += bool(problems)
        if label is not None:
            labels[entry.name] = label
    size = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
    print(f"\n{len(entries)} entries, {bad} with problems, {size / 1e6:.1f} MB")
    healthy = sum(lb.get("cause") == "healthy" for lb in labels.values())
    print(f"healthy {healthy}, faulty {len(labels) - healthy}")
    tables = {
        "label": Counter(lb.get("cause") for lb in labels.values()),
        "format": Counter(lb.get("format") for lb in labels.values()),
        **{k: Counter((lb.get("family") or {}).get(k) for lb in labels.values()) for k in FAMILY_KEYS},
        "confirmed_by": Counter(str(lb.get("confirmed_by", "")).split(" ")[0] for lb in labels.values()),
    }
    for name, counts in tables.items():
        print(f"\nby {name} ({len(counts)} distinct)")
        for key, n in counts.most_common():
            print(f"  {n:4d}  {key}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
