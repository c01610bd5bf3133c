"""Logs read as nothing, or misplaced, until session 27 (g24's blind healthy batch): NNabla's MonitorSeries console
(_nnabla_monitor.py), the makemore "step/total: loss" print (_counter_loss_print.py), stepless lines after a counted
line that prints a training and a held-out loss together (text_log.py, _counted_mixed), and the Informer /
Time-Series-Library epoch line whose "Steps" is the batches per epoch (_tslib_epoch.py). Small synthetic
files in the real formats; the silent cases call the parsers directly."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._counter_loss_print import parse_counter_loss
from traindoc.ingest.readers._nnabla_monitor import metric_name, parse_nnabla_monitor
from traindoc.ingest.readers._tslib_epoch import parse_tslib_epoch
from traindoc.ingest.readers.textlog_formats import State


def _points(run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    assert s is not None, sorted(run.metrics)
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def _read(tmp_path: Path, name: str, text: str):
    (tmp_path / name).write_text(text)
    return load_run([tmp_path / name])


def test_nnabla_monitor_series_lines_are_read_as_training_and_held_out_series(tmp_path):
    lines = []
    for i, (tl, te, vl, ve) in enumerate([(1.5, 0.33, 2.97, 0.54), (0.22, 0.05, 0.12, 0.03), (0.07, 0.01, 0.09, 0.02)]):
        it = 200 * (i + 1)
        lines += [f"2019-07-05 14:26:26,885 [nnabla][INFO]: iter={it - 1} {{Training loss}}={tl}",
                  f"2019-07-05 14:26:26,887 [nnabla][INFO]: iter={it - 1} {{Training error}}={te}",
                  f"2019-07-05 14:26:28,756 [nnabla][INFO]: iter={it} {{Test loss}}={vl}",
                  f"2019-07-05 14:26:28,756 [nnabla][INFO]: iter={it} {{Test error}}={ve}",
                  f"2019-07-05 14:26:28,757 [nnabla][INFO]: iter={it - 1} {{Training time}}[sec]=27.3[sec/200iter]"]
    run = _read(tmp_path, "train.log", "\n".join(lines) + "\n")
    assert _points(run, "loss") == [(199, 1.5), (399, 0.22), (599, 0.07)]
    assert _points(run, "train_error")[0] == (199, 0.33)
    assert _points(run, "eval_loss") == [(200, 2.97), (400, 0.12), (600, 0.09)]
    assert _points(run, "eval_error")[-1] == (600, 0.02)
    assert not any("time" in n for n in run.metrics)  # MonitorTimeElapsed measures the machine


def test_nnabla_monitor_names_and_other_lines():
    assert metric_name("Training loss") == "loss"
    assert metric_name("Validation error") == "val_error"
    assert metric_name("Test top-5 error") == "test_top_5_error"
    assert metric_name("Training") is None
    st = State()
    assert parse_nnabla_monitor("iter=10 loss=0.5", st) is None  # no braces: not a MonitorSeries line
    assert parse_nnabla_monitor("[nnabla][INFO]: Running in cpu", st) is None


def test_counter_loss_print_is_read_as_the_training_loss_with_its_planned_length(tmp_path):
    text = "76579\n      0/ 200000: 3.3167\n  10000/ 200000: 2.0576\n  20000/ 200000: 2.0723\n 190000/ 200000: 1.8555\n"
    run = _read(tmp_path, "out.txt", text)
    assert _points(run, "loss") == [(0, 3.3167), (10000, 2.0576), (20000, 2.0723), (190000, 1.8555)]
    assert run.meta.get("planned_steps") == 200000


def test_counter_loss_print_leaves_counts_ratios_and_broken_counters_alone():
    st = State()
    assert parse_counter_loss("3/10: 7", st) is None  # integer value: a count
    assert parse_counter_loss("12/10: 0.5", st) is None  # counter past its total
    assert parse_counter_loss("100/1000: 0.5", st) is not None
    assert parse_counter_loss("50/1000: 0.4", st) is None  # the counter went back
    assert parse_counter_loss("200/2000: 0.4", st) is None  # another total: another table
    assert parse_counter_loss("epoch 3/10: 0.5", st) is None  # words: the generic rules' line


def test_stepless_lines_after_a_counted_train_and_val_line_belong_to_its_step(tmp_path):
    text = ("Training accuracy: 46.25%\nValidation accuracy: 45.00%\n"
            "Ep 1 (Step 000000): Train loss 3.820, Val loss 3.462\n"
            "Ep 1 (Step 000050): Train loss 0.346, Val loss 0.325\n"
            "Training accuracy: 100.00% | Validation accuracy: 92.50%\n"
            "Ep 2 (Step 000100): Train loss 0.054, Val loss 0.045\n"
            "Training accuracy: 97.50% | Validation accuracy: 95.00%\n")
    run = _read(tmp_path, "log.txt", text)
    assert _points(run, "loss") == [(0, 3.82), (50, 0.346), (100, 0.054)]
    assert _points(run, "eval_loss") == [(0, 3.462), (50, 0.325), (100, 0.045)]
    # before: line order (steps 1..4) beside losses at steps 0..100
    assert [s for s, _ in _points(run, "eval_accuracy")][-2:] == [50, 100]


def test_a_counted_held_out_only_line_still_moves_no_training_step(tmp_path):
    text = ("step 10 loss 2.0\nstep 20 loss 1.5\nval step 3 val_loss 1.7 val_acc 0.4\naccuracy: 0.3\n"
            "step 30 loss 1.2\n")
    run = _read(tmp_path, "log.txt", text)
    assert _points(run, "loss") == [(10, 2.0), (20, 1.5), (30, 1.2)]
    assert _points(run, "accuracy") == [(20, 0.3)]  # the last training step, not the evaluation's own counter


def test_tslib_epoch_line_steps_by_batches_per_epoch_and_keeps_its_lr_prints(tmp_path):
    text = ("train 1199\nval 166\ntest 353\n"
            "\titers: 100, epoch: 1 | loss: 0.5123\n"
            "Epoch: 1 cost time: 3.88\n"
            "Epoch: 1, Steps: 9 | Train Loss: 0.4123 Vali Loss: 0.5234 Test Loss: 0.6345\n"
            "Validation loss decreased (inf --> 0.5234).  Saving model ...\n"
            "Updating learning rate to 0.0001\n"
            "Epoch: 2, Steps: 9 | Train Loss: 0.3500 Vali Loss: 0.5000 Test Loss: 0.6000\n"
            "Updating learning rate to 5e-05\n")
    run = _read(tmp_path, "train.log", text)
    assert _points(run, "loss") == [(9, 0.4123), (18, 0.35)]  # before: every epoch on "step" 9, one point
    assert _points(run, "eval_loss") == [(9, 0.5234), (18, 0.5)]
    assert _points(run, "test_loss")[-1] == (18, 0.6)
    assert [(s, float(v)) for s, v in zip(run.series("lr").steps, run.series("lr").values, strict=True)] == [
        (9, 1e-4), (18, 5e-5)]


def test_tslib_epoch_parser_leaves_other_epoch_lines_alone():
    st = State()
    assert parse_tslib_epoch("Epoch: 1 cost time: 3.88", st) is None
    assert parse_tslib_epoch("Epoch: 1, Steps: 9 | loss: 0.4", st) is None
    assert parse_tslib_epoch("Updating learning rate", st) is None
