"""The regression tests a plan adds for the settings it changes (plan/setting_test.py) test behaviour: each loads
the setting the way the project loads it, passes on the fixed project and FAILS on the unfixed one.

Per layout (tests/userproj/): a copy is planned and applied (test_plan_more_fixes.fix), the added
`tests/test_traindoc_<cause>_settings.py` is run with pytest in the fixed copy (it must pass) and in a copy with
the edited files put back to their original bytes (it must fail). The loader each used is asserted too, so a test
that fell back to reading the literal where the project's own loader could run would show here.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from test_plan_more_fixes import fix, layout
from userproj.layouts import DC_MODEL, DC_WARMUP, NB_MODEL


def _pytest(root: Path, files: list[str]) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           *files], cwd=root, capture_output=True, text=True, env=env, timeout=600)
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]


def fixed_and_unfixed(root: Path, cause: str, tmp: Path, steps: int = 200) -> tuple[dict[str, Any], list[str]]:
    """Plan + apply `cause` into `root`; run the added settings test on the fixed copy (must pass) and on a copy
    with the edited files restored (must fail). Returns the plan and the added test's SETTINGS entries' kinds."""
    original = tmp / "original"
    shutil.copytree(root, original)
    plan = fix(root, cause, steps)
    added = [c["file"] for c in plan["changes"] if c["kind"] == "new_file" and "_settings" in c["file"]]
    assert len(added) == 1, plan["changes"]
    assert _pytest(root, added).startswith("1 passed"), (root / added[0]).read_text()[-3000:]
    unfixed = tmp / "unfixed"
    shutil.copytree(root, unfixed, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    for c in plan["changes"]:
        if c["kind"] != "new_file":
            shutil.copyfile(original / c["file"], unfixed / c["file"])
    assert _pytest(unfixed, added).startswith("1 failed"), "the settings test passed on the unfixed project"
    text = (root / added[0]).read_text()
    settings = ast.literal_eval(text.split("SETTINGS = ", 1)[1].split("\nHALF = ", 1)[0])
    return plan, [s["kind"] + ":" + s.get("parser", s.get("callee_module", "")) for s in settings]


def test_json_the_launch_loads(tmp_path: Path) -> None:
    _, kinds = fixed_and_unfixed(layout("hf_argparser_json", tmp_path / "p"), "no_warmup", tmp_path)
    assert kinds == ["json:"]


def test_launch_flags_parsed_by_hf_argument_parser(tmp_path: Path) -> None:
    _, kinds = fixed_and_unfixed(layout("hf_argparser_flags", tmp_path / "p"), "lr_too_high", tmp_path)
    assert kinds == ["launch:hf"]


def test_launch_flag_parsed_by_the_scripts_own_argparse(tmp_path: Path) -> None:
    _, kinds = fixed_and_unfixed(layout("plain_argparse", tmp_path / "p"), "lr_too_high", tmp_path)
    assert kinds == ["launch:argparse"]


def test_argparse_default_from_the_projects_get_args(tmp_path: Path) -> None:
    root = layout("plain_argparse", tmp_path / "p", {"train.sh": ("--lr 0.5 ", "")})
    _, kinds = fixed_and_unfixed(root, "lr_too_high", tmp_path)
    assert kinds == ["argparse_default:"]


def test_dataclass_default_built(tmp_path: Path) -> None:
    _, kinds = fixed_and_unfixed(layout("dataclass_config", tmp_path / "p"), "lr_too_high", tmp_path)
    assert kinds == ["dataclass_default:"]


def test_norm_switch_dataclass_default_built(tmp_path: Path) -> None:
    """vanishing_gradients on the dataclass module: its TrainConfig's LayerNorm switch turned back on, read by
    building TrainConfig() as train.py does (False on the unfixed copy: the test fails there)."""
    fault = DC_MODEL.format(depth=8, act="sigmoid", norm=False)
    root = layout("dataclass_config", tmp_path / "p",
                  {"config.py": (DC_MODEL.format(depth=0, act="tanh", norm=True), fault)})
    _, kinds = fixed_and_unfixed(root, "vanishing_gradients", tmp_path)
    assert kinds == ["dataclass_default:"]
    assert DC_MODEL.format(depth=8, act="sigmoid", norm=True) in (root / "config.py").read_text()


def test_norm_switch_in_a_notebook_cell(tmp_path: Path) -> None:
    """The notebook export's `use_layer_norm = False` cell assignment turned back on; the module trains when
    imported, so the added test reads the assignment from the file (False on the unfixed copy: it fails there)."""
    root = layout("notebook_export", tmp_path / "p", {"letters_notebook.py": (
        NB_MODEL.format(depth=0, act="tanh", norm=True), NB_MODEL.format(depth=8, act="sigmoid", norm=False))})
    _, kinds = fixed_and_unfixed(root, "vanishing_gradients", tmp_path)
    assert kinds == ["python_assign:"]
    assert NB_MODEL.format(depth=8, act="sigmoid", norm=True) in (root / "letters_notebook.py").read_text()


def test_nanogpt_config_module_and_override(tmp_path: Path) -> None:
    """nanoGPT's config file is exec()ed (the warmup lives there); its Makefile's `--max_iters=200` is the run."""
    _, kinds = fixed_and_unfixed(layout("nanogpt", tmp_path / "p"), "no_warmup", tmp_path)
    assert kinds == ["python_assign:"]


def test_hydra_override_on_the_launch_line(tmp_path: Path) -> None:
    _, kinds = fixed_and_unfixed(layout("hydra", tmp_path / "p"), "lr_too_high", tmp_path)
    assert kinds == ["launch:raw"]


def test_hydra_warmup_longer_than_the_run_in_the_primary_config(tmp_path: Path) -> None:
    """scheduler_misuse on Hydra: the cosine turned on under a 1000-step warmup in conf/config.yaml, the run's length
    the launch line's `trainer.max_steps=200`; the warmup is cut in the YAML and the added test parses it there and
    checks it ends inside the run (1000 on the unfixed copy: it fails there)."""
    root = layout("hydra", tmp_path / "p", {"conf/config.yaml": ("  warmup_steps: 0\n  schedule: constant",
                                                                 "  warmup_steps: 1000\n  schedule: cosine")})
    _, kinds = fixed_and_unfixed(root, "scheduler_misuse", tmp_path)
    assert kinds == ["yaml:"]
    assert "  warmup_steps: 10\n  schedule: cosine" in (root / "conf/config.yaml").read_text()


def test_hydra_missing_warmup_on_the_launch_line(tmp_path: Path) -> None:
    """no_warmup on Hydra: run.sh continues a base run's weights with `optim.warmup_steps=0` on its line; the warmup is
    set there (the override beats conf/config.yaml) and the added test reads it from the line (0 unfixed: it fails)."""
    line = "model.width=512 optim.lr=3e-3 optim.warmup_steps={n} trainer.max_steps=200 trainer.init_from=base/model.pt"
    root = layout("hydra", tmp_path / "p", {"run.sh": ("optim.lr=1.0 trainer.max_steps=200", line.format(n=0))})
    _, kinds = fixed_and_unfixed(root, "no_warmup", tmp_path)
    assert kinds == ["launch:raw"]
    assert line.format(n=10) in (root / "run.sh").read_text()


def test_dataclass_warmup_longer_than_the_run(tmp_path: Path) -> None:
    """scheduler_misuse on the dataclass module: TrainConfig's cosine under a 1000-step warmup in a 300-step run;
    the field default is cut and the added test builds TrainConfig() and checks the warmup ends inside the run."""
    root = layout("dataclass_config", tmp_path / "p", {"config.py": (DC_WARMUP.format(n=0, schedule="constant"),
                                                                     DC_WARMUP.format(n=1000, schedule="cosine"))})
    _, kinds = fixed_and_unfixed(root, "scheduler_misuse", tmp_path, steps=300)
    assert kinds == ["dataclass_default:"]
    assert DC_WARMUP.format(n=15, schedule="cosine") in (root / "config.py").read_text()


def test_lightning_warmup_longer_than_the_run_in_the_model_call(tmp_path: Path) -> None:
    """scheduler_misuse on Lightning in code: the cosine turned on under a 1000-step warmup in the LetterModel(...)
    call, the run's length the Trainer's max_steps=200; the keyword is cut and the added test reads its literal in
    the call (the project's own class, which it does not build) and checks the warmup ends inside the run (1000 on
    the unfixed copy: it fails there)."""
    root = layout("lightning_code", tmp_path / "p", {"train.py": ('warmup_steps=0, schedule="constant")',
                                                                  'warmup_steps=1000, schedule="cosine")')})
    _, kinds = fixed_and_unfixed(root, "scheduler_misuse", tmp_path)
    assert kinds == ["python_kwarg:"], kinds
    assert 'warmup_steps=10, schedule="cosine")' in (root / "train.py").read_text()


def test_lightning_cli_warmup_longer_than_the_run_in_the_yaml(tmp_path: Path) -> None:
    """The same on LightningCLI: model.warmup_steps in the configs/fit.yaml the Makefile loads, the length its
    trainer.max_steps; the added test parses the YAML."""
    root = layout("lightning_cli", tmp_path / "p", {"configs/fit.yaml": ("  warmup_steps: 0\n  schedule: constant",
                                                                         "  warmup_steps: 1000\n  schedule: cosine")})
    _, kinds = fixed_and_unfixed(root, "scheduler_misuse", tmp_path)
    assert kinds == ["yaml:"], kinds
    assert "  warmup_steps: 10\n  schedule: cosine" in (root / "configs/fit.yaml").read_text()


def test_fp16_to_bf16_training_arguments_runs_the_autocast(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path / "p", {"train.py": ("        use_cpu=True,\n", "        use_cpu=True,\n"
                                                                                       "        fp16=True,\n")})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["python_kwarg:transformers", "python_kwarg:transformers"]


def test_fp16_to_bf16_lightning_trainer_precision(tmp_path: Path) -> None:
    root = layout("lightning_code", tmp_path / "p", {"train.py": ('accelerator="cpu",', 'accelerator="cpu", '
                                                                                       'precision="16-mixed",')})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["python_kwarg:pytorch_lightning"]


def test_fp16_to_bf16_dataclass_dtype_built(tmp_path: Path) -> None:
    """fp16_overflow on the dataclass module: TrainConfig's dtype (the model cast to it, AdamW's state with it) from
    float16 to bfloat16; the added test builds TrainConfig() and reads the dtype (float16 on the unfixed copy)."""
    root = layout("dataclass_config", tmp_path / "p", {"config.py": ('dtype: str = "float32"',
                                                                     'dtype: str = "float16"')})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["dataclass_default:"], kinds
    assert 'dtype: str = "bfloat16"' in (root / "config.py").read_text()


def test_fp16_to_bf16_hydra_dtype_in_the_primary_config(tmp_path: Path) -> None:
    """The same on Hydra: trainer.dtype in conf/config.yaml; the added test parses the YAML."""
    root = layout("hydra", tmp_path / "p", {"conf/config.yaml": ("  dtype: float32", "  dtype: float16")})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["yaml:"], kinds
    assert "  dtype: bfloat16" in (root / "conf/config.yaml").read_text()


def test_fp16_to_bf16_plain_argparse_launch_flag(tmp_path: Path) -> None:
    """The same on the plain argparse layout: `--dtype float16` on train.sh's launch line (the argparse default
    float32); the added test parses the launch line with the script's own parser."""
    root = layout("plain_argparse", tmp_path / "p", {"train.sh": ("--steps 150", "--steps 150 --dtype float16")})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["launch:argparse"], kinds
    assert "--steps 150 --dtype bfloat16" in (root / "train.sh").read_text()


