"""Where the next run reads each value, on realistic project layouts (tests/userproj/<layout>/), without training.

Each layout is copied into a temporary folder with the run folder its library leaves (the saved copy of the
settings a diagnosis cites). A diagnosis of that run is turned into a plan, which must edit the place the framework
reads first (launch flag > the config the launch loads > project configs > code default), keep every other byte,
never touch the run's folder, and show the user's own launch command with the fix and a fresh output folder.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from traindoc.plan.build import build_plan, render_markdown

FIXTURES = Path(__file__).resolve().parent / "userproj"


def project(layout: str, tmp: Path, run: str, dump: dict[str, str], log: str = "metrics.jsonl") -> Path:
    """The layout's files plus the run folder `run` holding `dump` (name -> text) and a log the diagnosis read."""
    root = tmp / layout
    shutil.copytree(FIXTURES / layout, root)
    shutil.copy(FIXTURES / "common" / "chardata.py", root / "chardata.py")
    (root / run).mkdir(parents=True, exist_ok=True)
    for name, text in dump.items():
        (root / run / name).parent.mkdir(parents=True, exist_ok=True)
        (root / run / name).write_text(text)
    (root / run / log).write_text('{"step": 1, "loss": 3.0}\n')
    return root


def diagnosis(root: Path, run: str, cause: str, key: str, after: str, cited: str | None,
              log: str = "metrics.jsonl", fmt: str = "jsonl") -> tuple[dict[str, Any], Path]:
    change = {"target": "config", "key": key, "after": after, "description": f"{key} -> {after}"}
    if cited:
        change.update(file=str(root / run / cited), line=2)
    diag = {
        "schema_version": "1.0", "verdict": "problems_found", "quick_wins": [], "findings": [],
        "run": {"paths": [str(root / run)], "metrics": {}, "step_range": [0, 200], "config_keys": [key],
                "code_files": [], "sources": [{"path": str(root / run / log), "format": fmt}]},
        "root_causes": [{"rank": 1, "cause": cause, "issue": cause, "confidence": 0.9, "evidence": ["e"],
                         "fix": {"summary": f"fix {cause}", "changes": [change]},
                         "impact": "high", "effort": "low", "risk": "low",
                         "expected_outcome": [{"kind": "cause_absent", "cause": cause, "description": "gone"}]}],
    }
    path = root.parent / f"{root.name}-diagnosis.json"
    path.write_text(json.dumps(diag))
    return diag, path


def plan_for(root: Path, diag: dict[str, Any], path: Path, **kw: Any) -> dict[str, Any]:
    plan = build_plan(diag, str(path), root=str(root), **kw)
    render_markdown(plan)  # renders without error
    return plan


def edited(plan: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for c in plan["changes"]:
        if c["kind"] != "new_file":  # the settings' regression tests: tests/test_plan_setting_tests.py
            out.setdefault(c["file"], []).append((c["before"].strip(), c["after"].strip()))
    return out


def assert_run_untouched(plan: dict[str, Any], run: str) -> None:
    assert not [c["file"] for c in plan["changes"] if Path(c["file"]).parts[:len(Path(run).parts)]
                == Path(run).parts], plan["changes"]


def test_hf_script_with_only_the_run_folder_never_edits_the_saved_args(tmp_path: Path) -> None:
    """The measured bug: only output/ (trainer_state.json + training_args.json) at hand; the plan edited
    output/training_args.json. Now: no edit, a manual step naming where to change it, no invented command."""
    root = tmp_path / "only-run"
    (root / "output").mkdir(parents=True)
    (root / "output" / "trainer_state.json").write_text('{"log_history": []}')
    (root / "output" / "training_args.json").write_text('{\n  "learning_rate": 0.1,\n  "max_steps": 160\n}\n')
    diag, path = diagnosis(root, "output", "lr_too_high", "training_args.learning_rate", "0.0003",
                           "training_args.json", log="trainer_state.json", fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert plan["changes"] == []
    notes = " ".join(plan["notes"])
    assert "output/training_args.json is the finished run's own copy" in notes and "--learning_rate 0.0003" in notes
    assert plan["verification"]["retrain"] is None
    assert "--retrain-cmd" in plan["verification"]["retrain_missing"]
    md = render_markdown(plan)
    assert "Nothing to apply automatically" in md and "could not be recovered" in md


def test_hf_script_edits_training_arguments_in_the_script(tmp_path: Path) -> None:
    root = project("hf_script", tmp_path, "output", {"trainer_state.json": "{}",
                                                      "training_args.json": '{\n  "learning_rate": 0.1\n}\n'},
                   log="trainer_state.json")
    diag, path = diagnosis(root, "output", "lr_too_high", "training_args.learning_rate", "0.0003",
                           "training_args.json", log="trainer_state.json", fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"train.py": [("learning_rate=0.1,  # bigger steps, faster training?",
                                          "learning_rate=0.0003,  # bigger steps, faster training?")]}
    ver = plan["verification"]
    assert ver["retrain_source"] == "run.sh:4"
    assert ver["retrain_argv"] == ["python", "train.py", "--output_dir", "output-fixed"]
    assert ver["new_run"] == str(root / "output-fixed")


def test_plain_argparse_flag_in_the_launch_script_wins_over_the_default(tmp_path: Path) -> None:
    root = project("plain_argparse", tmp_path, "runs/exp1", {"args.json": '{\n  "lr": 0.5\n}\n'})
    diag, path = diagnosis(root, "runs/exp1", "lr_too_high", "lr", "0.0003", "args.json")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"train.sh": [("python train.py --lr 0.5 --steps 150 --out runs/exp1",
                                          "python train.py --lr 0.0003 --steps 150 --out runs/exp1")]}
    assert plan["verification"]["retrain_argv"][-2:] == ["--out", "runs/exp1-fixed"]
    assert "--lr 0.0003" in plan["verification"]["retrain"]


def test_plain_argparse_without_the_flag_edits_the_argparse_default(tmp_path: Path) -> None:
    root = project("plain_argparse", tmp_path, "runs/exp1", {"args.json": '{\n  "grad_clip": 0.0\n}\n'})
    diag, path = diagnosis(root, "runs/exp1", "grad_explosion", "grad_clip", "0.5", "args.json")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"train.py": [('p.add_argument("--grad_clip", type=float, default=1.0)',
                                          'p.add_argument("--grad_clip", type=float, default=0.5)')]}


