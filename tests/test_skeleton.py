"""The contracts every stage relies on: the CLI entry point, the schemas and the cause vocabulary."""

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[1]


def test_cli_version():
    out = subprocess.run([sys.executable, "-m", "traindoc", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("traindoc ")


def test_schemas_are_valid_json_schema():
    for name in ("diagnosis", "plan", "report"):
        schema = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)


def test_cause_enum_matches_the_vocabulary():
    """The schema's enum, docs/causes.md and the registry list the same ids in the same order."""
    from traindoc.causes import IDS

    schema = json.loads((ROOT / "schemas" / "diagnosis.schema.json").read_text())
    enum = schema["$defs"]["cause"]["enum"]
    ids = re.findall(r"^\| `([a-z0-9_]+)` \|", (ROOT / "docs" / "causes.md").read_text(), flags=re.M)
    assert ids, "docs/causes.md not parsed"
    assert enum == ids == list(IDS)
