"""MLPerf Training result logs (`:::MLLOG` JSON events and the older `:::MLPv0.5.0` lines, _mllog.py), first met in
healthy submissions of the MLPerf Training v0.5 and v0.7 results (issue 8, session 31: tests/corpus/realworld/mlperf-*),
unreadable blind. The "reads" cases load the corpus files or lines cut from them; the silent cases give the parser
other formats' lines."""

from __future__ import annotations

import json
from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._mllog import mllog_config, parse_mllog
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
RESNET_LARS = REALWORLD / "mlperf-v07-google-tpuv3-8192-resnet-lars-22evals" / "run"


def test_resnet_submission_reads_eval_accuracy_per_epoch_and_its_hyperparameters():
    run = load_run([RESNET_LARS])
    acc = run.series("eval_accuracy")
    assert len(acc) == 22 and acc.values[0] == 0.03462 and acc.values[-1] == 0.76064
    assert [int(s) for s in acc.steps[:3]] == [4, 8, 12]  # the epoch each evaluation closes
    assert run.config_value("optimizer").value == "lars"
    assert run.config_value("base_lr").value == 24.699
    assert run.config_value("global_batch_size").value == 65536
    assert run.series("lineno") is None and run.series("value") is None  # the events' fields are no metrics


def test_v05_lines_read_the_value_and_epoch_of_their_json():
    run = load_run([REALWORLD / "mlperf-v05-google-tpuv2-8-resnet-mlpv050" / "run"])
    acc = run.series("eval_accuracy")
    assert len(acc) == 17 and int(acc.steps[0]) == 0 and int(acc.steps[-1]) == 61
    assert acc.values[0] == 0.060302734375 and acc.values[-1] == 0.7511393427848816
    assert run.config_value("optimizer").value == "sgd"  # "stochastic_gradient_descent_with_momentum"


def test_a_dict_value_reads_one_series_per_head():
    run = load_run([REALWORLD / "mlperf-v07-google-tpuv3-1024-maskrcnn-success" / "run"])
    bbox, segm = run.series("eval_accuracy_bbox"), run.series("eval_accuracy_segm")
    assert len(bbox) == len(segm) == 18 and bbox.values[0] == 0.05980532988905907


def test_dlrm_names_its_optimiser_by_the_key_prefix_and_keeps_its_console():
    run = load_run([REALWORLD / "mlperf-v07-nvidia-dgxa100-pytorch-dlrm-auc" / "run"])
    assert run.config_value("optimizer").value == "sgd" and run.config_value("base_lr").value == 24.0
    assert len(run.series("eval_accuracy")) == 18  # evaluated 20 times an epoch: fractional epochs, line steps
    assert len(run.series("loss")) > 100  # the trainer's own console lines are still read


def _line(key: str, value: object, **metadata: object) -> str:
    return ":::MLLOG " + json.dumps({"namespace": "", "time_ms": 1, "event_type": "POINT_IN_TIME", "key": key,
                                     "value": value, "metadata": {"file": "train.py", "lineno": 1, **metadata}})


def test_lower_is_better_benchmarks_are_named_for_what_they_measure():
    st = State()
    assert parse_mllog(_line("submission_benchmark", "rnnt"), st).claimed
    assert parse_mllog(_line("eval_accuracy", 0.061, epoch_num=3), st).metrics == {"eval_wer": 0.061}
    st = State()
    parse_mllog(_line("submission_benchmark", "gpt3"), st)
    rec = parse_mllog(_line("eval_accuracy", 2.9, samples_count=1536), st)
    assert rec.metrics == {"eval_log_perplexity": 2.9} and rec.step == 1536 and rec.eval
    assert parse_mllog(_line("eval_accuracy", 90.1, metric="FID"), State()).metrics == {"eval_fid": 90.1}


def test_a_log_of_mllog_events_reads_its_train_loss_on_samples(tmp_path):
    lines = [_line("train_loss", 2.0 - 0.1 * i, samples_count=1024 * i) for i in range(1, 9)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n", "result_0.txt")])
    loss = run.series("loss")
    assert [int(s) for s in loss.steps[:2]] == [1024, 2048] and loss.values[-1] == 1.2


def test_parser_and_config_are_silent_on_other_formats():
    st = State()
    others = [
        '{"key": "eval_accuracy", "value": 0.5, "metadata": {"epoch_num": 1}}',  # JSONL without the marker
        "{'loss': 0.52, 'learning_rate': 2e-05, 'epoch': 0.5}",  # the HF Trainer's console dict
        "Epoch 1/10 - loss: 0.6931 - accuracy: 0.5012 - val_loss: 0.6920",  # Keras
        ":::MLLOG not json at all",
        "Namespace(lr=0.1, batch_size=32)",
    ]
    for line in others:
        assert parse_mllog(line, st) is None
        assert mllog_config(line) is None
    # an MLLOG event that is neither a metric nor a setting is claimed with nothing to read
    rec = parse_mllog(_line("block_start", None, first_epoch_num=1, epoch_count=4), st)
    assert rec is not None and rec.claimed and not rec.metrics
    assert mllog_config(_line("seed", 12260)) is None


def test_keras_console_is_not_read_as_mllog(tmp_path):
    lines = [f"Epoch {i}/8\n100/100 - 1s - loss: {1.0 - 0.1 * i:.4f} - accuracy: {0.5 + 0.05 * i:.4f}"
             for i in range(1, 9)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert run.series("loss") is not None and "mllog" not in run.sources[0].format