def test_hf_argparser_json_edits_the_json_the_command_loads(tmp_path: Path) -> None:
    root = project("hf_argparser_json", tmp_path, "output", {"trainer_state.json": "{}",
                                                              "training_args.json": '{\n "learning_rate": 0.1\n}'},
                   log="trainer_state.json")
    diag, path = diagnosis(root, "output", "lr_too_high", "learning_rate", "0.0003", "training_args.json",
                           log="trainer_state.json", fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"configs/train.json": [('"learning_rate": 0.1,', '"learning_rate": 0.0003,')]}
    ver = plan["verification"]
    assert ver["retrain_argv"] == ["python", "train.py", "configs/train.json"]
    # the JSON sends the output to the diagnosed run's folder: said, not silently overwritten
    assert ver["new_run"] is None and "train.json writes the run into output" in ver["retrain_notes"][0]


def test_hf_argparser_flags_edit_a_continued_launch_line(tmp_path: Path) -> None:
    root = project("hf_argparser_flags", tmp_path, "output", {"trainer_state.json": "{}"}, log="trainer_state.json")
    diag, path = diagnosis(root, "output", "grad_explosion", "max_grad_norm", "1.0", None, log="trainer_state.json",
                           fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"launch.sh": [("--max_grad_norm 0.0 \\", "--max_grad_norm 1.0 \\")]}
    argv = plan["verification"]["retrain_argv"]
    assert argv[argv.index("--max_grad_norm") + 1] == "1.0"
    assert argv[argv.index("--output_dir") + 1] == "output-fixed"


def test_hf_argparser_flags_keep_the_value_style(tmp_path: Path) -> None:
    root = project("hf_argparser_flags", tmp_path, "output", {"trainer_state.json": "{}"}, log="trainer_state.json")
    diag, path = diagnosis(root, "output", "lr_too_high", "learning_rate", "3e-4", None, log="trainer_state.json",
                           fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"launch.sh": [("--learning_rate 1e-1 \\", "--learning_rate 3e-4 \\")]}


def test_nanogpt_config_file_beats_the_default_in_train_py(tmp_path: Path) -> None:
    root = project("nanogpt", tmp_path, "out-letters", {"config.json": '{"learning_rate": 0.1}'}, log="log.txt")
    diag, path = diagnosis(root, "out-letters", "lr_too_high", "learning_rate", "6e-4", "config.json",
                           log="log.txt", fmt="text_log:nanogpt")
    plan = plan_for(root, diag, path)
    comment = "  # a small model tolerates a large LR?"
    assert edited(plan) == {"config/train_letters.py": [("learning_rate = 1.0" + comment,
                                                          "learning_rate = 0.0006" + comment)]}
    assert plan["verification"]["retrain_argv"] == ["python", "train.py", "config/train_letters.py",
                                                     "--max_iters=200", "--out_dir=out-letters-fixed"]


def test_nanogpt_override_on_the_command_beats_the_config_file(tmp_path: Path) -> None:
    root = project("nanogpt", tmp_path, "out-letters", {"config.json": '{"learning_rate": 0.1}'}, log="log.txt")
    (root / "Makefile").write_text("train:\n\tpython train.py config/train_letters.py --learning_rate=0.1\n")
    diag, path = diagnosis(root, "out-letters", "lr_too_high", "learning_rate", "6e-4", "config.json",
                           log="log.txt", fmt="text_log:nanogpt")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"Makefile": [("python train.py config/train_letters.py --learning_rate=0.1",
                                          "python train.py config/train_letters.py --learning_rate=0.0006")]}


def test_hydra_override_then_primary_config_never_the_hydra_dump(tmp_path: Path) -> None:
    dump = {".hydra/config.yaml": "optim:\n  lr: 0.1\n"}
    root = project("hydra", tmp_path, "outputs/2026-12-04/21-00-00", dump, log="train.log")
    diag, path = diagnosis(root, "outputs/2026-12-04/21-00-00", "lr_too_high", "optim.lr", "3.0e-3",
                           ".hydra/config.yaml", log="train.log", fmt="text_log:generic")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"run.sh": [("python train.py optim.lr=1.0 trainer.max_steps=200",
                                        "python train.py optim.lr=0.003 trainer.max_steps=200")]}
    assert plan["verification"]["new_run"] is None  # Hydra picks a new dated folder itself: not known in advance


