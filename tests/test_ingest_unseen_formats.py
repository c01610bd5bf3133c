"""Formats met in real-world logs of stacks the corpus lacked (tests/corpus/realworld, session of 2026-12-05), each
read by a general rule: quoted numbers in key/value text, bare "step value" lines, a second logger echoing the Hugging
Face console dict, and an excerpt that starts late in a run (its NaN is not "from the start"). Every rule has a case
where it fires and one where it must leave the text or the reading as it was."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from traindoc.evidence.context import nan_context
from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series
from traindoc.ingest.readers._quoted_numbers import unquote_numbers
from traindoc.ingest.readers.textlog_formats import State, parse_step_value

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


# --- quoted numbers ('loss': '1.02') -------------------------------------------------------------------------------

def test_quoted_numbers_lose_their_quotes() -> None:
    line = "iter: 20, lr: 0.000085, 'loss': 'nan', 'loss_cls': '0.539213', eta: 5 days, 18:42:12"
    assert unquote_numbers(line) == "iter: 20, lr: 0.000085, loss: nan, loss_cls: 0.539213, eta: 5 days, 18:42:12"


def test_quoted_words_dicts_and_json_are_left_alone() -> None:
    for line in ("'name': 'ssdlite', 'version': '2.1.0'",  # not numbers (a version is no number)
                 "{'loss': '4.547', 'epoch': 0.5}",  # a dict line: the Hugging Face console reader's
                 '"loss": "4.5", "epoch": 1'):  # double quotes: JSON, read by the JSON-line rules
        assert unquote_numbers(line) == line


def test_paddledetection_static_log_reads_every_loss(tmp_path: Path) -> None:
    lines = [f"2020-12-22 08:01:{10 + i:02d},034-INFO: iter: {620 + 20 * i}, lr: 0.0135{i}, 'loss_cls': '0.5{i}', "
             f"'loss': '1.0{i}', eta: 8:56:30, batch_cost: 0.32392 sec, ips: 6.17440 images/sec" for i in range(5)]
    lines.append("2020-12-22 08:09:37,999-INFO: iter: 1860, lr: 0.019983, 'loss_cls': 'nan', 'loss': 'nan', "
                 "eta: 13:18:26, batch_cost: 0.48815 sec, ips: 4.09711 images/sec")
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    run = load_run([tmp_path])
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == [620, 640, 660, 680, 700, 1860]
    assert loss.values[0] == 1.00 and math.isnan(loss.values[-1])
    assert run.series("loss_cls") is not None


# --- bare "step value" lines ---------------------------------------------------------------------------------------

def test_step_value_lines_are_a_loss_by_step() -> None:
    st = State()
    recs = [parse_step_value(x, st) for x in ("76930 2.6496577", "76940 2.59109", "76980 nan")]
    assert [(r.step, r.metrics) for r in recs[:2]] == [(76930, {"loss": 2.6496577}), (76940, {"loss": 2.59109})]
    assert math.isnan(recs[2].metrics["loss"])


def test_step_value_ignores_counts_tables_and_falling_counters() -> None:
    st = State()
    assert parse_step_value("12 34", st) is None  # two integers: counts, not a loss
    assert parse_step_value("3 0.5 0.7", st) is None  # a row of a table
    assert parse_step_value("epoch 3 0.5", st) is None
    assert parse_step_value("100 0.5", st) is not None
    assert parse_step_value("90 0.4", st) is None  # the counter went back: no step of this log


def test_yanmtt_log_reads_its_nan_after_the_restart_messages() -> None:
    run = load_run([REALWORLD / "yanmtt-7-bart-pretrain-fp16-nan-76980" / "run"])
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist()[:2] == [76930, 76940]
    assert int(loss.steps[np.argmax(~np.isfinite(loss.values))]) == 76980


# --- a second logger echoing the Hugging Face console dict ---------------------------------------------------------

def _console(tmp_path: Path, lines: list[str]) -> Run:
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    return load_run([tmp_path])


def test_echoed_console_rows_are_read_once(tmp_path: Path) -> None:
    lines = []
    for i in range(1, 5):
        lines.append(f"03/12/2024 11:24:3{i} - INFO - llmtuner.extras.callbacks - {{'loss': 0.0000, "
                     f"'learning_rate': 4.999{9 - i}e-02, 'epoch': 0.0{i}}}")
        lines.append(f"{{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 0.04999{9 - i}1292419044, 'epoch': 0.0{i}}}")
    run = _console(tmp_path, lines)
    loss = run.series("loss")
    assert loss is not None and len(loss) == 4  # one row per logged step, not two
    assert not np.isfinite(loss.values).any()  # the Trainer's 0.0-with-NaN-grad rows, no echoed finite 0.0 between
    assert any("echoed" in w for s in run.sources for w in s.warnings)


def test_rows_of_one_logger_never_merge(tmp_path: Path) -> None:
    # LLaVA's first steps: every row at epoch 0.0, same keys; and two rows that differ in a shared value
    lines = ["{'loss': 8.0312, 'learning_rate': 3.5778175313059034e-06, 'epoch': 0.0}",
             "{'loss': 7.9531, 'learning_rate': 7.155635062611807e-06, 'epoch': 0.0}",
             "{'loss': 7.9531, 'learning_rate': 7.155635062611807e-06, 'epoch': 0.0}",
             "{'loss': 7.5, 'epoch': 0.0}",
             "{'loss': 7.4, 'grad_norm': 1.2, 'epoch': 0.0}"]
    run = _console(tmp_path, lines)
    assert len(run.series("loss")) == 5


# --- an excerpt that starts late in a run ---------------------------------------------------------------------------

def _nan_run(steps: list[int]) -> Run:
    run = Run()
    run.add_series(Series("loss", np.array(steps), np.full(len(steps), np.nan), "run/train.log"))
    return run.finalize()


def test_nan_from_the_first_logged_interval_is_from_the_start() -> None:
    for steps in ([1, 2, 3, 4], [0, 10, 20, 30], [10, 20, 30], [50, 100, 150]):
        ctx = nan_context(_nan_run(steps))
        assert ctx is not None and ctx.from_start, steps
        assert data.detect_nan_from_start(_nan_run(steps)), steps


def test_nan_in_an_excerpt_that_starts_late_is_not_from_the_start() -> None:
    # Keras "Epoch 8/250" .. "Epoch 11/250" pasted alone: epochs 1-7 were logged before the paste began
    for steps in ([8, 9, 10, 11], [40, 50, 60]):
        ctx = nan_context(_nan_run(steps))
        assert ctx is not None and not ctx.from_start, steps
        assert data.detect_nan_from_start(_nan_run(steps)) == [], steps


# --- the LR of this step under another name ------------------------------------------------------------------------

def test_current_lr_names_are_the_lr() -> None:
    from traindoc.ingest.names import canonical_metric

    assert canonical_metric("cur_lr") == "lr" and canonical_metric("current_lr") == "lr"
    assert canonical_metric("curriculum_lr") != "lr" and canonical_metric("cur_loss") != "lr"


# --- Keras 0.x's "acc.:" -------------------------------------------------------------------------------------------

def test_keras_0x_abbreviated_accuracy_is_read() -> None:
    run = load_run([REALWORLD / "g4-keras-255-int-normalised-images-constant-loss" / "run"])
    acc = run.series("accuracy")
    assert acc is not None and np.allclose(acc.finite()[1], 0.6562)
    assert np.allclose(run.series("loss").finite()[1], 11.8727)


def test_keras_metric_names_keep_their_other_punctuation(tmp_path: Path) -> None:
    # a dot inside or before the name is not the abbreviation's full stop: no metric is invented from it
    (tmp_path / "train.log").write_text("Epoch 1/2\n10/10 [====] - 1s - loss: 0.5 - top.k: 0.3\n"
                                        "Epoch 2/2\n10/10 [====] - 1s - loss: 0.4 - top.k: 0.4\n")
    run = load_run([tmp_path])
    assert np.allclose(run.series("loss").finite()[1], [0.5, 0.4])
    assert not any("top" in name for name in run.metrics)


def test_step_value_lines_with_a_comma_and_a_rerun_appended() -> None:
    # a loop that appends "epoch, loss" to loss_log.txt, stopped at epoch 3 and run again from epoch 1
    # (tests/corpus/realworld/g15s35-mesh-deformation-edgeconv-loss-log-resumed)
    st = State()
    lines = ["1, 0.0040", "2, 0.0036", "3, 0.0037", "1, 0.0035", "2, 0.0026", "3, 0.0030"]
    recs = [parse_step_value(x, st) for x in lines]
    assert [r.step for r in recs] == [1, 2, 3, 4, 5, 6]
    assert recs[3].metrics == {"loss": 0.0035}


def test_step_value_rerun_only_from_the_first_counter() -> None:
    st = State()
    assert [parse_step_value(x, st) is not None for x in ("5, 0.9", "6, 0.8", "3, 0.7", "5, 0.6", "5, 0.5")] == [
        True, True, False, True, False]  # back to 3: no step of this log; back to 5, the first: a rerun; 5 again: no
    assert parse_step_value("1, 2", State()) is None  # integer pairs are counts
    assert parse_step_value("1, 0.5, 0.7", State()) is None  # a row of a table


def test_mesh_deformation_log_reads_both_runs_in_order() -> None:
    run = load_run([REALWORLD / "g15s35-mesh-deformation-edgeconv-loss-log-resumed" / "run"])
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == list(range(1, 120))
    assert loss.values[18] == 0.003160706356720766 and loss.values[19] == 0.0035515134841261897
