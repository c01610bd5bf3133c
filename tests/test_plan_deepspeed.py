"""no_warmup and fp16_overflow where a DeepSpeed JSON holds the setting (src/traindoc/plan/fix_deepspeed.py), on a copy
of the accelerate + DeepSpeed layout (tests/userproj/accelerate_deepspeed) whose ds_config.json gets a WarmupDecayLR
scheduler warming up over 1 step, or DeepSpeed's fp16 turned on. The edited JSON and Makefile are then read the way
transformers reads them: the Trainer's arguments parsed from the launch line, and transformers' own DeepSpeed config
check (HfTrainerDeepSpeedConfig, which refuses a warmup_num_steps that differs from the Trainer's warmup) run on the
JSON. DeepSpeed itself is not installed here; only that check, which needs none of it, runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from test_plan_more_fixes import changed, fix, hf_args, launch_argv, layout

SCHEDULER = ('"scheduler": {"type": "WarmupDecayLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": "auto", '
             '"warmup_num_steps": %s, "total_num_steps": "auto"}},\n  ')


def ds_project(tmp: Path, warmup: int) -> Path:
    """The layout with DeepSpeed's scheduler in its JSON, warming up over `warmup` steps."""
    return layout("accelerate_deepspeed", tmp, {"ds_config.json": ('"zero_optimization"',
                                                                   SCHEDULER % warmup + '"zero_optimization"')})


def hf_deepspeed_check(ds_json: Path, args: Any, total_steps: int) -> dict:
    """transformers' own consistency check of a DeepSpeed config against the Trainer's arguments (what
    `Trainer(..., args with deepspeed=...)` runs before training): the filled config, or ValueError."""
    tds = pytest.importorskip("transformers.integrations.deepspeed")
    base = pytest.importorskip("accelerate.utils.deepspeed").HfDeepSpeedConfig
    cfg = object.__new__(tds.HfTrainerDeepSpeedConfig)  # its __init__ requires the deepspeed package
    if not all(hasattr(tds.HfTrainerDeepSpeedConfig, m) for m in ("trainer_config_process", "fill_match")):
        pytest.skip("this transformers has no HfTrainerDeepSpeedConfig check")
    for name in ("find_config_node", "get_value", "is_auto", "is_zero3", "is_true", "is_false", "is_offload"):
        if hasattr(base, name):
            setattr(cfg, name, getattr(base, name).__get__(cfg))
    cfg.config, cfg.mismatches, cfg._dtype = json.loads(ds_json.read_text()), [], None
    cfg.trainer_config_process(args)
    cfg.trainer_config_finalize(args, None, total_steps)
    return cfg.config


def test_hf_trainer_warmup_set_and_the_json_made_auto(tmp_path: Path) -> None:
    """Before: `--warmup_steps 10` added to the Makefile alone, and transformers refused to start (ds 1 vs hf 10)."""
    root = ds_project(tmp_path, 1)
    plan = fix(root, "no_warmup")
    edits = changed(plan)
    assert edits["ds_config.json"][0][1].count('"warmup_num_steps": "auto"') == 1, edits
    before = "--output_dir output --learning_rate 0.1 --max_steps 160"
    assert edits["Makefile"] == [(before, before + " --warmup_steps 10")]
    args = hf_args(launch_argv(root / "Makefile") + ["--max_grad_norm", "0.0"])  # the JSON's gradient_clipping
    assert args.warmup_steps == 10
    assert hf_deepspeed_check(root / "ds_config.json", args, 200)["scheduler"]["params"]["warmup_num_steps"] == 10
    # the shipped JSON with only the Makefile flag (the old plan) is what transformers refuses
    (root / "ds_config.json").write_text((root / "ds_config.json").read_text().replace(
        '"warmup_num_steps": "auto"', '"warmup_num_steps": 1'))
    with pytest.raises(ValueError, match="warmup_num_steps=1 vs hf warmup_steps=10"):
        hf_deepspeed_check(root / "ds_config.json", args, 200)