def test_hydra_primary_config_named_by_hydra_main(tmp_path: Path) -> None:
    root = project("hydra", tmp_path, "outputs/2026-12-04/21-00-00", {".hydra/config.yaml": "optim:\n  lr: 0.1\n"},
                   log="train.log")
    (root / "run.sh").write_text("#!/bin/sh\npython train.py trainer.max_steps=200\n")
    diag, path = diagnosis(root, "outputs/2026-12-04/21-00-00", "grad_explosion", "optim.grad_clip", "1.0",
                           ".hydra/config.yaml", log="train.log", fmt="text_log:generic")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"conf/config.yaml": [("grad_clip: 0.0", "grad_clip: 1.0")]}


def test_dataclass_config_module_default(tmp_path: Path) -> None:
    root = project("dataclass_config", tmp_path, "runs/latest", {"config.json": '{"lr": 0.1, "warmup_steps": 0}'})
    diag, path = diagnosis(root, "runs/latest", "no_warmup", "warmup_steps", "10", "config.json")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"config.py": [("warmup_steps: int = 0", "warmup_steps: int = 10")]}
    # `python train.py` derived from the code is not offered: the script has no output option and no launch
    # command was recorded
    assert plan["verification"]["retrain"] is None


def test_accelerate_deepspeed_flag_for_lr_ds_config_for_clipping(tmp_path: Path) -> None:
    root = project("accelerate_deepspeed", tmp_path, "output", {"trainer_state.json": "{}"}, log="trainer_state.json")
    diag, path = diagnosis(root, "output", "lr_too_high", "learning_rate", "0.0003", None, log="trainer_state.json",
                           fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"Makefile": [("--output_dir output --learning_rate 0.1 --max_steps 160",
                                          "--output_dir output --learning_rate 0.0003 --max_steps 160")]}
    argv = plan["verification"]["retrain_argv"]
    assert argv[:4] == ["accelerate", "launch", "--config_file", "accelerate_config.yaml"]
    assert argv[argv.index("--output_dir") + 1] == "output-fixed"
    # DeepSpeed's own gradient_clipping is what the engine uses (HF fills only its "auto" values)
    diag, path = diagnosis(root, "output", "grad_explosion", "max_grad_norm", "1.0", None, log="trainer_state.json",
                           fmt="hf_trainer_state")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"ds_config.json": [('"gradient_clipping": 0.0,', '"gradient_clipping": 1.0,')]}


def test_lightning_hparams_in_code_not_the_logger_hparams_yaml(tmp_path: Path) -> None:
    root = project("lightning_code", tmp_path, "logs/lightning_logs/version_0",
                   {"hparams.yaml": "lr: 0.1\nwidth: 64\n"}, log="metrics.csv")
    diag, path = diagnosis(root, "logs/lightning_logs/version_0", "lr_too_high", "lr", "0.003", "hparams.yaml",
                           log="metrics.csv", fmt="lightning_csv")
    plan = plan_for(root, diag, path)
    options = 'width=64, depth=2, activation="tanh", use_layer_norm=True,'
    assert edited(plan) == {"train.py": [(f"model = LetterModel(lr=1.0, {options}",
                                          f"model = LetterModel(lr=0.003, {options}")]}


def test_lightning_cli_yaml_the_makefile_loads(tmp_path: Path) -> None:
    saved = "model:\n  lr: 0.1\n  width: 64\ntrainer:\n  max_steps: 200\n"
    root = project("lightning_cli", tmp_path, "lightning_logs/version_0", {"config.yaml": saved,
                                                                         "hparams.yaml": "lr: 0.1\n"},
                   log="metrics.csv")
    diag, path = diagnosis(root, "lightning_logs/version_0", "lr_too_high", "model.lr", "0.003", "config.yaml",
                           log="metrics.csv", fmt="lightning_csv")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"configs/fit.yaml": [("lr: 1.0", "lr: 0.003")]}
    assert plan["verification"]["retrain_argv"] == ["python", "main.py", "fit", "--config", "configs/fit.yaml"]


def test_notebook_export_with_wandb_metadata_argv(tmp_path: Path) -> None:
    meta = json.dumps({"program": "letters_notebook.py", "args": ["--seed", "1"], "python": "3.12"})
    root = project("notebook_export", tmp_path, "wandb/offline-run-20261204_210000-abc",
                   {"files/wandb-metadata.json": meta}, log="run-abc.wandb")
    diag, path = diagnosis(root, "wandb/offline-run-20261204_210000-abc", "lr_too_high", "lr", "0.003", None,
                           log="run-abc.wandb", fmt="wandb")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"letters_notebook.py": [("lr = 1.0", "lr = 0.003")]}
    ver = plan["verification"]
    assert ver["retrain_argv"] == ["python", "letters_notebook.py", "--seed", "1"]
    assert ver["retrain_source"].startswith("W&B metadata")


