"""The automatic fixes for no_warmup, scheduler_misuse, fp16_overflow, grad_accum_bug and vanishing_gradients, on
the user-project layouts (tests/userproj/<layout>/).

Each test: a copy of the layout (with the fault written into it where the shipped fixture has none), a diagnosis
naming the cause with no proposed change (so the cause's own plan policy runs, src/traindoc/causes/<id>.py), the
plan, `apply` into the copy, and then the edited setting read back the way the project's library reads it
(HfArgumentParser into TrainingArguments, a Lightning Trainer built with the new precision, the dataclass or
argparse defaults imported, the YAML loaded, nanoGPT's config executed as its configurator does). The grad
accumulation fix is checked by running the fixed function on a tiny model: one accumulated update must equal the
full-batch update. No test trains a model to the end.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_userproj_targets import project
from traindoc.apply.run import apply_plan
from traindoc.plan.build import build_plan, render_markdown

LAYOUT_RUNS = {  # the run folder each library leaves, and the log the diagnosis read there
    "hf_script": ("output", "trainer_state.json", "hf_trainer_state"),
    "hf_argparser_json": ("output", "trainer_state.json", "hf_trainer_state"),
    "hf_argparser_flags": ("output", "trainer_state.json", "hf_trainer_state"),
    "accelerate_deepspeed": ("output", "trainer_state.json", "hf_trainer_state"),
    "plain_argparse": ("runs/exp1", "metrics.jsonl", "jsonl"),
    "nanogpt": ("out-letters", "log.txt", "text_log:nanogpt"),
    "hydra": ("outputs/2026-12-04/21-00-00", "train.log", "text_log:generic"),
    "dataclass_config": ("runs/latest", "metrics.jsonl", "jsonl"),
    "lightning_code": ("logs/lightning_logs/version_0", "metrics.csv", "lightning_csv"),
    "lightning_cli": ("lightning_logs/version_0", "metrics.csv", "lightning_csv"),
    "notebook_export": ("wandb/offline-run-20261204_210000-abc", "run-abc.wandb", "wandb"),
}


def layout(name: str, tmp: Path, edits: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of the layout with its run folder; `edits` (file -> (old, new)) writes the fault into the copy."""
    run, log, _ = LAYOUT_RUNS[name]
    dump = {"files/wandb-metadata.json": json.dumps({"program": "letters_notebook.py", "args": []})} \
        if name == "notebook_export" else {}
    root = project(name, tmp, run, dump, log=log)
    for rel, (old, new) in (edits or {}).items():
        text = (root / rel).read_text()
        assert old in text, (rel, old)
        (root / rel).write_text(text.replace(old, new, 1))
    return root


def fix(root: Path, cause: str, steps: int = 200) -> dict[str, Any]:
    """Diagnose `cause` (no proposed change), plan, apply into the copy; the plan."""
    run, log, fmt = LAYOUT_RUNS[root.name]
    diag = {"schema_version": "1.0", "verdict": "problems_found", "quick_wins": [], "findings": [],
            "run": {"paths": [str(root / run)], "metrics": {}, "step_range": [0, steps], "config_keys": [],
                    "code_files": [], "sources": [{"path": str(root / run / log), "format": fmt}]},
            "root_causes": [{"rank": 1, "cause": cause, "issue": cause, "confidence": 0.9, "evidence": ["e"],
                             "fix": {"summary": f"fix {cause}", "changes": []}, "impact": "high", "effort": "low",
                             "risk": "low", "expected_outcome": []}]}
    path = root.parent / f"{root.name}-diagnosis.json"
    path.write_text(json.dumps(diag))
    plan = build_plan(diag, str(path), root=str(root))
    render_markdown(plan)
    if plan["changes"]:
        out = apply_plan(plan, plan["plan_id"], run_the_tests=False)
        assert out.report["status"] == "applied", out.report
    assert not [c for c in plan["changes"] if c["file"].startswith(run)], "a run's output was edited"
    return plan