def test_fp16_to_bf16_notebook_settings_cell(tmp_path: Path) -> None:
    """The same on the notebook export: `dtype = "float16"` in its settings cell (the model cast to it); the module
    trains when imported, so the added test reads the assignment from the file (float16 on the unfixed copy)."""
    root = layout("notebook_export", tmp_path / "p", {"letters_notebook.py": ('dtype = "float32"',
                                                                              'dtype = "float16"')})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["python_assign:"], kinds
    assert 'dtype = "bfloat16"' in (root / "letters_notebook.py").read_text()


def test_fp16_to_bf16_accelerate_yaml(tmp_path: Path) -> None:
    root = layout("accelerate_deepspeed", tmp_path / "p", {"accelerate_config.yaml": ("mixed_precision: 'no'",
                                                                                      "mixed_precision: 'fp16'")})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["yaml:"]


def test_fp16_to_bf16_hf_model_torch_dtype_launch_flag(tmp_path: Path) -> None:
    """The HfArgumentParser layouts' ModelArguments.torch_dtype (the model loaded in float16, as HF's run_clm.py
    does), a flag of launch.sh: "float16" -> "bfloat16"; the added test reads the flag HfArgumentParser leaves to the
    script's own dataclass as given, and fails on the unfixed copy."""
    root = layout("hf_argparser_flags", tmp_path / "p", {"launch.sh": (
        "--report_to none \\\n", "--report_to none \\\n    --torch_dtype float16 \\\n")})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path)
    assert kinds == ["launch:hf"], kinds
    assert "--torch_dtype bfloat16 \\" in (root / "launch.sh").read_text()


