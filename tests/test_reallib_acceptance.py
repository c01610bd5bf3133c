"""Acceptance (issue 3): `traindoc diagnose RUN --json` on real HF Trainer and Lightning runs, produced here on CPU
with injected faults, names the injected cause first on at least 90% of them.

Scoring, per run:
- faulted run: correct when root_causes[0].cause is the injected cause (the label in reallib.LABELS);
- healthy run: correct when the verdict is `healthy` and no root cause reaches confidence 0.5 (docs/causes.md).
The diagnosis is run exactly as a user would: the CLI on the run folder, nothing else passed (no --config/--code),
and its JSON must validate against schemas/diagnosis.schema.json. On failure the message lists every run with what
was predicted, so a miss can be traced without rerunning. The bar holds per library (one test each): with a cold
cache each test trains its own library's 8 runs, so pytest-xdist runs the two trainings on its two workers (one test
over all 16 runs trained them for ~140 s on one worker of the suite's CI). A library's missing runs train one after
another in one interpreter (reallib.ensure_runs: the library imported once, not once per run). Per library, 90% of 8
runs is all 8, at least as strict as 90% of the 16 together. The CLI's main() runs in this process (`python -m
traindoc` is that function; tests/test_skeleton.py runs the module itself), once per run.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reallib import LABELS, LIBS, ensure_runs, reallib_run
from traindoc.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_ACCURACY = 0.90


def diagnose(run: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["diagnose", str(run), "--json"])
    out = capsys.readouterr()
    assert code == 0, f"diagnose {run.name} exit {code}: {out.err.strip()[-500:]}"
    return json.loads(out.out)


def verdict_line(label: str | None, diagnosis: dict) -> tuple[bool, str]:
    causes = diagnosis.get("root_causes") or []
    ranked = ", ".join(f"{c['cause']} {c['confidence']:.2f}" for c in causes[:3]) or "none"
    if label is None:
        ok = diagnosis["verdict"] == "healthy" and all(c["confidence"] < 0.5 for c in causes)
    else:
        ok = bool(causes) and causes[0]["cause"] == label
    return ok, f"verdict {diagnosis['verdict']}; top: {ranked}"


# With a cold cache each test trains its library's 8 runs, one at a time in one interpreter (~1.6 CPU-minutes for
# Lightning's, 2026-12-07; several wall minutes on a loaded 2-core box, where the other xdist worker trains the other
# library), so it gets a longer limit than the suite's default 600 s.
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("lib", LIBS)
def test_top1_accuracy_on_real_library_runs(lib: str, capsys: pytest.CaptureFixture[str]):
    schema = json.loads((ROOT / "schemas" / "diagnosis.schema.json").read_text())
    faults = [fault for (run_lib, fault) in LABELS if run_lib == lib]
    # the missing runs trained in one interpreter, the library imported once (reallib.batch); a run it could not
    # finish is trained on its own by reallib_run below, where its error is reported
    ensure_runs(lib, faults)
    lines, correct = [], 0
    for fault in faults:
        label = LABELS[(lib, fault)]
        try:
            path = reallib_run(lib, fault)  # trained here unless cached (or waited for, if another process is)
            diagnosis = diagnose(path, capsys)
            jsonschema.validate(diagnosis, schema)
            ok, detail = verdict_line(label, diagnosis)
        except (AssertionError, json.JSONDecodeError, jsonschema.ValidationError) as e:
            ok, detail = False, f"error: {str(e).splitlines()[0][:300]}"
        correct += ok
        lines.append(f"{'ok  ' if ok else 'MISS'} {lib:<9} {fault:<18} expected {label or 'healthy':<18} {detail}")
    accuracy = correct / len(faults)
    report = "\n".join(lines)
    print(f"\n{lib}: top-1 accuracy {accuracy:.1%} ({correct}/{len(faults)})\n{report}")
    assert accuracy >= REQUIRED_ACCURACY, f"top-1 accuracy {accuracy:.1%} < {REQUIRED_ACCURACY:.0%}:\n{report}"
