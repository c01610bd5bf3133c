"""A Hugging Face console log with no step counter (no progress bar, no training banner) is clocked by the epoch it
prints, in units of its densest logging interval (readers/hf_trainer._epoch_rate), not by its row numbers: two
excerpts of one run pasted apart no longer restart at step 1 and overwrite each other. A flag pasted into CJK prose
after a full-width colon or comma is read as a flag (readers/_command_line.py). The dict lines are in the Trainer's
layout; the values are made up."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence.detectors.not_learning import detect_scheduler_misuse
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import hf_trainer
from traindoc.ingest.readers._command_line import command_flags


def _dicts(epochs: list[float], lr: float = 3e-4, loss0: float = 0.3) -> str:
    return "".join(f"{{'loss': {loss0 - i * 0.001:.4f}, 'learning_rate': {lr}, 'epoch': {e}}}\n"
                   for i, e in enumerate(epochs))


def _console(path: Path) -> Run:
    run = Run()
    hf_trainer.read_console(path, run)
    return run.finalize()


def test_two_excerpts_of_one_run_keep_their_places(tmp_path: Path) -> None:
    # epochs 72-90 and 153-160 of one run, each pasted as its own file: with row numbers both started at step 1
    # and the richer file's values replaced the other's at every step, so one excerpt was lost
    (tmp_path / "a.log").write_text(_dicts([72.0, 73.0, 74.0, 74.67, 75.0, 76.0, 77.0, 77.33, 78.0, 79.0, 80.0]))
    (tmp_path / "b.log").write_text(_dicts([153.0, 154.0, 154.67, 155.0, 156.0], loss0=0.001))
    run = load_run([str(tmp_path)])
    loss = run.series("loss")
    assert loss is not None and len(loss) == 16  # every row of both excerpts
    steps = loss.steps.tolist()
    assert steps == sorted(steps) and len(set(steps)) == 16
    assert steps[0] > 200 and steps[11] - steps[10] > 50 * (steps[10] - steps[9])  # mid-run start; the gap stays
    assert run.meta["hf_step_clock"] == "epoch"


def test_even_logging_from_the_start_is_numbered_as_rows_were(tmp_path: Path) -> None:
    # a log that logs every 0.25 epoch from its first interval: the epoch clock gives 1, 2, 3 ... exactly
    path = tmp_path / "train.log"
    path.write_text(_dicts([0.25 * k for k in range(1, 13)]))
    run = _console(path)
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == list(range(1, 13))
    # a first row printed at epoch 0.0 (logging_first_step) is still step 1, not 0
    path.write_text(_dicts([0.0, 0.1, 0.2, 0.3]))
    loss = _console(path).series("loss")
    assert loss is not None and loss.steps.tolist() == [1, 2, 3, 4]  # as the row numbers were


def test_epochs_that_go_back_keep_row_numbers(tmp_path: Path) -> None:
    # a restarted run prints epochs that decrease: no clock, the rows stay apart by their order
    path = tmp_path / "train.log"
    path.write_text(_dicts([0.5, 1.0, 1.5, 0.5, 1.0, 1.5]))
    run = _console(path)
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == [1, 2, 3, 4, 5, 6]
    assert run.meta["hf_step_clock"] == "row"
    # epochs that never rise give no interval either
    path.write_text(_dicts([0.0, 0.0, 0.0, 0.0]))
    run = _console(path)
    assert run.meta["hf_step_clock"] == "row" and run.series("loss") is not None


def test_flags_glued_to_full_width_punctuation_are_flags() -> None:
    line = '参数设置：--lr_scheduler_type "cosine" ，--num_train_epochs 200'
    assert command_flags(line) == [("lr_scheduler_type", "cosine"), ("num_train_epochs", "200")]
    assert command_flags("学习率；--learning_rate 1e-4、--warmup_ratio 0.03") == [
        ("learning_rate", "1e-4"), ("warmup_ratio", "0.03")]
    # silent: one flag is still no bare command, and punctuation not before a flag changes nothing
    assert command_flags("参数：--lr 0.1") is None
    assert command_flags("损失，下降很慢") is None
    assert command_flags("loss: 0.5, acc: 0.9") is None


def test_constant_lr_against_a_cosine_schedule_pasted_in_prose(tmp_path: Path) -> None:
    # fires: the reporter's settings line names a cosine schedule and the two excerpts log one LR throughout
    (tmp_path / "a.log").write_text(_dicts([72.0 + k for k in range(15)]))
    (tmp_path / "b.log").write_text(_dicts([153.0 + k for k in range(8)], loss0=0.001))
    (tmp_path / "command.txt").write_text('参数设置：--lr_scheduler_type "cosine" ，--num_train_epochs 200\n')
    findings = detect_scheduler_misuse(load_run([str(tmp_path)]))
    assert findings and findings[0].strength >= 0.8
    # silent: the same excerpts with a constant schedule configured
    (tmp_path / "command.txt").write_text('参数设置：--lr_scheduler_type "constant" ，--num_train_epochs 200\n')
    assert detect_scheduler_misuse(load_run([str(tmp_path)])) == []
