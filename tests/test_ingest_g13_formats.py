"""Formats met in the real-world corpus's 2026-12-06 additions (g13), read as the metrics they are: Trax's
`training.Loop` report, nolearn's per-epoch rows pasted without their header, an epoch announced as "Epoch 3 out of
500", task metrics named only by their abbreviation ("Dev: UAS 95.9% LAS 94.8%"), OpenNMT-py's "Step k/N" total
as the planned run, and the preprocessing word "Tokenizing" that is no throughput (textlog_formats.py: parse_trax,
parse_nolearn_rows, _ONLY_STEP, _METRICY, parse_opennmt). Small synthetic logs in each format; each rule has a
reading case and a case it must leave alone."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_generic, parse_nolearn_rows, parse_trax


def _log(tmp_path: Path, text: str):
    p = tmp_path / "train.log"
    p.write_text(text)
    return load_run([p])


def _points(run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    assert s is not None, f"no series {name}: {sorted(run.metric_names()) if hasattr(run, 'metric_names') else ''}"
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


TRAX = """Step      1: Total number of trainable weights: 2327042
Step      1: Ran 1 train steps in 0.78 secs
Step      1: train WeightedCategoryCrossEntropy |  1.33800304
Step      1: eval  WeightedCategoryCrossEntropy |  0.71843582
Step      1: eval      WeightedCategoryAccuracy |  0.56562500

Step    500: Ran 499 train steps in 5.77 secs
Step    500: train WeightedCategoryCrossEntropy |  0.62914723
Step    500: eval  WeightedCategoryCrossEntropy |  0.49253047
Step    500: eval      WeightedCategoryAccuracy |  0.74062500

Step   1000: Ran 500 train steps in 5.03 secs
Step   1000: train WeightedCategoryCrossEntropy |  0.42949259
Step   1000: eval  WeightedCategoryCrossEntropy |  0.35451687
Step   1000: eval      WeightedCategoryAccuracy |  0.83750000
"""


def test_trax_loop_report_reads_train_loss_and_eval_metrics(tmp_path):
    run = _log(tmp_path, TRAX)
    assert _points(run, "loss") == [(1, 1.338), (500, 0.6291), (1000, 0.4295)]
    assert _points(run, "eval_loss") == [(1, 0.7184), (500, 0.4925), (1000, 0.3545)]
    assert _points(run, "eval_accuracy") == [(1, 0.5656), (500, 0.7406), (1000, 0.8375)]


def test_trax_parser_leaves_other_step_lines_alone():
    st = State()
    assert parse_trax("Step      1: Ran 1 train steps in 0.78 secs", st) is None
    assert parse_trax("Step      1: Total number of trainable weights: 2327042", st) is None
    assert parse_trax("Step 5: loss 0.3 | lr 0.1", st) is None  # a pipe-separated loop print, not Trax's report


NOLEARN = """    241       1.62136       3.61951      0.44795  1.04s
    242       1.62833       3.60246      0.45201  1.04s
    243       1.63284       3.57754      0.45641  1.04s
    244       1.63092           nan          nan  1.04s
    245           nan           nan          nan  1.04s
"""


def test_nolearn_rows_without_header_read_train_and_valid_loss(tmp_path):
    run = _log(tmp_path, NOLEARN)
    assert _points(run, "loss")[:3] == [(241, 1.6214), (242, 1.6283), (243, 1.6328)]
    ev = run.series("eval_loss")
    assert [int(s) for s in ev.steps] == [241, 242, 243, 244, 245]
    assert round(float(ev.values[0]), 4) == 3.6195


def test_nolearn_classifier_rows_read_the_valid_accuracy():
    st = State()
    rec = parse_nolearn_rows("      3       0.52286       0.47760      1.09477      0.62482  431.44s", st)
    assert rec is not None and rec.step == 3
    assert rec.metrics == {"loss": 0.52286, "eval_loss": 0.4776, "eval_accuracy": 0.62482}


def test_numeric_rows_whose_fourth_number_is_no_ratio_are_left_alone():
    st = State()
    # four numbers and a duration, but 0.9 is not 1.5 / 3.0: some other table
    assert parse_nolearn_rows("   12      1.5      3.0      0.9   2.00s", st) is None
    # an unproven row of non-finite numbers is not taken either
    assert parse_nolearn_rows("    1           nan       4.51024          nan  0.05s", st) is None


def test_epoch_out_of_n_announces_the_epoch_of_task_metric_lines(tmp_path):
    run = _log(tmp_path, "#words in training set: 15947\n"
                         "Epoch 1 out of 500\nDev: UAS 68.49% LAS 64.17% 305 sents/s\n"
                         "Epoch 2 out of 500\nDev: UAS 85.14% LAS 82.07% 344 sents/s\n"
                         "Epoch 3 out of 500\nDev: UAS 88.28% LAS 86.11% 310 sents/s\n")
    assert _points(run, "val_UAS") == [(1, 68.49), (2, 85.14), (3, 88.28)]
    assert _points(run, "val_LAS")[-1] == (3, 86.11)


def test_task_metric_words_count_only_as_whole_words():
    st = State()
    assert parse_generic("Label mapping size 12", st) is None  # "map" inside a word, no measurement
    assert parse_generic("Done! Tokenizing Time=0.05s, #Sentences=5452", st) is None  # preprocessing, no "tok/s"
    rec = parse_generic("dev BLEU 27.41, WER 12.3", st)
    assert rec is not None and rec.metrics["WER"] == 12.3 and any(k.endswith("BLEU") for k in rec.metrics)


def test_running_best_and_coco_selector_lines_are_no_measurements():
    st = State()
    # a running best repeats an earlier value at the epoch it was reached: no point of its own
    assert parse_generic("currently best f1 socre: 80.360 on epoch: 2", st) is None
    # pycocotools' summary: IoU and maxDets select the row, they are not measured
    assert parse_generic(" Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.581", st) is None
    rec = parse_generic("valid_loss 1.5306, valid_p 85.820, valid_r 80.580, valid_f1 83.120", st)
    assert rec is not None and rec.metrics["valid_f1"] == 83.12


def test_opennmt_step_total_is_the_planned_run(tmp_path):
    run = _log(tmp_path, "[2018-11-23 16:41:49,278 INFO] Step 50/100000; acc:   4.03; ppl: 42610.88; xent: 10.66; "
                         "lr: 1.00000; 10579/15225 tok/s;      4 sec\n"
                         "[2018-11-23 16:41:53,194 INFO] Step 100/100000; acc:   7.22; ppl: 3426.26; xent: 8.14; "
                         "lr: 1.00000; 12657/17596 tok/s;      8 sec\n")
    assert run.meta.get("planned_steps") == 100000
    assert _points(run, "loss") == [(50, 10.66), (100, 8.14)]
