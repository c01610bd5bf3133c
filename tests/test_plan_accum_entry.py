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
HF_TEST = "tests/test_traindoc_hf_loss_scaled.py"  # the HF Trainer form: loss_is_scaled_for_ga = False
ENTRY_LAYOUTS = ("plain_argparse", "dataclass_config", "notebook_export", "mlflow_project", "hydra",
                 "hf_argparser_json")
# what each layout's test sets, as the plan located it: the launch flag, the dataclass field, the notebook's cell,
# the Hydra override of the primary config's key
SET_BY = {"plain_argparse": 'SETTING_ARGS = ["--grad_accum_steps", "{n}"]',
          "dataclass_config": 'SET_IN = "config.py"', "notebook_export": 'SET_IN = "letters_notebook.py"',
          "mlflow_project": 'SETTING_ARGS = ["--grad_accum_steps", "{n}"]',
          "hydra": 'SETTING_ARGS = ["trainer.grad_accum_steps={n}"]',
          "hf_argparser_json": 'CONFIG_FILE = "configs/train.json"'}
FELL_BACK = "def _source_check():\n    raise AssertionError('fell back to the source')\n\n\ndef _unused():"


def _test(name: str) -> str:
    return HF_TEST if name.startswith("hf_") else TEST


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
    test = _test(name)
    shutil.copy(root / test, original / test)
    for copy in (root, original):  # a pass or a failure must come from running the loop, never from the source
        text = (copy / test).read_text()
        (copy / test).write_text(text.replace("def _source_check():", FELL_BACK, 1))
    return root, original, plan


def _run_tests(tmp: Path, files: list[Path], env: dict[str, str] | None = None) -> dict[Path, str]:
    """pytest on the added tests (one process, as a project's suite runs them): per file, "passed" or "failed: "
    and the failure's message."""
    report = tmp / "report.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib", "-q",
                           # rooted above tmp: importlib mode names a test module by its folders from the root and
                           # registers each folder as a module, so a project copy named like a library (hydra/)
                           # would stand in for that library
                           f"--rootdir={tmp.parent}", f"--junitxml={report}", *map(str, files)], cwd=tmp,
                          capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert report.is_file(), proc.stdout[-4000:] + proc.stderr[-2000:]
    cases = list(ElementTree.parse(report).iter("testcase"))
    out = {}
    for f in files:
        key = ".".join(f.relative_to(tmp).with_suffix("").parts)
        case = next(c for c in cases if c.get("classname", "").endswith(key))
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        out[f] = "passed" if failure is None else f"failed: {failure.get('message', '')}"
    return out


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str, dict, str]]:
    """Per layout: (outcome on the fixed code, outcome on the original, the plan, the added test's text), all the
    added tests run by one pytest (as a project's suite runs them: one process)."""
    tmp = tmp_path_factory.mktemp("accum_entry")
    built = {name: _fixed_and_original(name, tmp) for name in ENTRY_LAYOUTS}
    got = _run_tests(tmp, [p / _test(n) for n, (root, original, _) in built.items() for p in (root, original)],
                     tool_env(tmp))
    return {name: (got[root / _test(name)], got[original / _test(name)], plan, (root / _test(name)).read_text())
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
     "grad_accum_steps is read from config.yaml, which no recovered launch command loads"),
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


NOISY = '''
    """A regression on noise targets (micro-batch gradients nearly uncorrelated), accumulated over
    --grad_accum_steps micro-batches."""

    import argparse

    import torch


    def main():
        p = argparse.ArgumentParser()
        p.add_argument("--grad_accum_steps", type=int, default=1)
        p.add_argument("--batch", type=int, default=32)
        p.add_argument("--out", default="runs/x")
        args = p.parse_args()
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for i in range(40 * args.grad_accum_steps):
            x, y = torch.randn({micro}, 16), torch.randn({micro}, 1)
            loss = (model(x) - y).pow(2).mean()
            loss.backward()
            if (i + 1) % args.grad_accum_steps == 0:
                opt.step()
                opt.zero_grad()


    if __name__ == "__main__":
        main()
    '''


@pytest.mark.slow
def test_accum_entry_test_on_an_argparse_default_and_its_fallback(tmp_path: Path) -> None:
    """A script whose accumulation is an argparse default (no launch flag): the test passes `--grad_accum_steps N`.
    Drawing its micro-batches from a seeded stream, the two runs see the same data and the comparison is exact, even
    with noise targets; drawing a micro-batch of batch // N, the runs' data differ and the test reads the source
    (with a warning), which still tells the fixed code from the original."""
    tests = []
    for case, micro in (("same", "args.batch"), ("split", "args.batch // args.grad_accum_steps")):
        root = tmp_path / case / "proj"
        original = textwrap.dedent(NOISY.format(micro=micro)).lstrip()
        plan = _plan_for(root, {"train.py": original})
        assert not plan["notes"], plan["notes"]
        assert apply_plan(plan, plan["plan_id"], run_the_tests=False).report["status"] == "applied"
        text = (root / TEST).read_text()
        assert 'SETTING_ARGS = ["--grad_accum_steps", "{n}"]' in text and 'ARGS = ["--out"' not in text, text
        unfixed = tmp_path / case / "original"
        shutil.copytree(root, unfixed)
        (unfixed / "train.py").write_text(original)
        strict = tmp_path / case / "strict"  # the fixed code, its source check made to fail
        shutil.copytree(root, strict)
        (strict / TEST).write_text(text.replace("def _source_check():", FELL_BACK, 1))
        tests += [root / TEST, unfixed / TEST, strict / TEST]
    got = _run_tests(tmp_path, tests)
    same, same_unfixed, same_strict, split, split_unfixed, split_strict = (got[t] for t in tests)
    assert same == "passed" and same_strict == "passed", (same, same_strict)
    assert same_unfixed.startswith("failed") and "4.00x the mean" in same_unfixed, same_unfixed
    assert split == "passed" and "fell back to the source" in split_strict, (split, split_strict)
    assert split_unfixed.startswith("failed") and "back-propagated undivided" in split_unfixed, split_unfixed