@pytest.mark.slow
def test_wandb_offline_run_record_gives_the_command_even_after_the_project_moved(tmp_path: Path) -> None:
    """wandb >= 0.19 offline runs write no files/wandb-metadata.json: the program and its argv are only in the run's
    environment record, inside run-<id>.wandb. Its `code_path` (relative) still finds the script when the project
    was copied elsewhere after the run, where the recorded absolute `program` no longer exists."""
    pytest.importorskip("wandb")
    first = tmp_path / "first"
    first.mkdir()
    (first / "fit.py").write_text(
        "import argparse, os\nimport wandb\np = argparse.ArgumentParser()\np.add_argument('--seed', type=int)\n"
        "p.add_argument('--lr', type=float)\na = p.parse_args()\n"
        "run = wandb.init(project='t', mode='offline', dir=os.getcwd(), config=vars(a))\n"
        "for s in range(20): run.log({'loss': 3.0 / (s + 1)}, step=s)\nrun.finish()\n")
    env = {**os.environ, "WANDB_SILENT": "true", "WANDB_MODE": "offline"}
    proc = subprocess.run([sys.executable, "fit.py", "--seed", "1", "--lr", "0.5"], cwd=first, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not list(first.glob("wandb/*/files/wandb-metadata.json"))  # the record is the only place
    root = tmp_path / "moved"
    shutil.copytree(first, root)
    shutil.rmtree(first)
    run = str(next(root.glob("wandb/offline-run-*")).relative_to(root))
    diag, path = diagnosis(root, run, "lr_too_high", "lr", "0.003", None, log="unused.log", fmt="wandb")
    diag["run"]["sources"] = [{"path": str(root / run), "format": "wandb_run"}]
    plan = plan_for(root, diag, path)
    ver = plan["verification"]
    assert ver["retrain_argv"] == ["python", "fit.py", "--seed", "1", "--lr", "0.003"]
    assert ver["retrain_source"].startswith("W&B run record run-") and plan["changes"] == []
    assert [f.get("in_retrain_command") for f in plan["fixes"]] == [True]


def test_command_echoed_in_the_log_carries_the_fix_when_no_file_holds_it(tmp_path: Path) -> None:
    root = project("plain_argparse", tmp_path, "runs/exp1", {"args.json": '{\n  "lr": 0.5\n}\n'}, log="train.log")
    (root / "train.sh").unlink()
    (root / "runs/exp1/train.log").write_text("command: python train.py --lr 0.5 --out runs/exp1\nstep 1 loss 3.0\n")
    diag, path = diagnosis(root, "runs/exp1", "lr_too_high", "lr", "0.0003", "args.json", log="train.log",
                           fmt="text_log:generic")
    plan = plan_for(root, diag, path)
    assert plan["changes"] == []  # train.py's default is not what this run used: the command's flag is
    ver = plan["verification"]
    assert ver["retrain_argv"] == ["python", "train.py", "--lr", "0.0003", "--out", "runs/exp1-fixed"]
    assert ver["retrain_source"] == "echoed in train.log:1"
    assert any("in the retrain command" in n for n in plan["notes"])


def test_retrain_cmd_given_by_the_user(tmp_path: Path) -> None:
    root = tmp_path / "only-run"
    (root / "output").mkdir(parents=True)
    (root / "output" / "trainer_state.json").write_text("{}")
    (root / "train.py").write_text("import argparse\n")
    diag, path = diagnosis(root, "output", "lr_too_high", "learning_rate", "0.0003", None, log="trainer_state.json",
                           fmt="hf_trainer_state")
    plan = plan_for(root, diag, path, retrain_cmd="python train.py --learning_rate 0.1 --output_dir output")
    ver = plan["verification"]
    assert ver["retrain_source"] == "given with --retrain-cmd"
    assert ver["retrain_argv"] == ["python", "train.py", "--learning_rate", "0.0003", "--output_dir", "output-fixed"]
    assert shlex.split(ver["retrain"])[:3] == ["cd", str(root), "&&"]  # shown runnable from anywhere


@pytest.mark.parametrize("bad", ["", "python 'unclosed"])
def test_bad_retrain_cmd_is_one_line(tmp_path: Path, bad: str) -> None:
    from traindoc.plan.build import PlanError

    root = tmp_path / "p"
    (root / "output").mkdir(parents=True)
    diag, path = diagnosis(root, "output", "lr_too_high", "learning_rate", "0.0003", None)
    if bad == "":
        plan = plan_for(root, diag, path, retrain_cmd=bad)  # empty: as if not given
        assert plan["verification"]["retrain"] is None
        return
    with pytest.raises(PlanError, match="--retrain-cmd"):
        plan_for(root, diag, path, retrain_cmd=bad)


def test_launch_lines_outside_the_project_or_through_symlinks_are_not_used(tmp_path: Path) -> None:
    """A project from someone else: a launch script that is a symlink out of the project, or a command whose script
    lies outside it, gives no retrain command (and nothing is edited through them)."""
    root = project("plain_argparse", tmp_path, "runs/exp1", {"args.json": '{\n  "lr": 0.5\n}\n'})
    outside = tmp_path / "elsewhere.sh"
    outside.write_text("python train.py --lr 0.5 --out runs/exp1\n")
    (root / "train.sh").unlink()
    (root / "train.sh").symlink_to(outside)
    (root / "other.sh").write_text("python ../evil.py --lr 0.5\n")
    (tmp_path / "evil.py").write_text("print('never')\n")
    diag, path = diagnosis(root, "runs/exp1", "lr_too_high", "lr", "0.0003", "args.json")
    plan = plan_for(root, diag, path)
    assert plan["verification"]["retrain_source"] == "derived from train.py's own options (no launch command " \
                                                     "recorded)"
    assert plan["verification"]["retrain_argv"] == ["python", "train.py", "--out", "runs/exp1-fixed"]
    assert "elsewhere.sh" not in json.dumps(plan) and "evil" not in json.dumps(plan)
    assert outside.read_text() == "python train.py --lr 0.5 --out runs/exp1\n"


def test_derived_output_folder_sits_beside_the_run_not_inside_it(tmp_path: Path) -> None:
    """A run's own sub-folders (checkpoints/) are diagnosed too: the new run goes beside the outermost run folder,
    never inside it (verify would rightly refuse a "new run" inside the diagnosed one)."""
    from traindoc.plan.launch import Launch
    from traindoc.plan.retrain import retrain_command

    ws = tmp_path / "ws"
    (ws / "run" / "checkpoints").mkdir(parents=True)
    (ws / "train.py").write_text("import argparse\np = argparse.ArgumentParser()\np.add_argument('--out')\n")
    lc = Launch(argv=["python", "train.py"], script=1, cwd=ws, source="derived")
    for dirs in ([ws / "run" / "checkpoints", ws / "run"], [ws / "run", ws / "run" / "checkpoints"]):
        rt = retrain_command(lc, dirs, lambda p: Path(p).read_text())
        assert rt["new_run"] == str((ws / "run-fixed").resolve()), rt
        assert rt["argv"][-2:] == ["--out", "run-fixed"]


# The config LightningCLI 2.6.6 saves in the run's log folder (SaveConfigCallback, `skip_none=False`): every Trainer
# argument in signature order, then the model's and the data module's init arguments. Written out here so these
# plan tests need no training; test_the_hand_copy_matches_what_lightning_cli_saves checks it against the file the
# installed LightningCLI (jsonargparse) writes, and tests/test_userproj_loop.py replans from a real one.
TRAINER_DEFAULTS = """\
  accelerator: cpu
  strategy: auto
  devices: auto
  num_nodes: 1
  precision: null
  logger: null
  callbacks: null
  fast_dev_run: false
  max_epochs: null
  min_epochs: null
  max_steps: 200
  min_steps: null
  max_time: null
  limit_train_batches: null
  limit_val_batches: null
  limit_test_batches: null
  limit_predict_batches: null
  overfit_batches: 0.0
  val_check_interval: null
  check_val_every_n_epoch: 1
  num_sanity_val_steps: null
  log_every_n_steps: null
  enable_checkpointing: null
  enable_progress_bar: null
  enable_model_summary: null
  accumulate_grad_batches: 1
  gradient_clip_val: null
  gradient_clip_algorithm: null
  deterministic: null
  benchmark: null
  inference_mode: true
  use_distributed_sampler: true
  profiler: null
  detect_anomaly: false
  barebones: false
  plugins: null
  sync_batchnorm: false
  reload_dataloaders_every_n_epochs: 0
  default_root_dir: null
  enable_autolog_hparams: true
  model_registry: null
"""
LIGHTNING_SAVED = ("seed_everything: 0\ntrainer:\n" + TRAINER_DEFAULTS + "model:\n  lr: 0.1\n  width: 64\n"
                   "data:\n  batch_size: 32\noptimizer: null\nlr_scheduler: null\nckpt_path: null\n"
                   "weights_only: null\n")


def lightning_cli_run(tmp: Path) -> Path:
    """The LightningCLI layout launched by hand (no Makefile), its run folder holding the saved config."""
    root = project("lightning_cli", tmp, "lightning_logs/version_0", {"config.yaml": LIGHTNING_SAVED,
                                                                     "hparams.yaml": "lr: 0.1\nwidth: 64\n"},
                   log="metrics.csv")
    (root / "Makefile").unlink()
    return root


@pytest.mark.slow
def test_the_hand_copy_matches_what_lightning_cli_saves(tmp_path: Path) -> None:
    """The real LightningCLI (2 steps) saves the same groups, and every Trainer argument of the hand copy, in the
    same order."""
    import yaml

    root = project("lightning_cli", tmp_path, "unused", {})
    proc = subprocess.run([sys.executable, "main.py", "fit", "--config", "configs/fit.yaml", "--trainer.max_steps=2",
                           "--trainer.enable_progress_bar=false"], cwd=root, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    real = yaml.safe_load((root / "lightning_logs/version_0/config.yaml").read_text())
    hand = yaml.safe_load(LIGHTNING_SAVED)
    assert list(real) == list(hand)
    assert [k for k in real["trainer"] if k in hand["trainer"]] == list(hand["trainer"])


@pytest.mark.parametrize(("cause", "key", "after", "flag"), [
    ("lr_too_high", "model.lr", "0.003", "--model.lr=0.003"),
    ("lr_too_high", "lr", "0.003", "--model.lr=0.003"),  # a short key names one nested key of the saved config
    ("grad_explosion", "max_grad_norm", "1.0", "--trainer.gradient_clip_val=1.0"),  # HF's name for the setting
])
def test_lightning_cli_replays_the_saved_config_with_a_dotted_override(tmp_path: Path, cause: str, key: str,
                                                                       after: str, flag: str) -> None:
    root = lightning_cli_run(tmp_path)
    project_cfg = (root / "configs/fit.yaml").read_text()
    diag, path = diagnosis(root, "lightning_logs/version_0", cause, key, after, "config.yaml", log="metrics.csv",
                           fmt="lightning_csv")
    plan = plan_for(root, diag, path)
    # configs/fit.yaml also sets it, but the replayed command does not load it (and the saved config sets every
    # value, so a code default would not count either): nothing in the project is edited
    assert plan["changes"] == []
    ver = plan["verification"]
    assert ver["retrain_argv"] == ["python", "main.py", "fit", "--config", "lightning_logs/version_0/config.yaml",
                                   flag]
    assert ver["retrain_source"] == "the config LightningCLI saved in lightning_logs/version_0, replayed by main.py"
    assert ver["new_run"] == str(root / "lightning_logs/version_1")  # the default logger's next version
    assert any("in the retrain command" in n and "never edited" in n for n in plan["notes"]), plan["notes"]
    assert (root / "configs/fit.yaml").read_text() == project_cfg
    assert (root / "lightning_logs/version_0/config.yaml").read_text() == LIGHTNING_SAVED


def test_lightning_cli_a_launch_makefile_still_wins_over_the_saved_config(tmp_path: Path) -> None:
    root = lightning_cli_run(tmp_path)
    (root / "Makefile").write_text("fit:\n\tpython main.py fit --config configs/fit.yaml\n")
    diag, path = diagnosis(root, "lightning_logs/version_0", "lr_too_high", "model.lr", "0.003", "config.yaml",
                           log="metrics.csv", fmt="lightning_csv")
    plan = plan_for(root, diag, path)
    assert edited(plan) == {"configs/fit.yaml": [("lr: 1.0", "lr: 0.003")]}


def test_lightning_cli_without_a_saved_config_or_entry_script_is_not_invented(tmp_path: Path) -> None:
    root = lightning_cli_run(tmp_path)
    (root / "lightning_logs/version_0/config.yaml").unlink()  # a run without SaveConfigCallback: only hparams.yaml
    diag, path = diagnosis(root, "lightning_logs/version_0", "lr_too_high", "model.lr", "0.003", None,
                           log="metrics.csv", fmt="lightning_csv")
    assert plan_for(root, diag, path)["verification"]["retrain"] is None
    root = lightning_cli_run(tmp_path / "second")
    (root / "main.py").write_text("print('no CLI here')\n")
    diag, path = diagnosis(root, "lightning_logs/version_0", "lr_too_high", "model.lr", "0.003", "config.yaml",
                           log="metrics.csv", fmt="lightning_csv")
    plan = plan_for(root, diag, path)
    assert plan["verification"]["retrain"] is None
    assert "--retrain-cmd" in plan["verification"]["retrain_missing"]


def test_lightning_cli_subclass_mode_and_run_false(tmp_path: Path) -> None:
    """`model: {class_path, init_args}` (subclass mode) takes the full dotted path; `LightningCLI(run=False)` has no
    subcommand."""
    root = lightning_cli_run(tmp_path)
    saved = LIGHTNING_SAVED.replace("model:\n  lr: 0.1\n  width: 64\n", "model:\n  class_path: lightning_code_model"
                                    ".LetterModel\n  init_args:\n    lr: 0.1\n    width: 64\n")
    (root / "lightning_logs/version_0/config.yaml").write_text(saved)
    (root / "main.py").write_text((root / "main.py").read_text().replace("LightningCLI(LetterModel, LetterData)",
                                                                         "LightningCLI(LetterModel, LetterData, "
                                                                         "run=False)"))
    diag, path = diagnosis(root, "lightning_logs/version_0", "lr_too_high", "lr", "0.003", "config.yaml",
                           log="metrics.csv", fmt="lightning_csv")
    plan = plan_for(root, diag, path)
    assert plan["verification"]["retrain_argv"] == ["python", "main.py", "--config",
                                                     "lightning_logs/version_0/config.yaml",
                                                     "--model.init_args.lr=0.003"]


# MLflow's file store, written out exactly as MLflow's FileStore lays it out, for the cases a real `mlflow run` is
# not made to show (a missing MLproject, an entry point without a command ...): mlruns/<experiment id>/<run id>/
# meta.yaml, params/<name> and tags/<name> each holding the raw value (no newline), metrics/<name> one
# "<timestamp ms> <value> <step>" line per logged value. tests/test_userproj_loop.py recovers the launch from a store
# `mlflow run` wrote itself.
RUN_ID = "3f2a9c0d5b7e4e0f8a1b2c3d4e5f6a7b"
MLPROJECT = """\
name: letters
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      lr: {type: float, default: 0.003}
      steps: {type: int, default: 150}
      out: {type: string, default: runs/exp}
    command: "python train.py --lr {lr} --steps {steps} --out {out}"
"""


def mlflow_run(tmp: Path, tags: dict[str, str], params: dict[str, str]) -> tuple[Path, str]:
    """The plain_argparse project with no launch script, and one MLflow run of it in mlruns/0/."""
    root = project("plain_argparse", tmp, "runs/unused", {})
    (root / "train.sh").unlink()
    shutil.rmtree(root / "runs")
    run = f"mlruns/0/{RUN_ID}"
    exp, d = root / "mlruns/0", root / run
    (d / "metrics").mkdir(parents=True)
    (exp / "meta.yaml").write_text(f"artifact_location: file://{exp}\ncreation_time: 1764882000000\nexperiment_id: "
                                   "'0'\nlast_update_time: 1764882000000\nlifecycle_stage: active\nname: Default\n")
    (d / "meta.yaml").write_text(
        f"artifact_uri: file://{d}/artifacts\nend_time: 1764882600000\nentry_point_name: ''\nexperiment_id: '0'\n"
        f"lifecycle_stage: active\nrun_id: {RUN_ID}\nrun_name: bright-fox-42\nrun_uuid: {RUN_ID}\nsource_name: ''\n"
        "source_type: 4\nsource_version: ''\nstart_time: 1764882000000\nstatus: 3\ntags: []\nuser_id: me\n")
    (d / "metrics/loss").write_text("1764882001000 3.0 1\n1764882002000 9.5 2\n")
    for folder, values in (("params", params), ("tags", {"mlflow.user": "me", "mlflow.runName": "bright-fox-42",
                                                         **tags})):
        (d / folder).mkdir()
        for k, v in values.items():
            (d / folder / k).write_text(v)
    return root, run


def mlflow_plan(root: Path, run: str, **kw: Any) -> dict[str, Any]:
    diag, path = diagnosis(root, run, "lr_too_high", "lr", "0.0003", None, log="metrics/loss", fmt="mlflow_store")
    diag["run"]["sources"] = [{"path": str(root / run), "format": "mlflow_store"}]  # the reader's source: the run
    path.write_text(json.dumps(diag))
    return plan_for(root, diag, path, **kw)


def test_mlflow_project_entry_point_filled_with_the_runs_params(tmp_path: Path) -> None:
    root, run = mlflow_run(tmp_path, {"mlflow.source.type": "PROJECT", "mlflow.project.entryPoint": "main",
                                      "mlflow.project.backend": "local", "mlflow.project.env": "virtualenv"},
                           {"lr": "0.5", "out": "runs/exp1", "batch_size": "32"})
    (root / "MLproject").write_text(MLPROJECT)
    (tmp_path / "plain_argparse/mlruns/0" / RUN_ID / "tags/mlflow.source.name").write_text(str(root))
    plan = mlflow_plan(root, run)
    ver = plan["verification"]
    # steps was not logged: the entry point's default; batch_size was logged by the script, not a placeholder
    assert ver["retrain_argv"] == ["python", "train.py", "--lr", "0.0003", "--steps", "150", "--out", "runs/exp1"]
    assert ver["retrain_source"] == f"MLflow run {RUN_ID}: entry point 'main' of MLproject with the run's params"
    assert plan["changes"] == []  # the command's --lr wins over train.py's default: the fix is on the command
    assert any("in the retrain command" in n for n in plan["notes"])
    assert not any((root / run).rglob("*-fixed*")) and (root / run / "params/lr").read_text() == "0.5"


@pytest.mark.parametrize(("mlproject", "why"), [
    (None, "no MLproject file is in"),
    (MLPROJECT.replace("main:", "train:"), "declares no command for the entry point 'main'"),
    (MLPROJECT.replace("      out: {type: string, default: runs/exp}\n", ""), "no value for the parameter 'out'"),
    (MLPROJECT.replace("python train.py", "bash go.sh"), "does not run a Python script of the project"),
])
def test_mlflow_project_that_cannot_be_filled_asks_for_the_command(tmp_path: Path, mlproject: str | None,
                                                                   why: str) -> None:
    root, run = mlflow_run(tmp_path, {"mlflow.source.type": "PROJECT", "mlflow.project.entryPoint": "main",
                                      "mlflow.source.name": "https://github.com/someone/letters"}, {"lr": "0.5"})
    if mlproject:
        (root / "MLproject").write_text(mlproject)
    plan = mlflow_plan(root, run)
    assert plan["verification"]["retrain"] is None  # train.py's own --out is not offered instead
    assert any(why in n and "--retrain-cmd" in n for n in plan["notes"]), plan["notes"]


def test_mlflow_source_script_with_an_output_option(tmp_path: Path) -> None:
    root, run = mlflow_run(tmp_path, {"mlflow.source.type": "LOCAL", "mlflow.source.name": "train.py"},
                           {"lr": "0.5"})
    plan = mlflow_plan(root, run)
    ver = plan["verification"]
    assert ver["retrain_source"].startswith("derived from train.py's own options, the entry script MLflow run")
    # the new run's output beside the store, never a stray folder inside mlruns/0/
    assert ver["retrain_argv"] == ["python", "train.py", "--out", f"{RUN_ID}-fixed"]
    assert edited(plan) == {"train.py": [('p.add_argument("--lr", type=float, default=3e-3)',
                                          'p.add_argument("--lr", type=float, default=3e-4)')]}


def test_mlflow_source_script_without_an_output_option_is_not_guessed(tmp_path: Path) -> None:
    root, run = mlflow_run(tmp_path, {"mlflow.source.type": "LOCAL", "mlflow.source.name": "fit.py"}, {"lr": "0.5"})
    (root / "fit.py").write_text("import argparse\n\nif __name__ == '__main__':\n    p = argparse.ArgumentParser()\n"
                                 "    p.add_argument('--lr', type=float, default=0.5)\n    p.parse_args()\n")
    plan = mlflow_plan(root, run)
    assert plan["verification"]["retrain"] is None  # not train.py, which MLflow did not name
    assert any("recorded the entry script fit.py but not its arguments" in n for n in plan["notes"]), plan["notes"]


@pytest.mark.parametrize("makefile", [False, True])
def test_lightning_clipping_switched_off_by_null_is_the_setting_changed(tmp_path: Path, makefile: bool) -> None:
    """grad_explosion's own fix (no change named by the diagnosis): `gradient_clip_val: null` is Lightning's
    clipping switched off, so it is the setting set to 1.0, on the replayed command or in the config the Makefile
    loads."""
    root = lightning_cli_run(tmp_path)
    if makefile:
        (root / "Makefile").write_text("fit:\n\tpython main.py fit --config configs/fit.yaml\n")
    diag, path = diagnosis(root, "lightning_logs/version_0", "grad_explosion", "grad_clip", "1.0", None,
                           log="metrics.csv", fmt="lightning_csv")
    diag["root_causes"][0]["fix"]["changes"] = []
    plan = plan_for(root, diag, path)
    argv = plan["verification"]["retrain_argv"]
    if makefile:
        assert edited(plan) == {"configs/fit.yaml": [("gradient_clip_val: null", "gradient_clip_val: 1.0")]}
        assert argv == ["python", "main.py", "fit", "--config", "configs/fit.yaml"]
    else:
        assert plan["changes"] == [] and argv[-1] == "--trainer.gradient_clip_val=1.0"


def mlflow_db(path: Path, runs: list[tuple[str, int, str, dict[str, str], dict[str, str]]]) -> None:
    """An MLflow SQLite store with the columns MLflow's tables have (runs, tags, params), written with sqlite3:
    (run id, start time, lifecycle stage, tags, params) per run."""
    import sqlite3

    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20), "
        "source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9), "
        "start_time BIGINT, end_time BIGINT, deleted_time BIGINT, source_version VARCHAR(50), "
        "lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER);"
        "CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL, "
        "PRIMARY KEY (key, run_uuid));"
        "CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,"
        " PRIMARY KEY (key, run_uuid));")
    for run_id, start, stage, tags, params in runs:
        con.execute("INSERT INTO runs VALUES (?, 'r', 'UNKNOWN', '', '', 'me', 'FINISHED', ?, ?, NULL, '', ?, "
                    "'mlflow-artifacts:/0', 0)", (run_id, start, start + 600_000, stage))
        con.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(k, v, run_id) for k, v in tags.items()])
        con.executemany("INSERT INTO params VALUES (?, ?, ?)", [(k, v, run_id) for k, v in params.items()])
    con.commit()
    con.close()


