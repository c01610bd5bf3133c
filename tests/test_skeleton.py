"""The contracts every stage relies on: the CLI entry point, the schemas and the cause vocabulary."""

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
CAUSES_MD = ROOT.parent / "shared" / "spec" / "causes.md"


def test_cli_version():
    out = subprocess.run([sys.executable, "-m", "traindoc", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("traindoc ")


def test_schemas_are_valid_json_schema():
    for name in ("diagnosis", "plan", "report"):
        schema = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)


def test_cause_enum_matches_causes_md():
    schema = json.loads((ROOT / "schemas" / "diagnosis.schema.json").read_text())
    enum = schema["$defs"]["cause"]["enum"]
    if not CAUSES_MD.exists():  # CI lays shared/ beside the clone; a bare clone elsewhere has no spec to compare
        pytest.skip(f"{CAUSES_MD} not present: cannot compare the schema's cause enum with the spec")
    ids = re.findall(r"^\| `([a-z0-9_]+)` \|", CAUSES_MD.read_text(), flags=re.M)
    assert ids, "causes.md not found or not parsed"
    assert enum == ids
