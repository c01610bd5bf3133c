"""scheduler_misuse where a DeepSpeed JSON holds the LR scheduler (src/traindoc/plan/fix_deepspeed.py,
deepspeed_schedule), on a copy of the accelerate + DeepSpeed layout (tests/userproj/accelerate_deepspeed, a 160-step
run by its Makefile's `--max_steps 160`) whose ds_config.json gets a WarmupLR / WarmupDecayLR / WarmupCosineLR block.
The edited JSON and Makefile are read back the way transformers reads them: the Trainer's arguments parsed from the
launch line and transformers' own DeepSpeed config check (HfTrainerDeepSpeedConfig, test_plan_deepspeed.py) run on
the JSON. No training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_plan_deepspeed import hf_deepspeed_check
from test_plan_more_fixes import changed, fix, hf_args, launch_argv, layout

STEPS = 160  # the Makefile's --max_steps
MAKE_LINE = "--output_dir output --learning_rate 0.1 --max_steps 160"
NO_HF = ("import deepspeed\n\n\ndef main(model):\n"
         "    return deepspeed.initialize(model=model, config='ds_config.json')\n")


def ds_project(tmp: Path, kind: str, params: str, makefile: str = "", train: str | None = None) -> Path:
    """The layout with DeepSpeed's `kind` scheduler (`params` as JSON text) in its JSON; `makefile` appended to the
    train target's flags; `train` replaces train.py (a project without the HF Trainer)."""
    block = f'"scheduler": {{"type": "{kind}", "params": {{{params}}}}},\n  '
    edits = {"ds_config.json": ('"zero_optimization"', block + '"zero_optimization"')}
    if makefile:
        edits["Makefile"] = (MAKE_LINE, f"{MAKE_LINE} {makefile}")
    root = layout("accelerate_deepspeed", tmp, edits)
    if train is not None:
        (root / "train.py").write_text(train)
    return root


def trainer_args(root: Path) -> object:
    return hf_args(launch_argv(root / "Makefile") + ["--max_grad_norm", "0.0"])  # the JSON's gradient_clipping


def test_hf_warmup_longer_than_the_run_moves_to_the_trainer_and_the_json_takes_auto(tmp_path: Path) -> None:
    """WarmupDecayLR warming up over 1000 steps of a 160-step run, the Trainer's `--warmup_steps 1000` beside it (as
    transformers requires). Before: only the Makefile's flag was cut, and transformers refused the JSON's 1000."""
    root = ds_project(tmp_path, "WarmupDecayLR", '"warmup_min_lr": 0, "warmup_max_lr": "auto", '
                      '"warmup_num_steps": 1000, "total_num_steps": "auto"', "--warmup_steps 1000")
    before = trainer_args(root)
    assert hf_deepspeed_check(root / "ds_config.json", before, STEPS)["scheduler"]["params"]["warmup_num_steps"] == 1000
    text = (root / "ds_config.json").read_text()
    plan = fix(root, "scheduler_misuse", STEPS)
    edits = changed(plan)
    assert edits["Makefile"] == [(f"{MAKE_LINE} --warmup_steps 1000", f"{MAKE_LINE} --warmup_steps 10")], edits
    after = (root / "ds_config.json").read_text()
    assert after == text.replace('"warmup_num_steps": 1000', '"warmup_num_steps": "auto"')  # every other byte kept
    cfg = hf_deepspeed_check(root / "ds_config.json", trainer_args(root), STEPS)
    params = cfg["scheduler"]["params"]
    assert (params["warmup_num_steps"], params["total_num_steps"]) == (10, STEPS)
    # the Makefile cut alone (the plan before DeepSpeed's scheduler was read) is what transformers refuses
    (root / "ds_config.json").write_text(text)
    with pytest.raises(ValueError, match="warmup_num_steps=1000 vs hf warmup_steps=10"):
        hf_deepspeed_check(root / "ds_config.json", trainer_args(root), STEPS)


def test_hf_literal_total_steps_become_auto(tmp_path: Path) -> None:
    """A WarmupCosineLR decaying over 100 steps (a shorter run's length, left when --max_steps went to 160): the
    Trainer fills "auto" with the run's steps, so the decay spans the run and the check passes."""
    root = ds_project(tmp_path, "WarmupCosineLR", '"warmup_num_steps": "auto", "total_num_steps": 100')
    with pytest.raises(ValueError, match="total_num_steps=100 vs hf num_training_steps"):
        hf_deepspeed_check(root / "ds_config.json", trainer_args(root), STEPS)
    plan = fix(root, "scheduler_misuse", STEPS)
    assert list(changed(plan)) == ["ds_config.json"], changed(plan)
    cfg = hf_deepspeed_check(root / "ds_config.json", trainer_args(root), STEPS)
    assert cfg["scheduler"]["params"]["total_num_steps"] == STEPS