def changed(plan: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for c in plan["changes"]:
        if c["kind"] != "new_file":  # the regression tests the plan adds: tests/test_plan_setting_tests.py
            out.setdefault(c["file"], []).append((c["before"].strip(), c["after"].strip()))
    return out


# ---------------------------------------------------------------------------- how each library reads the setting
def hf_args(argv: list[str]) -> Any:
    from transformers import HfArgumentParser, TrainingArguments

    return HfArgumentParser(TrainingArguments).parse_args_into_dataclasses(args=argv)[0]


def hf_json(path: Path) -> Any:
    from transformers import HfArgumentParser, TrainingArguments

    return HfArgumentParser(TrainingArguments).parse_json_file(str(path), allow_extra_keys=True)[0]


def launch_argv(path: Path, script: str = "train.py") -> list[str]:
    """The flags a launch script / Makefile passes to `script`, as the shell splits them (`--deepspeed` dropped:
    its config is DeepSpeed's, read by a library not installed here)."""
    text = path.read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if f" {script}" in ln)
    words = shlex.split(line)
    argv = words[words.index(script) + 1:]
    if "--deepspeed" in argv:
        i = argv.index("--deepspeed")
        del argv[i:i + 2]
    return argv


def training_arguments_call(path: Path, output_dir: Path) -> Any:
    """TrainingArguments built from the literal keywords of the script's TrainingArguments(...) call."""
    from transformers import TrainingArguments

    call = next(n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)
                and getattr(n.func, "id", None) == "TrainingArguments")
    kwargs = {}
    for k in call.keywords:
        try:
            kwargs[k.arg] = ast.literal_eval(k.value)
        except ValueError:
            continue  # cli.output_dir and the like
    kwargs["output_dir"] = str(output_dir)
    return TrainingArguments(**kwargs)


def import_file(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    return mod


def module_assignments(path: Path) -> dict[str, Any]:
    """The module-level literal assignments (what nanoGPT's configurator exec()s from a config file)."""
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


# ------------------------------------------------------------------------------------------------------ no_warmup
def test_no_warmup_hf_json_the_launch_loads(tmp_path: Path) -> None:
    root = layout("hf_argparser_json", tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"configs/train.json": [('"warmup_steps": 0,', '"warmup_steps": 10,')]}
    assert hf_json(root / "configs/train.json").warmup_steps == 10


def test_no_warmup_hf_launch_flag(tmp_path: Path) -> None:
    root = layout("hf_argparser_flags", tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"launch.sh": [("--warmup_steps 0 \\", "--warmup_steps 10 \\")]}
    assert hf_args(launch_argv(root / "launch.sh")).warmup_steps == 10


def test_no_warmup_added_to_an_accelerate_launch_that_never_sets_it(tmp_path: Path) -> None:
    """No file mentions a warmup (the Trainer's default 0 is the fault): the flag is added to the launch command,
    not to ds_config.json, which is DeepSpeed's and not HfArgumentParser's."""
    root = layout("accelerate_deepspeed", tmp_path)
    plan = fix(root, "no_warmup")
    before = "--output_dir output --learning_rate 0.1 --max_steps 160"
    assert changed(plan) == {"Makefile": [(before, before + " --warmup_steps 10")]}
    args = hf_args(launch_argv(root / "Makefile"))
    assert (args.warmup_steps, args.learning_rate, args.max_steps) == (10, 0.1, 160)
    argv = plan["verification"]["retrain_argv"]
    assert argv[argv.index("--warmup_steps") + 1] == "10"


def test_no_warmup_raises_a_short_training_arguments_warmup(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path)
    plan = fix(root, "no_warmup", steps=400)  # 5% of 400 = 20 > the script's 16
    assert changed(plan) == {"train.py": [("warmup_steps=16,", "warmup_steps=20,")]}
    assert training_arguments_call(root / "train.py", tmp_path / "o").warmup_steps == 20


def test_no_warmup_never_shortens_an_existing_warmup(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path)
    plan = fix(root, "no_warmup", steps=200)  # 5% of 200 = 10 < 16: nothing to raise
    assert "train.py" not in changed(plan)


def test_no_warmup_keyword_added_to_training_arguments(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path, {"train.py": ("        warmup_steps=16,\n", "")})
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"train.py": [("dataloader_num_workers=0,",
                                           "dataloader_num_workers=0,\n        warmup_steps=10,")]}
    assert training_arguments_call(root / "train.py", tmp_path / "o").warmup_steps == 10


