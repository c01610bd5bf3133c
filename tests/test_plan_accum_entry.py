"""The grad_accum_bug regression test where the accumulation loop is not a function a test can call (inside
`main()`, or at module level in a notebook export): it runs the project's entry script to its first optimizer step
with the accumulation setting at 1 and at 4, set where the plan found that the next run reads it (a launch flag, a
dataclass default, a notebook cell's assignment), and compares the gradients (plan/entry_probe.py).

On the four user-project layouts whose loop is fixed by `(loss / N).backward()` (plain argparse + launch script,
dataclass config module, notebook export, MLflow Project; their faulty run trained once, tests/userproj_cache.py):
the added test passes on the fixed code with its source-check fallback made to fail (so its verdict comes from
running the loop), and fails on the unfixed code with the behavioural assertion. Where the test cannot be built from
what the plan located, the plan's notes say why and the test reads the source.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pytest

from traindoc.apply.run import apply_plan
from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import load_run
from traindoc.plan.build import build_plan
from userproj.layouts import tool_env
from userproj_cache import shared_prepare

TEST = "tests/test_traindoc_accum_scale.py"
ENTRY_LAYOUTS = ("plain_argparse", "dataclass_config", "notebook_export", "mlflow_project")
# what each layout's test sets, as the plan located it: the launch flag, the dataclass field, the notebook's cell
SET_BY = {"plain_argparse": 'SETTING_ARGS = ["--grad_accum_steps", "{n}"]',
          "dataclass_config": 'SET_IN = "config.py"', "notebook_export": 'SET_IN = "letters_notebook.py"',
          "mlflow_project": 'SETTING_ARGS = ["--grad_accum_steps", "{n}"]'}
FELL_BACK = "def _source_check():\n    raise AssertionError('fell back to the source')\n\n\ndef _unused():"


def _fixed_and_original(name: str, tmp: Path) -> tuple[Path, Path, dict]:
    """(the project with the plan applied, a copy of it as the faulty run left it with the added test, the plan)."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in tool_env(tmp / name).items():
            mp.setenv(k, v)
        root, run = shared_prepare(name, tmp, "grad_accum_bug")
    original = tmp / f"{name}-original"
    shutil.copytree(root, original, symlinks=True)
    paths = [str(root / run)]
    diag = diagnose(load_run(paths), paths)
    (root / "diagnosis.json").write_text(json.dumps(diag))
    plan = build_plan(diag, str(root / "diagnosis.json"), fix="grad_accum_bug", root=str(root))
    assert apply_plan(plan, plan["plan_id"], run_the_tests=False).report["status"] == "applied"
    (original / "tests").mkdir(exist_ok=True)
    shutil.copy(root / TEST, original / TEST)
    for copy in (root, original):  # a pass or a failure must come from running the loop, never from the source
        text = (copy / TEST).read_text()
        (copy / TEST).write_text(text.replace("def _source_check():", FELL_BACK, 1))
    return root, original, plan


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str, dict, str]]:
    """Per layout: (outcome on the fixed code, outcome on the original, the plan, the added test's text), all the
    added tests run by one pytest (as a project's suite runs them: one process)."""
    tmp = tmp_path_factory.mktemp("accum_entry")
    built = {name: _fixed_and_original(name, tmp) for name in ENTRY_LAYOUTS}
    files = [str(p / TEST) for root, original, _ in built.values() for p in (root, original)]
    report = tmp / "report.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib", "-q",
                           f"--junitxml={report}", *files], cwd=tmp, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **tool_env(tmp)})
    assert report.is_file(), proc.stdout[-4000:] + proc.stderr[-2000:]
    cases = {c.get("classname", ""): c for c in ElementTree.parse(report).iter("testcase")}

    def outcome(root: Path) -> str:
        """"passed", or "failed: " and the failure's message."""
        case = next((c for k, c in cases.items() if f"{root.name}.tests.test_traindoc_accum_scale" in k), None)
        assert case is not None, (sorted(cases), proc.stdout[-4000:])
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        return "passed" if failure is None else f"failed: {failure.get('message', '')}"

    return {name: (outcome(root), outcome(original), plan, (root / TEST).read_text())
            for name, (root, original, plan) in built.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRY_LAYOUTS)
def test_accum_regression_test_runs_the_entry_point(outcomes: dict, name: str) -> None:
    fixed, original, plan, text = outcomes[name]
    assert "def test_fixed_accumulation_behaves" in text and SET_BY[name] in text, text
    assert not [n for n in plan["notes"] if n.startswith("grad_accum_bug: the regression test")], plan["notes"]
    assert fixed == "passed", fixed
    # the behavioural assertion fails: 4 undivided micro-batches give 4x the mean of 4 micro-batch gradients
    assert original.startswith("failed") and "is not divided by the accumulation steps" in original, original
    ratio = float(re.search(r"gradient ([0-9.]+)x the mean", original).group(1))
    assert 3.0 < ratio < 4.5, original


def _plan_for(root: Path, files: dict[str, str]) -> dict:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    diagnosis = {"root_causes": [{"rank": 1, "cause": "grad_accum_bug", "confidence": 0.9, "evidence": ["e"],
                                  "fix": {"summary": "divide", "changes": []}, "impact": "high", "effort": "low",
                                  "risk": "low", "expected_outcome": []}],
                 "run": {"paths": [], "code_files": [], "step_range": [0, 100]}}
    (root.parent / "diagnosis.json").write_text(json.dumps(diagnosis))
    return build_plan(diagnosis, str(root.parent / "diagnosis.json"), root=str(root))


LOOP = textwrap.dedent("""
    def main():
        model = torch.nn.Linear(3, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for i in range(8):
            loss = model(torch.randn(4, 3)).pow(2).mean()
            loss.backward()
            if (i + 1) % {divisor} == 0:
                opt.step()
                opt.zero_grad()
    """)


@pytest.mark.parametrize(("files", "why"), [
    ({"train.py": "import torch\n" + LOOP.format(divisor="4") + "\n\nif __name__ == '__main__':\n    main()\n"},
     "the accumulation steps are the constant 4"),
    ({"train.py": "import types\n\nimport torch\nimport yaml\n\ncfg = types.SimpleNamespace(**yaml.safe_load("
                  "open('config.yaml')))\n" + LOOP.format(divisor="cfg.grad_accum_steps") +
      "\n\nif __name__ == '__main__':\n    main()\n", "config.yaml": "grad_accum_steps: 4\n"},
     "grad_accum_steps is read from config.yaml, which the test cannot set for one run"),
    ({"lib.py": "import torch\n\nSTEPS = 4\n" + LOOP.format(divisor="STEPS")},
     "does not run the loop as a script"),
])
def test_accum_regression_test_reads_the_source_and_says_why(tmp_path: Path, files: dict[str, str], why: str
                                                               ) -> None:
    """Where the plan cannot build the run (a constant N, a setting in a YAML file, a loop no script runs), the
    test checks the division in the source, and the plan's notes say why."""
    plan = _plan_for(tmp_path / "proj", files)
    notes = [n for n in plan["notes"] if n.startswith("grad_accum_bug: the regression test")]
    assert len(notes) == 1 and why in notes[0], plan["notes"]
    test = next(c for c in plan["changes"] if c["file"] == TEST)
    assert "def _source_check" not in str(test) and "def test_accumulated_loss_is_divided_once" in str(test)