def test_hf_scheduler_type_overridden_by_the_json_block_is_restored(tmp_path: Path) -> None:
    """`--lr_scheduler_type cosine` on the launch line and a WarmupLR (warm up, then constant) in the JSON:
    DeepSpeed's scheduler replaces the Trainer's, so the cosine never ran. The block is removed, the rest of the
    JSON kept byte for byte, and the check passes with the Trainer's own schedule."""
    root = ds_project(tmp_path, "WarmupLR", '"warmup_min_lr": 0, "warmup_max_lr": "auto", "warmup_num_steps": "auto"',
                      "--lr_scheduler_type cosine --warmup_steps 10")
    text = (root / "ds_config.json").read_text()
    plan = fix(root, "scheduler_misuse", STEPS)
    assert list(changed(plan)) == ["ds_config.json"], changed(plan)
    after = (root / "ds_config.json").read_text()
    block = text[text.index('  "scheduler"'):text.index('  "zero_optimization"')]
    assert after == text.replace(block, ""), after
    assert "scheduler" not in json.loads(after)
    args = trainer_args(root)
    assert "scheduler" not in hf_deepspeed_check(root / "ds_config.json", args, STEPS)
    assert str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)) == "cosine"


def test_hf_matching_scheduler_type_is_not_a_clash(tmp_path: Path) -> None:
    """`--lr_scheduler_type linear` is what WarmupDecayLR is: a schedule that fits the run gets no edit."""
    root = ds_project(tmp_path, "WarmupDecayLR", '"warmup_num_steps": "auto", "total_num_steps": "auto"',
                      "--lr_scheduler_type linear --warmup_steps 10")
    assert changed(fix(root, "scheduler_misuse", STEPS)) == {}


def test_without_the_hf_trainer_the_json_numbers_are_fitted(tmp_path: Path) -> None:
    """deepspeed.initialize with the JSON: its numbers are the schedule. A 1000-step warmup and a decay ending at
    step 50 of the 160-step run: warmup 10, decay over the run."""
    root = ds_project(tmp_path, "WarmupDecayLR", '"warmup_min_lr": 0, "warmup_max_lr": 0.001, '
                      '"warmup_num_steps": 1000, "total_num_steps": 50', train=NO_HF)
    text = (root / "ds_config.json").read_text()
    plan = fix(root, "scheduler_misuse", STEPS)
    assert list(changed(plan)) == ["ds_config.json"], changed(plan)
    after = (root / "ds_config.json").read_text()
    assert after == text.replace('"warmup_num_steps": 1000, "total_num_steps": 50',
                                 f'"warmup_num_steps": 10, "total_num_steps": {STEPS}')
    assert json.loads(after)["scheduler"]["params"]["warmup_max_lr"] == 0.001


def test_without_the_hf_trainer_a_long_decay_needs_a_configured_length(tmp_path: Path) -> None:
    """A decay over 1000 steps in a run that logged 160: without a configured length the run may have been stopped
    early, so nothing is edited; with `--max_steps 160` the decay is fitted to it. WarmupLR has no decay."""
    root = ds_project(tmp_path, "WarmupCosineLR", '"warmup_num_steps": 10, "total_num_steps": 1000', train=NO_HF)
    mk = (root / "Makefile").read_text()
    (root / "Makefile").write_text(mk.replace(" --max_steps 160", ""))
    assert changed(fix(root, "scheduler_misuse", STEPS)) == {}
    root2 = ds_project(tmp_path / "b", "WarmupCosineLR", '"warmup_num_steps": 10, "total_num_steps": 1000', train=NO_HF)
    fix(root2, "scheduler_misuse", STEPS)
    assert json.loads((root2 / "ds_config.json").read_text())["scheduler"]["params"]["total_num_steps"] == STEPS
    root3 = ds_project(tmp_path / "c", "WarmupLR", '"warmup_num_steps": 10', train=NO_HF)
    assert changed(fix(root3, "scheduler_misuse", STEPS)) == {}


def test_a_scheduler_only_in_the_runs_copy_is_a_manual_step(tmp_path: Path) -> None:
    """The project's JSON is gone and only the run's own copy (output/ds_config.json) shows the scheduler: the copy
    is never edited, and the plan says what to set in the JSON training is launched with."""
    root = ds_project(tmp_path, "WarmupDecayLR", '"warmup_num_steps": 1000, "total_num_steps": 1000', train=NO_HF)
    (root / "ds_config.json").rename(root / "output" / "ds_config.json")
    copy = (root / "output" / "ds_config.json").read_text()
    plan = fix(root, "scheduler_misuse", STEPS)
    assert (root / "output" / "ds_config.json").read_text() == copy
    assert any("recorded only in output/ds_config.json" in n and "warmup_num_steps" in n for n in plan["notes"]), \
        plan["notes"]