def test_no_warmup_training_arguments_on_one_line(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path)
    text = (root / "train.py").read_text()
    start, end = text.index("    args = TrainingArguments("), text.index("    trainer = LetterTrainer(")
    (root / "train.py").write_text(text[:start] + "    args = TrainingArguments(output_dir=cli.output_dir, "
                                   "max_steps=160, use_cpu=True)\n" + text[end:])
    fix(root, "no_warmup")
    assert "max_steps=160, use_cpu=True, warmup_steps=10)" in (root / "train.py").read_text()
    assert training_arguments_call(root / "train.py", tmp_path / "o").warmup_steps == 10


def test_no_warmup_argparse_default(tmp_path: Path) -> None:
    root = layout("plain_argparse", tmp_path)
    plan = fix(root, "no_warmup", steps=400)
    assert changed(plan) == {"train.py": [('p.add_argument("--warmup_steps", type=int, default=10)',
                                           'p.add_argument("--warmup_steps", type=int, default=20)')]}
    mod = import_file(root / "train.py", "plain_train_fixed")
    sys.argv, old = ["train.py"], sys.argv
    try:
        assert mod.get_args().warmup_steps == 20
    finally:
        sys.argv = old


def test_no_warmup_nanogpt_config_file(tmp_path: Path) -> None:
    root = layout("nanogpt", tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"config/train_letters.py": [("warmup_iters = 0", "warmup_iters = 10")]}
    assert module_assignments(root / "config/train_letters.py")["warmup_iters"] == 10


def test_no_warmup_hydra_primary_config(tmp_path: Path) -> None:
    root = layout("hydra", tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"conf/config.yaml": [("warmup_steps: 0", "warmup_steps: 10")]}
    assert yaml.safe_load((root / "conf/config.yaml").read_text())["optim"]["warmup_steps"] == 10


def test_no_warmup_dataclass_default(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"config.py": [("warmup_steps: int = 0", "warmup_steps: int = 10")]}
    assert import_file(root / "config.py", "dc_config_fixed").TrainConfig().warmup_steps == 10


def test_no_warmup_notebook_export(tmp_path: Path) -> None:
    root = layout("notebook_export", tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {"letters_notebook.py": [("warmup_steps = 0", "warmup_steps = 10")]}
    assert module_assignments(root / "letters_notebook.py")["warmup_steps"] == 10


# the Lightning layouts' LetterModel as it was before its warmup and schedule settings: configure_optimizers
# returns a bare optimizer, and nothing in the project sets a warmup (the template's case)
SCHEDULED_OPTIMIZERS = ("            opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)\n"
                        "        else:\n"
                        "            opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)\n"
                        "        schedule = torch.optim.lr_scheduler.LambdaLR(opt, self.lr_factor)\n"
                        '        return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, '
                        '"interval": "step"}}\n')
BARE_OPTIMIZERS = ("            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)\n"
                   "        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)\n")
WARMUP_SETTINGS = {"train.py": (',\n                        warmup_steps=0, schedule="constant")', ")"),
                   "configs/fit.yaml": ("  warmup_steps: 0\n  schedule: constant  # constant or cosine (after the "
                                        "warmup, down to min_lr at trainer.max_steps)\n", "")}


@pytest.mark.parametrize(("name", "module"), [("lightning_code", "train.py"),
                                               ("lightning_cli", "lightning_code_model.py")])
def test_no_warmup_lightning_configure_optimizers_gets_a_step_warmup(tmp_path: Path, name: str, module: str) -> None:
    """A LightningModule with no warmup setting (configure_optimizers returns a bare optimizer, as the layouts' did
    before their schedule settings): the optimizer is wrapped with a per-step linear warmup, and Lightning really
    steps it (a 3-step fit on the code layout)."""
    import pytorch_lightning as pl
    import torch

    root = layout(name, tmp_path)
    settings = "train.py" if name == "lightning_code" else "configs/fit.yaml"
    for rel, (old, new) in [(module, (SCHEDULED_OPTIMIZERS, BARE_OPTIMIZERS)), (settings, WARMUP_SETTINGS[settings])]:
        text = (root / rel).read_text()
        assert text.count(old) == 1, (rel, old)
        (root / rel).write_text(text.replace(old, new))
    plan = fix(root, "no_warmup")
    assert list(changed(plan)) == [module]
    mod = import_file(root / module, f"{name}_fixed")
    model = mod.LetterModel(lr=0.1)
    conf = model.configure_optimizers()
    assert conf["lr_scheduler"]["interval"] == "step"
    sched, opt = conf["lr_scheduler"]["scheduler"], conf["optimizer"]
    lrs = []
    for _ in range(12):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.01) and lrs[9:] == pytest.approx([0.1] * 3)  # 10 warmup steps, then the LR
    if name == "lightning_code":
        model = mod.LetterModel(lr=0.1)
        trainer = pl.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(model, torch.utils.data.DataLoader(torch.randint(1, 21, (12, 8)), batch_size=4))
        assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.1 * 4 / 10)


