"""LeRobot's training console (_lerobot_train_log.py) and the console capture of a W&B run folder copied without its
`latest-run` link (wandb.console_log, Reader.passthrough). Blind (issue 8, session 32) a LeRobot run's W&B folder
read as its summary alone (insufficient data) and its output.log, read alone, put its points on the `ep:` counter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._lerobot_train_log import format_big_number, parse_lerobot
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
PREFIX = "INFO 2025-12-12 21:47:14 ot_train.py:351 "


def test_wandb_folder_reads_the_lerobot_console_at_every_logged_step():
    run = load_run([REALWORLD / "g3s32-lerobot-act-hackathon-mission1-5000steps" / "run"])
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == list(range(200, 5001, 200))
    values = [round(float(v), 3) for v in loss.values]
    assert values[:6] == [3.344, 1.105, 0.598, 0.389, 0.294, 0.244] and values[-1] == 0.08
    gn = run.series("grad_norm")
    assert gn is not None and len(gn) == 25 and round(float(gn.values[0]), 3) == 62.015
    assert not {"grdn", "epch", "updt_s", "data_s"} & set(run.metrics)
    assert any(s.format == "text_log:lerobot" for s in run.sources)


@pytest.mark.parametrize("num,printed", [(999, "999"), (1000, "1K"), (1400, "1K"), (1600, "2K"), (2500, "2K"),
                                         (320000, "320K"), (1_200_000, "1M")])
def test_counter_format(num: int, printed: str):
    assert format_big_number(num) == printed


def test_abbreviated_first_step_then_steps_from_the_epoch_count():
    st = State()
    rec = parse_lerobot(PREFIX + "step:10K smpl:640K ep:2K epch:5.00 loss:0.120 grdn:3.100 lr:1.0e-04 updt_s:0.2 "
                                 "data_s:0.0", st)
    assert rec is not None and rec.step == 10_000 and rec.metrics == {"loss": 0.12, "grad_norm": 3.1, "lr": 1e-4,
                                                                       "epoch": 5.0}
    rec = parse_lerobot(PREFIX + "step:10K smpl:653K ep:2K epch:5.10 loss:0.118 grdn:3.000 lr:1.0e-04 updt_s:0.2 "
                                 "data_s:0.0", st)
    assert rec is not None and rec.step == 10_200  # 5.10 epochs at 2000 steps per epoch still prints "10K"
    rec = parse_lerobot(PREFIX + "step:10K smpl:666K ep:2K epch:5.20 ∑rwrd:103.2 success:45.0% eval_s:12.3", st)
    assert rec is not None and rec.eval and rec.step is None
    assert rec.metrics == {"eval_sum_reward": 103.2, "eval_success": 45.0}


@pytest.mark.parametrize("line", [
    "step:200 loss:0.3",  # no LeRobot counters
    "Step 200 | loss 0.3 | lr 1e-4",
    "step: 100 loss: 0.5 grad_norm: 1.2",
    "Epoch 1, Loss G: 1.1087, Loss D: -0.0124",
    "INFO 2025-12-12 21:34:22 ot_train.py:262 cfg.steps=5000 (5K)",
])
def test_parser_silent_on_other_lines(line: str):
    assert parse_lerobot(line, State()) is None


def _wandb_run(folder: Path, name: str, lines: list[str]) -> None:
    files = folder / name / "files"
    files.mkdir(parents=True)
    (files / "wandb-summary.json").write_text(json.dumps({"loss": 0.5, "_step": 3}))
    (files / "output.log").write_text("".join(line + "\n" for line in lines))


def test_console_of_the_run_read_without_a_latest_run_link(tmp_path: Path):
    wandb = tmp_path / "run" / "wandb"
    _wandb_run(wandb, "run-20250101_000000-aaaa", ["step 1 loss 0.90", "step 2 loss 0.80", "step 3 loss 0.70"])
    _wandb_run(wandb, "run-20250102_000000-bbbb", ["step 1 loss 0.60", "step 2 loss 0.50", "step 3 loss 0.40"])
    run = load_run([tmp_path / "run"])
    logs = [s.path for s in run.sources if s.format.startswith("text_log")]
    assert len(logs) == 1 and "bbbb" in logs[0]  # the run the folder reader reads (the latest), not both
    loss = run.series("loss")
    assert loss is not None and [round(float(v), 2) for v in loss.values] == [0.6, 0.5, 0.4]
