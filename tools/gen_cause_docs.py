"""Generate the texts derived from the cause registry (src/traindoc/causes/, one module per cause):

- docs/causes.md: the cause vocabulary (ids, what each is, typical evidence, typical fix);
- skills/ml-training-debugger/references/failure-modes.md: the guide Claude consults in the skill's analysis
  phase (the vocabulary plus what tells look-alikes apart);
- the `$defs.cause.enum` of src/traindoc/schemas/diagnosis.schema.json.

    python tools/gen_cause_docs.py            # rewrite all three
    python tools/gen_cause_docs.py --check    # exit 1 when a committed copy is out of date

tests/test_causes_registry.py runs the check, so a cause edited in its module and not regenerated fails the suite.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from traindoc.causes import docs  # noqa: E402

VOCABULARY = ROOT / "docs" / "causes.md"
GUIDE = ROOT / "skills" / "ml-training-debugger" / "references" / "failure-modes.md"
SCHEMA = ROOT / "src" / "traindoc" / "schemas" / "diagnosis.schema.json"


def expected() -> dict[Path, str]:
    """Each generated file and the text it must hold."""
    schema = SCHEMA.read_text(encoding="utf-8")
    return {VOCABULARY: docs.render_vocabulary(), GUIDE: docs.render_guide(), SCHEMA: docs.render_schema(schema)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed copy is out of date")
    args = ap.parse_args(argv)
    try:
        want = expected()
    except (OSError, ValueError) as e:
        print(f"gen_cause_docs: {e}", file=sys.stderr)
        return 2
    stale = [p for p, text in want.items() if (p.read_text(encoding="utf-8") if p.exists() else "") != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is out of date: run python tools/gen_cause_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_text(want[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