@pytest.mark.parametrize(("name", "file", "before", "after"), [
    ("lightning_code", "train.py", 'warmup_steps=0, schedule="constant")', 'warmup_steps=10, schedule="constant")'),
    ("lightning_cli", "configs/fit.yaml", "warmup_steps: 0", "warmup_steps: 10")])
def test_no_warmup_lightning_sets_the_modules_warmup_setting(tmp_path: Path, name: str, file: str, before: str,
                                                             after: str) -> None:
    """The layouts' LetterModel has a warmup setting (0 as shipped), passed in the model's call in code and in the
    YAML the Makefile loads: the warmup is set there, and the module built with it warms up over those steps."""
    root = layout(name, tmp_path)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {file: [(before, after)]}, changed(plan)
    module = "train.py" if name == "lightning_code" else "lightning_code_model.py"
    mod = import_file(root / module, f"{name}_warm")
    model = mod.LetterModel(lr=0.1, warmup_steps=10)
    conf = model.configure_optimizers()
    sched, opt = conf["lr_scheduler"]["scheduler"], conf["optimizer"]
    lrs = []
    for _ in range(12):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1 / 11) and lrs[10:] == pytest.approx([0.1] * 2)


# ---------------------------------------------------------------------------------------------- scheduler_misuse
def test_scheduler_warmup_longer_than_the_run_hf_json(tmp_path: Path) -> None:
    root = layout("hf_argparser_json", tmp_path, {"configs/train.json": ('"warmup_steps": 0', '"warmup_steps": 500')})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"configs/train.json": [('"warmup_steps": 500,', '"warmup_steps": 10,')]}
    args = hf_json(root / "configs/train.json")
    assert args.warmup_steps < args.max_steps == 160


def test_scheduler_warmup_ratio_of_the_whole_run(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path, {"config.py": ("warmup_steps: int = 0", "warmup_ratio: float = 1.0")})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"config.py": [("warmup_ratio: float = 1.0", "warmup_ratio: float = 0.05")]}
    assert import_file(root / "config.py", "dc_ratio_fixed").TrainConfig().warmup_ratio == 0.05


def test_scheduler_constant_schedule_ignores_the_warmup_hf_script(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path, {"train.py": ('lr_scheduler_type="linear"', 'lr_scheduler_type="constant"')})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"train.py": [('lr_scheduler_type="constant",',
                                           'lr_scheduler_type="constant_with_warmup",')]}
    args = training_arguments_call(root / "train.py", tmp_path / "o")
    assert str(args.lr_scheduler_type.value) == "constant_with_warmup" and args.warmup_steps == 16


def test_scheduler_nanogpt_warmup_and_decay_fit_the_overridden_run(tmp_path: Path) -> None:
    """nanoGPT: the Makefile's --max_iters=200 is the run's length (it beats the config's 300); the config's
    5000-step warmup and 50-step decay are fitted to it."""
    root = layout("nanogpt", tmp_path, {"config/train_letters.py": ("warmup_iters = 0", "warmup_iters = 5000\n"
                                                                    "lr_decay_iters = 50")})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"config/train_letters.py": [("warmup_iters = 5000\nlr_decay_iters = 50",
                                                          "warmup_iters = 10\nlr_decay_iters = 200")]}
    cfg = module_assignments(root / "config/train_letters.py")
    assert (cfg["warmup_iters"], cfg["lr_decay_iters"]) == (10, 200)


def test_scheduler_hydra_yaml_with_the_override_length(tmp_path: Path) -> None:
    root = layout("hydra", tmp_path, {"conf/config.yaml": ("warmup_steps: 0", "warmup_steps: 1000")})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"conf/config.yaml": [("warmup_steps: 1000", "warmup_steps: 10")]}
    assert yaml.safe_load((root / "conf/config.yaml").read_text())["optim"]["warmup_steps"] == 10