def test_without_the_hf_trainer_the_json_number_is_raised(tmp_path: Path) -> None:
    """DeepSpeed driving the model itself (deepspeed.initialize with the JSON): its number is the warmup."""
    root = ds_project(tmp_path, 1)
    (root / "train.py").write_text("import deepspeed\n\n\ndef main(model):\n"
                                   "    return deepspeed.initialize(model=model, config='ds_config.json')\n")
    plan = fix(root, "no_warmup")
    assert list(changed(plan)) == ["ds_config.json"], changed(plan)
    cfg = json.loads((root / "ds_config.json").read_text())
    assert cfg["scheduler"]["params"]["warmup_num_steps"] == 10
    assert cfg["optimizer"] == {"type": "AdamW", "params": {"lr": "auto", "weight_decay": "auto"}}  # the rest kept


def test_a_long_enough_deepspeed_warmup_is_left_alone(tmp_path: Path) -> None:
    """50 steps >= 5% of the run: no edit anywhere (a Trainer warmup added beside it would contradict it)."""
    root = ds_project(tmp_path, 50)
    plan = fix(root, "no_warmup")
    assert changed(plan) == {}
    assert any("already warms DeepSpeed's scheduler up over 50 steps" in n for n in plan["notes"]), plan["notes"]


def test_an_auto_deepspeed_warmup_keeps_the_trainer_fix(tmp_path: Path) -> None:
    """`"auto"` in the JSON: the Trainer's warmup fills it, so the usual fix (the Makefile flag) is the whole fix."""
    root = layout("accelerate_deepspeed", tmp_path, {"ds_config.json": (
        '"zero_optimization"', SCHEDULER % '"auto"' + '"zero_optimization"')})
    plan = fix(root, "no_warmup")
    before = "--output_dir output --learning_rate 0.1 --max_steps 160"
    assert changed(plan) == {"Makefile": [(before, before + " --warmup_steps 10")]}
    args = hf_args(launch_argv(root / "Makefile") + ["--max_grad_norm", "0.0"])
    assert hf_deepspeed_check(root / "ds_config.json", args, 200)["scheduler"]["params"]["warmup_num_steps"] == 10


FP16_BLOCK = ('"zero_optimization"', '"fp16": {"enabled": true, "loss_scale": 0},\n  "zero_optimization"')


def test_fp16_deepspeed_block_follows_the_trainers_bf16(tmp_path: Path) -> None:
    """`--fp16` on the launch line and DeepSpeed's fp16 on in the JSON (transformers requires the two to agree):
    the flag becomes --bf16 and the JSON's literal "auto", with a bf16 block added, so DeepSpeed trains in bf16."""
    root = layout("accelerate_deepspeed", tmp_path, {"ds_config.json": FP16_BLOCK,
                                                     "Makefile": ("--max_steps 160", "--max_steps 160 --fp16")})
    plan = fix(root, "fp16_overflow")
    assert changed(plan)["Makefile"][0][1].endswith("--max_steps 160 --bf16")
    text = (root / "ds_config.json").read_text()
    assert '"fp16": {"enabled": "auto", "loss_scale": 0},\n  "bf16": {"enabled": "auto"},\n  "zero_optimization"' \
        in text, text
    args = hf_args(launch_argv(root / "Makefile") + ["--max_grad_norm", "0.0", "--use_cpu"])
    cfg = hf_deepspeed_check(root / "ds_config.json", args, 200)
    assert (cfg["fp16"]["enabled"], cfg["bf16"]["enabled"]) == (False, True)


def test_fp16_deepspeed_block_without_the_hf_trainer(tmp_path: Path) -> None:
    root = layout("accelerate_deepspeed", tmp_path, {"ds_config.json": FP16_BLOCK})
    (root / "train.py").write_text("import deepspeed\n\n\ndef main(model):\n"
                                   "    return deepspeed.initialize(model=model, config='ds_config.json')\n")
    plan = fix(root, "fp16_overflow")
    assert list(changed(plan)) == ["ds_config.json"], changed(plan)
    cfg = json.loads((root / "ds_config.json").read_text())
    assert (cfg["fp16"], cfg["bf16"]) == ({"enabled": False, "loss_scale": 0}, {"enabled": True})