def test_mlflow_sqlite_store_newest_live_run(tmp_path: Path) -> None:
    """MLflow >= 3.7 keeps runs in mlflow.db by default: the newest run that is not deleted gives the command."""
    root = project("plain_argparse", tmp_path, "runs/unused", {})
    (root / "train.sh").unlink()
    (root / "MLproject").write_text(MLPROJECT)
    project_tags = {"mlflow.source.type": "PROJECT", "mlflow.project.entryPoint": "main",
                    "mlflow.source.name": str(root)}
    mlflow_db(root / "mlflow.db", [("a" * 32, 1_000, "active", project_tags, {"lr": "0.5", "out": "runs/old"}),
                                   ("b" * 32, 2_000, "active", project_tags, {"lr": "0.5", "out": "runs/exp1"}),
                                   ("c" * 32, 3_000, "deleted", project_tags, {"lr": "0.9", "out": "runs/gone"})])
    before = (root / "mlflow.db").read_bytes()
    diag, path = diagnosis(root, "runs/unused", "lr_too_high", "lr", "0.0003", None)
    diag["run"]["sources"] = [{"path": str(root / "mlflow.db"), "format": "mlflow_db"}]
    diag["run"]["paths"] = [str(root / "mlflow.db")]
    plan = plan_for(root, diag, path)
    ver = plan["verification"]
    assert ver["retrain_argv"] == ["python", "train.py", "--lr", "0.0003", "--steps", "150", "--out", "runs/exp1"]
    assert ver["retrain_source"].startswith(f"MLflow run {'b' * 32}: entry point 'main'")
    assert (root / "mlflow.db").read_bytes() == before and sorted(p.name for p in root.glob("mlflow.db*")) == [
        "mlflow.db"]  # read-only: no journal or WAL beside it