def test_scheduler_dataclass_and_argparse_defaults(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path, {"config.py": ("warmup_steps: int = 0", "warmup_steps: int = 1000")})
    fix(root, "scheduler_misuse")
    cfg = import_file(root / "config.py", "dc_sched_fixed").TrainConfig()
    assert (cfg.warmup_steps, cfg.steps) == (15, 300)  # 5% of the configured 300 steps

    root = layout("plain_argparse", tmp_path / "p", {"train.py": ("default=10)", "default=400)")})
    plan = fix(root, "scheduler_misuse")
    # train.sh passes --steps 150: that is the run's length, not the default 150 in code
    assert changed(plan) == {"train.py": [('p.add_argument("--warmup_steps", type=int, default=400)',
                                           'p.add_argument("--warmup_steps", type=int, default=10)')]}


def test_scheduler_schedule_that_fits_is_left_alone(tmp_path: Path) -> None:
    root = layout("hf_argparser_json", tmp_path)
    plan = fix(root, "scheduler_misuse")
    assert plan["changes"] == []


# ------------------------------------------------------------------------------------------------- fp16_overflow
def test_fp16_bare_launch_flag_becomes_bf16(tmp_path: Path) -> None:
    root = layout("hf_argparser_flags", tmp_path, {"launch.sh": ("    --use_cpu", "    --fp16 \\\n    --use_cpu")})
    plan = fix(root, "fp16_overflow")
    assert changed(plan) == {"launch.sh": [("--fp16 \\", "--bf16 \\")]}
    args = hf_args(launch_argv(root / "launch.sh"))
    assert (args.fp16, args.bf16) == (False, True)
    assert any("older GPU" in n for n in plan["notes"])


def test_fp16_json_off_and_bf16_added(tmp_path: Path) -> None:
    root = layout("hf_argparser_json", tmp_path, {"configs/train.json": ('"use_cpu": true', '"use_cpu": true,\n'
                                                                         '  "fp16": true')})
    fix(root, "fp16_overflow")
    args = hf_json(root / "configs/train.json")
    assert (args.fp16, args.bf16) == (False, True)
    assert json.loads((root / "configs/train.json").read_text())["max_steps"] == 160


def test_fp16_hf_model_torch_dtype_in_the_json(tmp_path: Path) -> None:
    """ModelArguments.torch_dtype (the model's weights loaded in float16, HF's run_clm.py spelling) in the JSON the
    Makefile hands HfArgumentParser: float16 -> bfloat16 there, the rest of the file as it was."""
    root = layout("hf_argparser_json", tmp_path, {"configs/train.json": ('"use_cpu": true,', '"use_cpu": true,\n'
                                                                         '  "torch_dtype": "float16",')})
    plan = fix(root, "fp16_overflow")
    assert changed(plan) == {"configs/train.json": [('"torch_dtype": "float16",', '"torch_dtype": "bfloat16",')]}
    cfg = json.loads((root / "configs/train.json").read_text())
    assert (cfg["torch_dtype"], cfg["max_steps"], cfg.get("fp16"), cfg.get("bf16")) == ("bfloat16", 160, None, None)


def test_fp16_training_arguments_keyword(tmp_path: Path) -> None:
    root = layout("hf_script", tmp_path, {"train.py": ("        use_cpu=True,\n", "        use_cpu=True,\n"
                                                                                  "        fp16=True,\n")})
    fix(root, "fp16_overflow")
    args = training_arguments_call(root / "train.py", tmp_path / "o")
    assert (args.fp16, args.bf16) == (False, True)