# ----------------------------------------------- which launch command the retrain uses (plan/launch.py, recover)
FLAGS = "--output_dir output --learning_rate 0.1 --max_steps 160"
PLAIN = f"train:\n\tpython train.py {FLAGS}\n"
ACCEL = (f"train-ds:\n\taccelerate launch --config_file accelerate_config.yaml train.py --deepspeed ds_config.json \\\n"
         f"\t\t{FLAGS}\n")
DSL = f"train-dsl:\n\tdeepspeed train.py --deepspeed ds_config.json {FLAGS}\n"
HF_SCRIPT = "from transformers import HfArgumentParser, TrainingArguments\n"


def two_targets(tmp: Path, makefile: str, wandb_args: list[str] | None = None, log_head: str | None = None
                ) -> tuple[object, list[str]]:
    """A project whose Makefile has several targets writing the same `output/`, the run's W&B record and/or a
    log whose first line echoes the command; the launch command recover() chooses, and its notes."""
    from traindoc.plan import launch, targets

    root = tmp / "proj"
    (root / "output").mkdir(parents=True)
    (root / "train.py").write_text(HF_SCRIPT)
    (root / "Makefile").write_text(makefile)
    (root / "output" / "trainer_state.json").write_text("{}")
    runs, sources = [root / "output"], []
    if wandb_args is not None:
        meta = root / "wandb" / "run-1" / "files"
        meta.mkdir(parents=True)
        (meta / "wandb-metadata.json").write_text(json.dumps({"program": "train.py", "args": wandb_args}))
        runs.append(root / "wandb" / "run-1")
    if log_head is not None:
        (root / "output" / "train.log").write_text(f"{log_head}\nstep 1 loss 2.0\n")
        sources.append(root / "output" / "train.log")
    outputs = targets.RunOutputs(root, runs)
    return launch.recover(root, outputs.runs, sources, [str(root / "train.py")], outputs)


def test_the_recorded_argv_picks_the_deepspeed_target_over_the_first(tmp_path: Path) -> None:
    """Before: both targets write output/, so the first (plain python) was the retrain, although W&B recorded the
    script's argv with --deepspeed: the user ran the accelerate target."""
    lc, notes = two_targets(tmp_path, PLAIN + "\n" + ACCEL, ["--deepspeed", "ds_config.json", *FLAGS.split()])
    assert lc.argv[:2] == ["accelerate", "launch"] and lc.source == "Makefile:5", (lc.argv, notes)
    assert "W&B metadata" in notes[0], notes


def test_an_echoed_command_names_the_launcher(tmp_path: Path) -> None:
    """Both targets take the same flags, so the argv alone cannot tell them apart; the log's first line can."""
    same = PLAIN + "\n" + ACCEL.replace(" --deepspeed ds_config.json", "")
    lc, _ = two_targets(tmp_path / "a", same, log_head=f"$ accelerate launch --config_file accelerate_config.yaml "
                                                       f"train.py {FLAGS}")
    assert lc.argv[0] == "accelerate"
    lc, _ = two_targets(tmp_path / "b", ACCEL + "\n" + PLAIN, log_head=f"$ python train.py {FLAGS}")
    assert lc.argv[0] == "python" and lc.source == "Makefile:6"  # the recorded one, not the first
    lc, notes = two_targets(tmp_path / "c", same, ["--output_dir", "output", "--learning_rate", "0.1",
                                                   "--max_steps", "160"])
    assert lc.argv[0] == "python" and "does not single one out" in notes[0], notes  # W&B names no launcher


def test_the_deepspeed_launchers_rank_flag_names_it(tmp_path: Path) -> None:
    """The deepspeed launcher appends --local_rank=N to the script's argv (W&B records it); accelerate does not."""
    lc, _ = two_targets(tmp_path, ACCEL + "\n" + DSL,
                        ["--local_rank=0", "--deepspeed", "ds_config.json", *FLAGS.split()])
    assert lc.argv[0] == "deepspeed", lc.argv


def test_without_a_record_the_first_target_is_used_and_said_so(tmp_path: Path) -> None:
    lc, notes = two_targets(tmp_path, PLAIN + "\n" + ACCEL)
    assert lc.argv[0] == "python"
    assert "nothing the run recorded tells which one was run" in notes[0] and "--retrain-cmd" in notes[0], notes