@pytest.mark.parametrize("check", ["clip"])
def test_grad_clip_setting_clips_a_huge_gradient(tmp_path: Path, check: str) -> None:
    root = layout("hf_argparser_flags", tmp_path / "p")
    plan, kinds = fixed_and_unfixed(root, "grad_explosion", tmp_path)
    assert kinds == ["launch:hf"]


# ------------------------------------------------------------------------------- gradient accumulation, run
GLOBAL_ACCUM = '''"""Accumulation set at module level."""

import torch.nn.functional as F

ACCUM = 4


def train(model, optimizer, loader):
    for step, (x, y) in enumerate(loader):
        F.mse_loss(model(x), y).backward()
        if (step + 1) % ACCUM == 0:
            optimizer.step()
            optimizer.zero_grad()
'''


@pytest.mark.parametrize("source", ["argument", "module"])
def test_accumulation_test_runs_two_micro_steps_against_the_whole_batch(tmp_path: Path, source: str) -> None:
    """The added test runs the fixed loop: N=2 on two halves of a batch must equal N=1 on the whole batch. It
    passes on the fixed code, fails on the original, and still passes with its source check made to fail."""
    from test_plan_more_fixes import ACCUM_TRAIN

    root = layout("dataclass_config", tmp_path / "p")
    (root / "train.py").write_text(ACCUM_TRAIN if source == "argument" else GLOBAL_ACCUM)
    original = tmp_path / "original"
    shutil.copytree(root, original)
    plan = fix(root, "grad_accum_bug")
    (added,) = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    text = (root / added).read_text()
    assert "def test_fixed_" in text and "run_accum" in text
    assert _pytest(root, [added]).startswith("1 passed"), text
    unfixed = tmp_path / "unfixed"
    shutil.copytree(root, unfixed, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    shutil.copyfile(original / "train.py", unfixed / "train.py")
    assert _pytest(unfixed, [added]).startswith("1 failed")
    (root / added).write_text(text.replace("def _source_check():", "def _source_check():\n    raise AssertionError("
                                           "'fell back')\n\n\ndef _unused():", 1))
    assert _pytest(root, [added]).startswith("1 passed"), "the verdict came from the source check"


def test_a_new_file_in_a_missing_folder_is_written_at_its_path(tmp_path: Path) -> None:
    """The journal's target for `tests/x.py` when tests/ does not exist yet is tests/x.py (it was `tests`, so the
    first regression test added to a project without a tests folder was written as a file named tests)."""
    from traindoc.apply.transaction import safe_target

    assert safe_target(tmp_path, "tests/sub/x.py") == tmp_path / "tests" / "sub" / "x.py"


def test_autocast_in_code_test_runs_the_function_on_overflowing_values(tmp_path: Path) -> None:
    from test_plan_more_fixes import AUTOCAST_STEP

    root = layout("dataclass_config", tmp_path / "p")
    (root / "step.py").write_text(AUTOCAST_STEP)
    plan = fix(root, "fp16_overflow")
    (added,) = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    text = (root / added).read_text()
    assert _pytest(root, [added]).startswith("1 passed"), text
    unfixed = tmp_path / "unfixed"
    shutil.copytree(root, unfixed, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    (unfixed / "step.py").write_text(AUTOCAST_STEP)
    assert _pytest(unfixed, [added]).startswith("1 failed")
    (root / added).write_text(text.replace("def _source_check():", "def _source_check():\n    raise AssertionError("
                                           "'fell back')\n\n\ndef _unused():", 1))
    assert _pytest(root, [added]).startswith("1 passed"), "the verdict came from the source check"


def test_fp16_bare_flag_and_json_key_run_the_autocast_they_select(tmp_path: Path) -> None:
    """`--fp16` -> `--bf16` on the launch line, parsed by HfArgumentParser; `"fp16": true` -> false with `"bf16":
    true` added to the JSON: the unfixed values select float16, whose autocast overflows."""
    flag = {"launch.sh": ("    --use_cpu", "    --fp16 \\\n    --use_cpu")}
    root = layout("hf_argparser_flags", tmp_path / "a", flag)
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path / "a")
    assert kinds == ["launch:hf"]
    root = layout("hf_argparser_json", tmp_path / "b", {"configs/train.json": ('"use_cpu": true', '"use_cpu": true,\n'
                                                                                '  "fp16": true')})
    _, kinds = fixed_and_unfixed(root, "fp16_overflow", tmp_path / "b")
    assert kinds == ["json:", "json:"]


def test_accelerate_launch_flag_parsed_by_hf_argument_parser(tmp_path: Path) -> None:
    """`accelerate launch ... train.py --deepspeed ds_config.json --learning_rate ...` in a Makefile."""
    _, kinds = fixed_and_unfixed(layout("accelerate_deepspeed", tmp_path / "p"), "lr_too_high", tmp_path)
    assert kinds == ["launch:hf"]