def test_fp16_lightning_precision_in_code_and_cli_yaml(tmp_path: Path) -> None:
    import pytorch_lightning as pl

    root = layout("lightning_code", tmp_path, {"train.py": ('accelerator="cpu",', 'accelerator="cpu", '
                                                                                  'precision="16-mixed",')})
    plan = fix(root, "fp16_overflow")
    assert changed(plan)["train.py"][0][1].count('precision="bf16-mixed"') == 1
    call = next(n for n in ast.walk(ast.parse((root / "train.py").read_text())) if isinstance(n, ast.Call)
                and getattr(n.func, "attr", None) == "Trainer")
    precision = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "precision"))
    trainer = pl.Trainer(accelerator="cpu", precision=precision, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    assert str(trainer.precision) == "bf16-mixed"

    cpu = "  accelerator: cpu\n"
    root = layout("lightning_cli", tmp_path / "cli", {"configs/fit.yaml": (cpu, cpu + "  precision: 16-mixed\n")})
    fix(root, "fp16_overflow")
    assert yaml.safe_load((root / "configs/fit.yaml").read_text())["trainer"]["precision"] == "bf16-mixed"


def test_fp16_accelerate_mixed_precision(tmp_path: Path) -> None:
    root = layout("accelerate_deepspeed", tmp_path, {"accelerate_config.yaml": ("mixed_precision: 'no'",
                                                                                "mixed_precision: 'fp16'")})
    plan = fix(root, "fp16_overflow")
    assert changed(plan) == {"accelerate_config.yaml": [("mixed_precision: 'fp16'", "mixed_precision: 'bf16'")]}
    assert yaml.safe_load((root / "accelerate_config.yaml").read_text())["mixed_precision"] == "bf16"


# ------------------------------------------------------------------------------------------------ grad_accum_bug
ACCUM_TRAIN = '''"""Train with gradient accumulation (settings in config.TrainConfig)."""

import torch
import torch.nn.functional as F


def accumulate(model, opt, batches, accum_steps):
    """One optimiser step per `accum_steps` micro-batches."""
    for i, (x, y) in enumerate(batches):
        loss = F.mse_loss(model(x), y)
        loss.backward()
        if (i + 1) % accum_steps == 0:
            opt.step()
            opt.zero_grad()
'''


def _accum_step_matches_full_batch(module: Any) -> bool:
    """SGD, lr 1: the accumulated update over 4 equal micro-batches equals the full batch's (mean-loss) update."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    a, b = torch.nn.Linear(3, 1), torch.nn.Linear(3, 1)
    b.load_state_dict(a.state_dict())
    module.accumulate(a, torch.optim.SGD(a.parameters(), lr=1.0), list(zip(x.split(4), y.split(4), strict=True)), 4)
    opt = torch.optim.SGD(b.parameters(), lr=1.0)
    F.mse_loss(b(x), y).backward()
    opt.step()
    return all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_grad_accum_loss_divided_once_gives_the_full_batch_update(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path)
    (root / "train.py").write_text(ACCUM_TRAIN)
    assert not _accum_step_matches_full_batch(import_file(root / "train.py", "accum_before"))  # the fault is real
    plan = fix(root, "grad_accum_bug")
    assert changed(plan) == {"train.py": [("loss.backward()", "(loss / accum_steps).backward()")]}
    assert _accum_step_matches_full_batch(import_file(root / "train.py", "accum_after"))
    # planned again on the fixed code: nothing left to divide (never twice)
    again = fix(root, "grad_accum_bug")
    assert again["changes"] == []


@pytest.mark.parametrize("divided", ["        loss = loss / accum_steps\n", "        loss /= accum_steps\n"])
def test_grad_accum_already_divided_is_left_alone(tmp_path: Path, divided: str) -> None:
    root = layout("dataclass_config", tmp_path)
    backward = "        loss.backward()\n"
    (root / "train.py").write_text(ACCUM_TRAIN.replace(backward, divided + backward))
    assert fix(root, "grad_accum_bug")["changes"] == []


def test_grad_accum_summed_loss_is_a_manual_step(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path)
    (root / "train.py").write_text(ACCUM_TRAIN.replace("F.mse_loss(model(x), y)", 'F.mse_loss(model(x), y, '
                                                                                   'reduction="sum")'))
    plan = fix(root, "grad_accum_bug")
    assert plan["changes"] == [] and any("num_items_in_batch" in n for n in plan["notes"])


# ------------------------------------------------------------------------------------------- vanishing_gradients
def test_vanishing_gradients_switches_on_norm_and_residual(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path, {"config.py": ("    steps: int = 300\n", "    steps: int = 300\n"
                                                               "    use_layernorm: bool = False\n"
                                                               "    residual: bool = False\n")})
    plan = fix(root, "vanishing_gradients")
    assert changed(plan) == {"config.py": [("use_layernorm: bool = False\n    residual: bool = False",
                                            "use_layernorm: bool = True\n    residual: bool = True")]}
    cfg = import_file(root / "config.py", "dc_vanish_fixed").TrainConfig()
    assert (cfg.use_layernorm, cfg.residual) == (True, True)

    width = "  width: 64\n"
    root = layout("hydra", tmp_path / "h", {"conf/config.yaml": (width, width + "  use_residual: false\n")})
    fix(root, "vanishing_gradients")
    assert yaml.safe_load((root / "conf/config.yaml").read_text())["model"]["use_residual"] is True


def test_vanishing_gradients_without_a_switch_is_a_manual_step(tmp_path: Path) -> None:
    root = layout("dataclass_config", tmp_path)
    plan = fix(root, "vanishing_gradients")
    assert plan["changes"] == [] and any("normalisation" in n for n in plan["notes"])


def test_fp16_nanogpt_dtype_string(tmp_path: Path) -> None:
    root = layout("nanogpt", tmp_path, {"config/train_letters.py": ("warmup_iters = 0", "warmup_iters = 0\n"
                                                                    "dtype = 'float16'"),
                                        "train.py": ("n_embd = 64\n", "n_embd = 64\ndtype = 'bfloat16'\n")})
    plan = fix(root, "fp16_overflow")
    assert changed(plan) == {"config/train_letters.py": [("dtype = 'float16'", "dtype = 'bfloat16'")]}
    assert module_assignments(root / "config/train_letters.py")["dtype"] == "bfloat16"


AUTOCAST_STEP = '''import torch


def forward(a):
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        return a @ a
'''


def test_fp16_autocast_dtype_in_code_no_longer_overflows(tmp_path: Path) -> None:
    """A real forward under autocast: 300 * 300 * 4 = 360000 is above float16's 65504 (inf), within bfloat16's
    range (finite after the fix)."""
    import torch

    root = layout("dataclass_config", tmp_path)
    (root / "step.py").write_text(AUTOCAST_STEP)
    a = torch.full((4, 4), 300.0)
    assert torch.isinf(import_file(root / "step.py", "autocast_before").forward(a)).all()
    plan = fix(root, "fp16_overflow")
    assert changed(plan) == {"step.py": [('with torch.autocast(device_type="cpu", dtype=torch.float16):',
                                          'with torch.autocast(device_type="cpu", dtype=torch.bfloat16):')]}
    out = import_file(root / "step.py", "autocast_after").forward(a)
    assert torch.isfinite(out).all() and out.dtype == torch.bfloat16


def test_scheduler_warmup_longer_than_the_run_launch_flag_and_notebook(tmp_path: Path) -> None:
    root = layout("hf_argparser_flags", tmp_path, {"launch.sh": ("--warmup_steps 0", "--warmup_steps 400")})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"launch.sh": [("--warmup_steps 400 \\", "--warmup_steps 10 \\")]}
    assert hf_args(launch_argv(root / "launch.sh")).warmup_steps == 10

    nb = {"letters_notebook.py": ("warmup_steps = 0", "warmup_steps = 300")}
    root = layout("notebook_export", tmp_path / "nb", nb)
    plan = fix(root, "scheduler_misuse")
    assert changed(plan) == {"letters_notebook.py": [("warmup_steps = 300", "warmup_steps = 15")]}


HF_GA_TRAINER = '''"""Our Trainer: the language-model loss computed here, as many projects do."""

import torch.nn.functional as F
from transformers import Trainer


class LetterTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        logits, labels = outputs.logits[:, :-1], inputs["labels"][:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)
        return (loss, outputs) if return_outputs else loss
'''


def _hf_update(root: Path, module: Any, batch: int, accum: int) -> Any:
    """The parameter change of one optimiser step (SGD, no clipping, no dropout) of the project's Trainer class."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, TrainingArguments

    collate = import_file(root / "train.py", f"hf_train_{batch}_{accum}").collate
    lines = ["".join("abcdefghijklmnopqrst"[(7 * i + 3 * j) % 20] for j in range(32)) for i in range(8)]
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=21, n_positions=32, n_embd=16, n_layer=1, n_head=2,
                                       resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    args = TrainingArguments(output_dir=str(root / "ga-out"), max_steps=1, per_device_train_batch_size=batch,
                             gradient_accumulation_steps=accum, learning_rate=0.1, optim="sgd", weight_decay=0.0,
                             lr_scheduler_type="constant", warmup_steps=0, max_grad_norm=0.0, use_cpu=True,
                             report_to="none", save_strategy="no", logging_strategy="no", seed=0,
                             remove_unused_columns=False, dataloader_num_workers=0)
    module.LetterTrainer(model=model, args=args, train_dataset=lines, data_collator=collate).train()
    return torch.cat([p.detach().flatten() for p in model.parameters()]) - before


def test_grad_accum_hf_trainer_subclass_divides_once(tmp_path: Path) -> None:
    """A real HF Trainer step: 2 accumulated micro-batches of 4 must move the weights as one batch of 8 does.
    Before the fix the subclass's mean loss is not divided by the accumulation steps (twice the update)."""
    import torch

    root = layout("hf_script", tmp_path)
    (root / "ga_trainer.py").write_text(HF_GA_TRAINER)
    full = _hf_update(root, import_file(root / "ga_trainer.py", "ga_full"), 8, 1)
    buggy = _hf_update(root, import_file(root / "ga_trainer.py", "ga_before"), 4, 2)
    assert torch.linalg.norm(buggy) / torch.linalg.norm(full) == pytest.approx(2.0, rel=0.05)
    plan = fix(root, "grad_accum_bug")
    assert list(changed(plan)) == ["ga_trainer.py"]
    fixed = _hf_update(root, import_file(root / "ga_trainer.py", "ga_after"), 4, 2)
    assert torch.allclose(fixed, full, atol=1e-6)
    # the regression test the plan added imports the class and passes; on the original class it fails
    added = root / "tests" / "test_traindoc_hf_loss_scaled.py"
    assert "tests/test_traindoc_hf_loss_scaled.py" in [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]

    def added_test_passes() -> bool:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(added)], cwd=root,
                              capture_output=True, text=True, timeout=300)
        assert "1 passed" in proc.stdout or "1 failed" in proc.stdout, proc.stdout + proc.stderr
        return proc.returncode == 0

    assert "_fixed_module()" in added.read_text() and added_test_passes()
    assert fix(root, "grad_accum_bug")["changes"] == []  # once
    (root / "ga_trainer.py").write_text(HF_GA_TRAINER)
    assert not added_test_passes()


