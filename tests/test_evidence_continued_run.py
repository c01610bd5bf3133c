"""A run that starts from an earlier run's weights (a resume or init option naming a checkpoint) logs no start of
training: its first loss is the trained model's, so how little the loss fell over it says nothing of its LR
(evidence/context.py, `continued_from`, `progress`). The whole-loop no_warmup scenario (tests/userproj: plain
argparse continued at AdamW 1e-2 from a checkpoint) read lr_too_high 1.00 on "loss decreased only 9.8%" on 1 of 9
seeds of the continued run, which explained the missing warmup away."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.context import continued_from, progress
from traindoc.evidence.detectors.optimisation import detect_lr_too_high
from traindoc.ingest.loader import load_run


def _write_run(folder: Path, args: dict, loss: np.ndarray) -> Path:
    folder.mkdir(parents=True)
    (folder / "args.json").write_text(json.dumps(args))
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"step": i + 1, "loss": float(x)}) + "\n"
                                                  for i, x in enumerate(loss)))
    return folder


# a trained model's loss continued for 150 steps: a jump at step 2 back to the level it started at, ending ~8 %
# under the median of its first 15 points (the jump among them): under lr_too_high's 10 % "decreased only"
rng = np.random.default_rng(0)
CONTINUED = np.concatenate([[1.07, 2.12, 1.79, 1.37, 1.32, 1.25, 1.16], 1.08 + 0.02 * rng.standard_normal(143)])
ARGS = {"optimizer": "adamw", "lr": 0.01, "steps": 150, "warmup_steps": 0}


@pytest.mark.parametrize(("key", "value"), [("init_from", "base/model.pt"), ("init_from", "resume"),
                                            ("model_name_or_path", "base/checkpoint-160"),
                                            ("resume_from_checkpoint", True), ("ckpt_path", "last"),
                                            ("resume", "runs/a/ckpt_1000.pth")])
def test_an_option_naming_trained_weights_is_a_continued_run(tmp_path: Path, key: str, value: object) -> None:
    run = load_run([_write_run(tmp_path / "run", {**ARGS, key: value}, CONTINUED)])
    cv = continued_from(run)
    assert cv is not None and cv.key.rsplit(".", 1)[-1] == key
    assert progress(run) is None


@pytest.mark.parametrize(("key", "value"), [("init_from", "scratch"), ("model_name_or_path", "gpt2"),
                                            ("resume_from_checkpoint", None), ("resume", False),
                                            ("ckpt_path", None), ("resume_from", "checkpoints/"),
                                            ("model_name_or_path", True)])
def test_a_hub_model_a_save_folder_or_an_option_off_is_no_continued_run(tmp_path: Path, key: str,
                                                                       value: object) -> None:
    run = load_run([_write_run(tmp_path / "run", {**ARGS, key: value}, CONTINUED)])
    assert continued_from(run) is None
    assert progress(run) is not None


def test_lr_too_high_does_not_read_a_continued_runs_small_decrease_as_a_stuck_loss(tmp_path: Path) -> None:
    # fires: the same log from a run that names no start weights reads as a loss stuck at an LR 33x AdamW's
    scratch = detect_lr_too_high(load_run([_write_run(tmp_path / "scratch", ARGS, CONTINUED)]))
    assert scratch and scratch[0].strength >= 0.5
    assert any("decreased only" in e for e in scratch[0].evidence)
    # silent: continued from a checkpoint, the small decrease is no symptom; the LR alone stays a candidate
    cont = detect_lr_too_high(load_run([_write_run(tmp_path / "cont", {**ARGS, "init_from": "base/model.pt"},
                                                   CONTINUED)]))
    assert not any("decreased only" in e for f in cont for e in f.evidence)
    assert all(f.strength < 0.5 for f in cont)
