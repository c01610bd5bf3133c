"""Text-log reader: a finished run's summary lines ("Final validation accuracy: 0.11", "Final test accuracy: 0.12")
are the split's metric at the run's last step, never a step of their own; a running best ("Best val loss: x") is no
value of the last step and stays unread; a "final" figure with no split word stays as printed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textlog_support import read, read_text
from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def points(run: Run, name: str) -> dict[int, float]:
    s = run.series(name)
    assert s is not None, f"missing series {name}: have {sorted(run.metrics)}"
    return dict(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def test_udacity_final_validation_and_test_accuracy_at_the_last_step() -> None:
    # the Udacity batch-normalisation lesson's network without batch norm: validation every 100 batches up to 700,
    # the last training line at batch 775, then "Final validation accuracy: 0.11420" / "Final test accuracy: 0.12190"
    run = read(REALWORLD / "udacity-dl-batchnorm-20-conv-relu-no-bn-acc-0.1-flat" / "run" / "train.log")
    assert not [n for n in run.metrics if n.lower().startswith("final")]
    val = points(run, "eval_accuracy")
    assert max(val) == 775 and val[775] == 0.1142 and val[700] == 0.0986
    assert points(run, "test_accuracy") == {775: 0.1219}
    assert max(points(run, "loss")) == 775  # no step of their own
    assert "eval_loss" in run.metrics and max(points(run, "eval_loss")) == 700


def test_last_training_split_joins_the_training_series_without_a_new_step(tmp_path: Path) -> None:
    run = read_text(tmp_path, "step: 10, loss: 0.9\nstep: 20, loss: 0.7\nLast train loss: 0.65\n")
    assert points(run, "loss") == {10: 0.9, 20: 0.65}  # the summary is the value of the last step reached


def test_a_summary_in_a_log_without_steps_takes_the_last_line_step(tmp_path: Path) -> None:
    run = read_text(tmp_path, "loss: 0.9\nloss: 0.7\nloss: 0.6\nFinal test accuracy: 0.91\n")
    assert points(run, "test_accuracy") == {3: 0.91}
    assert max(points(run, "loss")) == 3


def test_best_values_and_unsplit_finals_are_not_read_as_the_last_step(tmp_path: Path) -> None:
    text = ("Epoch 1: loss=0.9 val_loss=0.8\nEpoch 2: loss=0.7 val_loss=0.75\nEpoch 3: loss=0.6 val_loss=0.78\n"
            "Best val loss: 0.75\nFinal loss: 0.6\n")
    run = read_text(tmp_path, text)
    assert points(run, "eval_loss") == {1: 0.8, 2: 0.75, 3: 0.78}  # the running best is no value of epoch 3
    assert points(run, "loss") == {1: 0.9, 2: 0.7, 3: 0.6}  # "Final loss" names no split: not joined
    assert not [n for n in run.metrics if "best" in n.lower()]


def test_a_summary_before_any_step_is_dropped(tmp_path: Path) -> None:
    run = read_text(tmp_path, "Final validation accuracy: 0.5\nstep: 1, loss: 2.0\nstep: 2, loss: 1.5\n")
    assert "eval_accuracy" not in run.metrics
    assert points(run, "loss") == {1: 2.0, 2: 1.5}


def test_a_final_word_inside_a_counted_line_keeps_the_line_step(tmp_path: Path) -> None:
    run = read_text(tmp_path, "step: 10, loss: 0.9\nstep: 20, loss: 0.7, final val acc: 0.8\nstep: 30, loss: 0.6\n")
    assert points(run, "eval_accuracy") == {20: 0.8}


def test_the_final_point_of_a_run_at_chance_is_no_rise() -> None:
    # the final validation accuracy (0.1142) closes a run that scatters 0.092-0.114 around 1/10: 0.018 above the
    # first evaluation, but the medians of the first and last thirds are both 0.0986 (not_learning._chance_accuracy)
    run = load_run([str(REALWORLD / "udacity-dl-batchnorm-20-conv-relu-no-bn-acc-0.1-flat")])
    got = nl.never_learned(run)
    assert got is not None and got.k == 10 and got.k_source == "accuracy"
    assert got.first_step == 0 and got.last_step == 775


def test_an_accuracy_whose_level_rises_through_the_band_is_not_chance() -> None:
    run = Run()
    steps = np.arange(9)
    values = np.array([0.092, 0.095, 0.094, 0.100, 0.104, 0.103, 0.108, 0.110, 0.109])  # medians 0.094 -> 0.109
    run.add_series(Series("eval_accuracy", steps, values, "run/train.log"))
    assert nl.never_learned(run.finalize()) is None