def test_fp16_precision_in_hydra_yaml_and_argparse_default(tmp_path: Path) -> None:
    root = layout("hydra", tmp_path, {"conf/config.yaml": ("trainer:\n", "trainer:\n  precision: 16-mixed\n")})
    plan = fix(root, "fp16_overflow")
    assert changed(plan) == {"conf/config.yaml": [("precision: 16-mixed", "precision: bf16-mixed")]}
    assert yaml.safe_load((root / "conf/config.yaml").read_text())["trainer"]["precision"] == "bf16-mixed"

    seed = '    p.add_argument("--seed", type=int, default=0)\n'
    root = layout("plain_argparse", tmp_path / "p",
                  {"train.py": (seed, seed + '    p.add_argument("--precision", default="fp16")\n')})
    fix(root, "fp16_overflow")
    mod = import_file(root / "train.py", "plain_precision_fixed")
    sys.argv, old = ["train.py"], sys.argv
    try:
        assert mod.get_args().precision == "bf16"
    finally:
        sys.argv = old


def test_scheduler_warmup_longer_than_the_run_accelerate_flag(tmp_path: Path) -> None:
    root = layout("accelerate_deepspeed", tmp_path,
                  {"Makefile": ("--max_steps 160", "--max_steps 160 --warmup_steps 1000")})
    plan = fix(root, "scheduler_misuse")
    assert changed(plan)["Makefile"][0][1].endswith("--max_steps 160 --warmup_steps 10")
    args = hf_args(launch_argv(root / "Makefile"))
    assert (args.warmup_steps, args.max_steps) == (10, 160)


def test_settings_are_never_added_outside_the_project_or_to_unreadable_code(tmp_path: Path) -> None:
    """A launch command that hands HfArgumentParser a JSON outside the project, and a .py file that is not text:
    nothing outside is read for editing or changed, and the plan is made without a traceback."""
    outside = tmp_path / "outside.json"
    outside.write_text('{\n  "output_dir": "output",\n  "max_steps": 160\n}\n')
    root = layout("hf_argparser_json", tmp_path / "p", {"Makefile": ("configs/train.json", "../../outside.json")})
    (root / "configs/train.json").unlink()
    (root / "blob.py").write_bytes(b"\xff\xfe\x00 not text \x81")
    plan = fix(root, "no_warmup")
    assert plan["changes"] == []
    assert outside.read_text() == '{\n  "output_dir": "output",\n  "max_steps": 160\n}\n'