def test_a_command_that_loads_a_runs_own_copy_gets_a_manual_step_not_an_edit_elsewhere(tmp_path: Path) -> None:
    """The echoed command hands HfArgumentParser the finished run's saved JSON: that file is never edited, and
    neither is configs/train.json (which this command does not load) nor a default in code (the JSON sets the
    value); HfArgumentParser's JSON form takes no flag, so the plan says what to set, by hand."""
    root = project("hf_argparser_json", tmp_path, "output", {"training_args.json": '{\n "learning_rate": 0.1\n}\n',
                                                              "trainer_state.json": "{}"}, log="train.log")
    (root / "Makefile").unlink()
    (root / "output/train.log").write_text("$ python train.py output/training_args.json\nstep 1 loss 3.0\n")
    diag, path = diagnosis(root, "output", "lr_too_high", "learning_rate", "0.0003", "training_args.json",
                           log="train.log", fmt="text_log:generic")
    plan = plan_for(root, diag, path)
    assert plan["changes"] == []
    manual = [n for n in plan["notes"] if "output/training_args.json is the finished run's own copy" in n]
    assert len(manual) == 1 and "the launch command loads output/training_args.json" in manual[0], plan["notes"]
    assert plan["verification"]["retrain_argv"] == ["python", "train.py", "output/training_args.json"]
    assert "takes no other flag" in plan["verification"]["retrain_notes"][0]
    # the real saved arguments name the output folder: the diagnosed run's, said before retraining
    (root / "output/training_args.json").write_text('{\n "learning_rate": 0.1,\n "output_dir": "output"\n}\n')
    ver = plan_for(root, diag, path)["verification"]
    assert ver["new_run"] is None and "writes the run into output" in ver["retrain_notes"][0]
