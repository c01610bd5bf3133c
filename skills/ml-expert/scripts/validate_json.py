"""Validate a traindoc JSON document (diagnosis, plan or implementation report) against the backend's schema.

Run by the skills in their validate -> fix -> repeat loop, before a document is shown or acted on:

    validate-json diagnosis .traindoc/diagnosis.json

Valid: one summary line on stdout (for a plan it carries the plan_id the user must approve), exit 0.
Invalid: one line per error, `<json path>: <message>`, at most MAX_ERRORS of them, exit 1.
Unreadable file, bad JSON or bad arguments: one line on stderr, exit 2.
Besides the schema it checks what the schema cannot say: ranks run 1..n in order, and (for a diagnosis) a verdict
of problems_found has at least one root cause.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

KINDS = ("diagnosis", "plan", "report")
MAX_ERRORS = 20  # enough to fix a document in one pass, small enough not to flood the conversation


def load_schema(kind: str) -> dict:
    # The schema ships inside the installed traindoc package, so the check always matches the backend that will
    # read the document.
    text = (resources.files("traindoc") / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def extra_checks(kind: str, doc: dict) -> list[str]:
    errors: list[str] = []
    if kind == "diagnosis" and isinstance(doc.get("root_causes"), list):
        ranks = [c.get("rank") for c in doc["root_causes"] if isinstance(c, dict)]
        if ranks != list(range(1, len(ranks) + 1)):
            errors.append(f"root_causes: ranks must be 1..{len(ranks)} in order, found {ranks}")
        if doc.get("verdict") == "problems_found" and not ranks:
            errors.append("verdict: 'problems_found' needs at least one root cause (else 'healthy' or "
                          "'insufficient_data')")
    return errors


def summary(kind: str, doc: dict, path: str) -> str:
    if kind == "diagnosis":
        causes = doc.get("root_causes", [])
        top = (f"; top cause #1 {causes[0]['cause']} at confidence {causes[0]['confidence']:.2f}"
               if causes else "")
        return f"{path}: valid diagnosis, verdict {doc['verdict']}, {len(causes)} root cause(s){top}"
    if kind == "plan":
        files = sorted({c["file"] for c in doc.get("changes", [])})
        return (f"{path}: valid plan, plan_id {doc['plan_id']}, {len(doc.get('changes', []))} change(s) in "
                f"{', '.join(files) or 'no files'}; tests: {doc['tests'].get('run', '')}")
    restored = doc.get("restored_files") or []
    extra = f"; restored {', '.join(restored)}" if restored else ""
    reason = f"; reason: {doc['reason']}" if doc.get("reason") else ""
    return f"{path}: valid report, status {doc['status']}, tests: {doc['tests']}{reason}{extra}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS:
        print(f"usage: validate-json {{{'|'.join(KINDS)}}} FILE", file=sys.stderr)
        return 2
    kind, path = argv
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        print(f"validate-json: cannot read {path}: {e.strerror or e}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as e:
        print(f"validate-json: {path} is not JSON: {e.msg} at line {e.lineno} column {e.colno}", file=sys.stderr)
        return 2
    try:
        import jsonschema
        schema = load_schema(kind)
    except (ImportError, FileNotFoundError, ModuleNotFoundError) as e:
        print(f"validate-json: traindoc backend incomplete ({e}); re-run install.sh", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{e.json_path}: {e.message}" for e in sorted(validator.iter_errors(doc), key=lambda e: e.json_path)]
    if not errors and isinstance(doc, dict):
        errors = extra_checks(kind, doc)
    if errors:
        for line in errors[:MAX_ERRORS]:
            print(line)
        if len(errors) > MAX_ERRORS:
            print(f"... and {len(errors) - MAX_ERRORS} more")
        print(f"{path}: INVALID {kind} ({len(errors)} error(s)); fix them and run validate-json again")
        return 1
    print(summary(kind, doc, path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
