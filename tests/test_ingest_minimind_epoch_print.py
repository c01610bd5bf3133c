"""MiniMind's `Epoch:[e/E](i/N) loss:x lr:y epoch_Time:Tmin:` print (_minimind_epoch_print.py): read blind (issue 8,
session 35) with the loss and LR stepped by line order; now stepped (e - base) * N + i."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers._minimind_epoch_print import parse_minimind_epoch
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _steps(run: Run, name: str) -> tuple[list[int], list[float]]:
    s = run.series(name)
    assert s is not None, sorted(run.metrics)
    return [int(x) for x in s.steps], [float(v) for v in s.values]


def test_one_based_distillation_log_steps_across_both_epochs():
    run = load_run([REALWORLD / "g14s35-ploract-llama3-style-r1-distill-sft-2ep" / "run"])
    steps, values = _steps(run, "loss")
    assert steps[:2] == [9, 19] and values[0] == 2.925  # Epoch:[1/2](9/6791) loss:2.925
    assert 6791 + 9 in steps  # Epoch:[2/2](9/6791): the second epoch starts after the first's 6,791 iterations
    assert steps == sorted(steps) and steps[-1] <= 2 * 6791
    assert _steps(run, "lr")[1][0] == 0.000001099999
    assert not any("time" in name.lower() for name in run.metrics)  # epoch_Time is a clock


def test_zero_based_minimind_record_steps_by_iteration():
    run = load_run([REALWORLD / "minimind-26-pretrain-epoch0-record" / "run"])
    assert [s.format for s in run.sources] == ["text_log:minimind_epoch"]
    steps, values = _steps(run, "loss")
    assert steps[:3] == [0, 100, 200] and values[0] == 8.863


def test_guards_leave_other_prints_alone():
    st = State()
    # DeiT/MAE MetricLogger: one epoch number in brackets, then the iteration in brackets
    assert parse_minimind_epoch("Epoch: [1]  [8000/9465]  loss: 0.31 (0.35)", st) is None
    assert parse_minimind_epoch("Epoch: 3/10 loss: 0.5", st) is None
    assert parse_minimind_epoch("Epoch:[1/2](9/6791) lr:0.0001 epoch_Time:40.0min:", st) is None  # no loss
    assert parse_minimind_epoch("Epoch:[1/2](7000/6791) loss:2.0 lr:0.0001", st) is None  # i > N
    assert parse_minimind_epoch("Epoch:[3/2](9/6791) loss:2.0 lr:0.0001", st) is None  # e > E
    rec = parse_minimind_epoch("Epoch:[0/19](100/24681) loss:5.251 lr:0.00020000 epoch_Time:98.0min:", st)
    assert rec is not None and rec.step == 100 and rec.metrics == {"loss": 5.251, "lr": 0.0002}
    rec = parse_minimind_epoch("Epoch:[1/19](100/24681) loss:3.0 lr:0.0002 epoch_Time:90.0min:", st)
    assert rec is not None and rec.step == 24681 + 100  # 0-based, as its first line said


def test_a_metric_logger_log_is_not_claimed(tmp_path):
    text = "".join(f"Epoch: [0]  [{i}/500]  eta: 0:01:00  lr: 0.000100  loss: {2.0 - i / 1000:.4f} (2.0)\n"
                   for i in range(0, 500, 50))
    d = tmp_path / "run"
    d.mkdir()
    (d / "log.txt").write_text(text)
    run = load_run([d])
    assert run.sources and all(s.format != "text_log:minimind_epoch" for s in run.sources)
    assert run.series("loss") is not None
