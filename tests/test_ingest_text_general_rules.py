"""Text-log reader: the general rules that take formats no family parser knows (tests/corpus/realworld logs and
constructed variants of the same kind): key|value logger tables, step counters that restart every epoch, train /
held-out phase markers, sentence prints, captures pasted as comments, dates that are not values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textlog_support import read, read_text
from traindoc.ingest.model import Run
from traindoc.ingest.readers.textlog_formats import State, comment_marker, held_out_line, normalise, parse_generic

REALWORLD = Path(__file__).parent / "corpus" / "realworld"




def points(run: Run, name: str) -> dict[int, float]:
    s = run.series(name)
    assert s is not None, f"missing series {name}: have {sorted(run.metrics)}"
    return dict(zip(s.steps.tolist(), s.values.tolist(), strict=True))


# --- a step counter that restarts every epoch ---------------------------------------------------------------------


def test_dgl_step_restarting_per_epoch_becomes_a_monotone_position():
    run = read(REALWORLD / "dgl-graphsage-multigpu-4gpu-30ep" / "run" / "train.log")
    loss = run.series("loss")
    assert len(loss) == 60  # 30 epochs x "Step 00000" and "Step 00020", none merged
    steps = loss.steps
    assert bool((np.diff(steps) > 0).all())
    # each epoch starts one logging interval (20) after the previous one's last count
    assert points(run, "loss")[0] == 6.1411 and points(run, "loss")[20] == 2.6650 and points(run, "loss")[40] == 2.0791
    assert [e for _, e in run.epoch_starts[:3]] == [0, 1, 2]
    assert not [e for e in run.events if e.tag == "restart"]


def test_epoch_restarting_counter_constructed_variant(tmp_path):
    lines = [f"epoch {e} step {s} loss {5 - e - s / 1000:.3f}" for e in range(1, 4) for s in (0, 100, 200, 300)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    steps = sorted(points(run, "loss"))
    assert steps == [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100]


def test_global_counter_beside_epoch_is_unchanged(tmp_path):
    # silent: a counter that keeps rising across epochs is the run's global step
    lines = [f"epoch {e} step {e * 300 + s} loss {5 - e:.3f}" for e in range(3) for s in (0, 100, 200)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert sorted(points(run, "loss")) == [0, 100, 200, 300, 400, 500, 600, 700, 800]


def test_counter_at_its_first_iteration_every_epoch_restarts():
    # COMPOSE #1 prints "Epoch e, Iter 0: Loss:x" once per epoch: the iteration counter stands at 0 in every epoch;
    # read as a global step, the four epochs fell on step 0 and only the last (NaN) survived
    run = read(REALWORLD / "g2s32-compose-1-own-input-data-nan-after-first-epoch" / "run" / "train.log")
    loss = points(run, "loss")
    assert list(loss) == [0, 1, 2, 3] and loss[0] == 1.0637 and all(np.isnan(v) for v in list(loss.values())[1:])
    assert not [e for e in run.events if e.tag == "restart"]


def test_one_based_first_iteration_every_epoch_constructed_variant(tmp_path):
    lines = [f"epoch {e} iter 1 loss {3 - e / 2:.3f}" for e in (1, 2, 3)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    # each epoch goes on one count after the previous one's largest (1), as for any restarting counter
    assert sorted(points(run, "loss")) == [1, 3, 5]


def test_counter_repeated_past_its_start_is_not_taken_for_a_restart(tmp_path):
    # silent: a count above 1 printed again in the next epoch (an epoch-end line at the last global step) is not a
    # counter back at its start: the steps stay as printed
    lines = ["epoch 1 step 500 loss 2.000", "epoch 2 step 500 loss 1.900", "epoch 2 step 600 loss 1.800",
             "epoch 3 step 700 loss 1.700"]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert sorted(points(run, "loss")) == [500, 600, 700]


def test_epoch_pair_beside_a_per_epoch_fraction_keeps_the_epochs_apart():
    # jwyang/faster-rcnn.pytorch prints "[session 1][epoch  1][iter    0/  88] loss: 4.7430, lr: 1.00e-04": the epoch
    # is a pair of its own, read after the "iter 0/88" fraction; the epoch-2 line used to land on the same step and
    # replace the epoch-1 loss, leaving one NaN point
    run = read(REALWORLD / "g2-faster-rcnn-pytorch-797-negative-box-coordinate-nan" / "run" / "train.log")
    loss = points(run, "loss")
    assert list(loss) == [0, 88] and loss[0] == 4.7430 and np.isnan(loss[88])
    assert "session" not in run.metrics  # the session counter is no measurement
    assert not [e for e in run.events if e.tag == "restart"]


def test_epoch_pair_before_iter_fraction_constructed_variant(tmp_path):
    lines = [f"epoch: {e}, iter: {i}/600, loss: {3 - e / 2 - i / 1000:.3f}" for e in (1, 2, 3) for i in (100, 200)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert sorted(points(run, "loss")) == [100, 200, 700, 800, 1300, 1400]
    assert not [e for e in run.events if e.tag == "restart"]


def test_global_iter_fraction_without_epoch_is_unchanged(tmp_path):
    # silent: "iter 100/5000" with no epoch on the line is the run's global counter, read as printed
    lines = [f"iter: {i}/5000, loss: {3 - i / 1000:.3f}, session: 1" for i in (100, 200, 300)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert sorted(points(run, "loss")) == [100, 200, 300]
    assert sorted(run.metrics) == ["loss"]


# --- key | value logger tables --------------------------------------------------------------------------------------


def test_sb3_ppo_tables_read_with_total_timesteps_as_step():
    run = read(REALWORLD / "sb3-ppo-breakout-100k-capstone" / "run" / "train.log")
    rew = points(run, "rollout/ep_rew_mean")
    assert rew[2048] == 1.8 and rew[6144] == 1.67
    assert points(run, "loss")[4096] == -0.0199  # train/loss
    assert points(run, "lr")[4096] == 0.0003  # train/learning_rate
    assert run.series("time/total_timesteps") is None and run.series("time/iterations") is None  # counters


def test_sb3_dqn_tables_read():
    run = read(REALWORLD / "sb3-dqn-breakout-lr-5e-3-plateau" / "run" / "train.log")
    assert points(run, "rollout/ep_rew_mean")[8356] == 1.9
    assert points(run, "loss")[16675] == 0.019 and points(run, "lr")[16675] == 0.005


def test_kv_table_constructed_eval_and_unsectioned(tmp_path):
    text = "\n".join([
        "-----------------------------",
        "|       AverageEpRet |  -1.23 |",
        "|              Epoch |      0 |",
        "|  TotalEnvInteracts |   4000 |",
        "|             LossPi | 0.0123 |",
        "-----------------------------",
        "-----------------------------",
        "|       AverageEpRet |  -0.50 |",
        "|              Epoch |      1 |",
        "|  TotalEnvInteracts |   8000 |",
        "|             LossPi | 0.0100 |",
        "-----------------------------",
        "------------------------------",
        "| eval/              |       |",
        "|    mean_reward     | 3.5   |",
        "| time/              |       |",
        "|    total_timesteps | 8000  |",
        "------------------------------",
    ]) + "\n"
    run = read_text(tmp_path, text)
    assert points(run, "AverageEpRet") == {4000: -1.23, 8000: -0.5}
    assert points(run, "eval/mean_reward") == {8000: 3.5}


def test_settings_table_without_counter_is_not_a_record(tmp_path):
    text = "\n".join(["+-----------+--------+", "| lr        | 0.001  |", "| batch_sz  | 64     |",
                      "+-----------+--------+", "step 1 loss 2.0", "step 2 loss 1.9"]) + "\n"
    run = read_text(tmp_path, text)
    assert run.series("lr") is None and points(run, "loss") == {1: 2.0, 2: 1.9}


# --- train / held-out phase markers ---------------------------------------------------------------------------------


def test_catalyst_train_and_valid_lines_are_separate_series():
    run = read(REALWORLD / "catalyst-290-check-dl-cifar-smoke" / "run" / "train.log")
    assert points(run, "loss") == {1: 2.0389, 2: 1.8742}
    assert points(run, "eval_loss") == {0: 2.1521, 1: 2.3390, 2: 1.4724}
    assert points(run, "val_accuracy01")[2] == 55.4688
    assert not [n for n in run.metrics if n.startswith("val_") and ("lr" in n or "timers" in n)]


def test_phase_markers_on_one_line_and_bracketed(tmp_path):
    run = read_text(tmp_path, "epoch 1 train: loss 0.9 acc 0.5 valid: loss 1.1 acc 0.4\n"
                              "epoch 2 train: loss 0.7 acc 0.6 valid: loss 1.0 acc 0.5\n"
                              "epoch 3 [test] loss=1.2\n")
    assert points(run, "loss") == {1: 0.9, 2: 0.7}
    assert points(run, "eval_loss") == {1: 1.1, 2: 1.0}
    assert points(run, "test_loss") == {3: 1.2}


def test_phase_marker_needs_a_name_after_the_colon():
    # "Validation: 0.93" is a metric named Validation, "Training: 2021-..." a date; neither is a phase marker
    assert held_out_line("[Epoch 0] validation: err-top1=0.927560 err-top5=0.802080")
    assert held_out_line("1/4 * Epoch 1 (valid): loss=2.3390")
    assert not held_out_line("Validation: 0.93")
    assert not held_out_line("1/4 * Epoch 1 (train): loss=2.0389")
    assert not held_out_line("Eval Acc 0.9248")


def test_gluoncv_validation_lines_in_an_mxnet_log_at_the_epoch_end():
    run = read(REALWORLD / "gluoncv-822-mobilenet025-lr04-one-gpu" / "run" / "mobilenet0.25.log")
    err = points(run, "val_err-top1")
    acc = run.series("accuracy")
    first = min(err)
    assert err[first] == 0.927560
    # the validation of epoch 0 belongs to the last batch line of epoch 0, before the first of epoch 1
    assert first == max(s for s in acc.steps.tolist() if s <= first)
    assert first < min(s for s, e in run.epoch_starts if e == 1)


# --- sentences, dates, comment-pasted captures ----------------------------------------------------------------------


def test_tf1_sentence_prints():
    run = read(REALWORLD / "tf1-session-mnist-book-train-eval-30k" / "run" / "train.log")
    assert run.series("After") is None
    loss = points(run, "loss")
    assert loss[1] == 3.08818 and loss[1001] == 0.232921
    assert points(run, "eval_accuracy")[29001] == 0.9844


def test_sentence_variants():
    st = State()
    rec = parse_generic("after 200 steps, the validation loss is 0.41", st)
    assert rec is not None and rec.step == 200 and rec.metrics == {"val_loss": 0.41}
    rec = parse_generic("At 5 epochs accuracy on test set is 0.97.", st)
    assert rec is not None and rec.step == 5 and rec.metrics == {"test_accuracy": 0.97}
    assert parse_generic("After 3 retries the model is 3", st) is None  # nothing measured


def test_insightface_date_after_a_word_is_no_metric():
    run = read(REALWORLD / "insightface-1430-arcface-torch-r100-maintainer-steps" / "run" / "train.log")
    assert run.series("Training") is None
    assert points(run, "loss")[1250] == 34.2626


def test_tflearn_comment_pasted_capture():
    run = read(REALWORLD / "tflearn-lenet5-mnist-7ep-readme" / "run" / "train.log")
    loss = points(run, "loss")
    assert loss[860] == 0.29368 and loss[6020] == 0.15956
    # "iter: 55000/55000" counts samples inside the epoch: the line belongs to the global step printed before it
    assert points(run, "eval_loss") == {860 * k: v for k, v in zip(range(1, 8), (
        0.27808, 0.15631, 0.09246, 0.07896, 0.07004, 0.05673, 0.05277), strict=True)}


def test_quoted_capture_constructed_and_partial_comments_kept(tmp_path):
    run = read_text(tmp_path, "".join(f"> iter {i}: loss {3 - i / 10:.2f}\n" for i in range(5)))
    assert points(run, "loss")[4] == 2.6
    # a file only some of whose lines are comments keeps them: commented-out prints are not the run's output
    assert comment_marker(["# step 1 loss 2.0", "step 1 loss 2.5", "step 2 loss 2.4", "step 3 loss 2.3"]) is None
    assert comment_marker(["# a", "# b", "#", "# c", "plain"]) == "#"


def test_kv_table_with_a_section_column(tmp_path):
    rows = []
    for step, (loss, val) in zip((100, 200), ((2.0, 2.2), (1.5, 1.9)), strict=True):
        rows += ["+-------+----------+-------+", f"| train | loss     | {loss} |", "|       | accuracy | 0.5   |",
                 f"| eval  | loss     | {val} |", f"| time  | step     | {step} |", "+-------+----------+-------+"]
    run = read_text(tmp_path, "\n".join(rows) + "\n")
    assert points(run, "loss") == {100: 2.0, 200: 1.5}  # train/loss
    assert points(run, "accuracy") == {100: 0.5, 200: 0.5}  # train/accuracy
    assert points(run, "eval_loss") == {100: 2.2, 200: 1.9}  # eval/loss


def test_step_phrase_after_the_word():
    rec = parse_generic("loss is inf, stopping training at step 48", State())
    assert rec is not None and rec.step == 48 and rec.metrics == {"loss": float("inf")}


def test_metric_named_before_its_step_phrase(tmp_path):
    # the deeplearning.ai notebooks' print_cost lines: the name, "after iteration N" (or "after epoch N"), then the
    # value; the cost is the loss (tests/corpus/realworld/g15-dlai-initialization-*)
    run = read_text(tmp_path, "Cost after iteration 0: 0.6931471805599453\n"
                              "Cost after iteration 1000: 0.6879825919728063\n"
                              "Cost after iteration 2000: 0.6751286264523371\n")
    assert points(run, "loss") == {0: 0.6931471805599453, 1000: 0.6879825919728063, 2000: 0.6751286264523371}
    rec = parse_generic("Cost after epoch 1000: 0.685273", State())
    assert rec is not None and rec.epoch == 1000 and rec.metrics == {"Cost": 0.685273}
    # silent: a count that is no measurement keeps the printed sentence (no "Saved" series)
    run = read_text(tmp_path, "Saved after epoch 3: 12 files\nloss 0.5\nSaved after epoch 4: 13 files\nloss 0.4\n")
    assert run.series("Saved") is None




def test_learning_rate_named_before_its_step_phrase(tmp_path):
    # the deeplearning.ai decay exercise prints the LR under each cost line: "learning rate after epoch 1000: 0.0001"
    # (tests/corpus/realworld/s31-g4-dlai-optimization-lr-decay-every-epoch-lr-to-zero); one word ("rate") named no
    # measurement, so the schedule was left unread
    run = read_text(tmp_path, "Cost after epoch 0: 0.701091\nlearning rate after epoch 0: 0.100000\n"
                              "Cost after epoch 1000: 0.661884\nlearning rate after epoch 1000: 0.000100\n"
                              "Cost after epoch 2000: 0.658620\nlearning rate after epoch 2000: 0.000050\n")
    assert points(run, "lr") == {0: 0.1, 1000: 0.0001, 2000: 0.00005}
    assert points(run, "loss") == {0: 0.701091, 1000: 0.661884, 2000: 0.65862}
    # silent: a two-word sentence whose words name no measurement keeps its text (no series from "success rate")
    run = read_text(tmp_path, "success rate after epoch 3: 12 tries\nloss 0.5\nsuccess rate after epoch 4: 13 tries\n"
                              "loss 0.4\n")
    assert sorted(run.metrics) == ["loss"]
# --- durations, training epoch summaries, held-out sentences, the planned length ----------------------------------


def test_durations_are_never_metrics(tmp_path):
    # InsightFace's "Required: 31 hours" is the time left: no series, while the loss on the same line is read
    run = read(REALWORLD / "insightface-1430-arcface-torch-r100-maintainer-steps" / "run" / "train.log")
    assert run.series("Required") is None
    assert points(run, "loss")[1600] == 32.0923
    run = read_text(tmp_path, "step 10 loss 0.50 eta: 3 hours\nstep 20 loss 0.40 time left: 12 min\n"
                              "step 30 loss 0.30 elapsed: 310.5 epoch time cost: 3.9\n")
    assert points(run, "loss") == {10: 0.5, 20: 0.4, 30: 0.3}
    assert sorted(run.metrics) == ["loss"]


def test_a_unit_word_that_is_the_next_key_is_no_duration(tmp_path):
    # "min=" is the next key of an activation-statistics print, not "0.02 minutes"
    run = read_text(tmp_path, "step 1 loss 2.0 std=0.02 min=-0.04 max=0.04\nstep 2 loss 1.9 std=0.03 min=-0.05 "
                              "max=0.05 speed: 310.2 samples/sec\n")
    assert points(run, "std") == {1: 0.02, 2: 0.03}
    assert points(run, "min") == {1: -0.04, 2: -0.05}
    assert run.series("speed") is None  # a rate is the machine's clock (textlog_formats.clock_key), no metric


def test_gluoncv_training_epoch_summary_in_an_mxnet_log():
    # "[Epoch 0] training: accuracy=0.026305" (a bracketed epoch, then "phase: name=value") belongs to the last batch
    # line of that epoch, as MXNet's own "Epoch[0] Train-accuracy=" line does
    run = read(REALWORLD / "gluoncv-822-mobilenet025-lr04-one-gpu" / "run" / "mobilenet0.25.log")
    acc = points(run, "accuracy")
    start = {e: s for s, e in run.epoch_starts}
    assert acc[max(s for s in acc if s < start[1])] == 0.026305  # the batch lines' running value there: 0.025210
    assert acc[max(s for s in acc if s < start[8])] == 0.158966


def test_a_training_line_with_its_own_counter_is_not_taken_beside_a_family(tmp_path):
    # in a family's log, a phase-marked training line that the family does not read and that carries its own step
    # would start a second step count: it stays unread (an epoch summary without a counter is taken)
    lines = "".join(f"Epoch[0] Batch [{b}]\tSpeed: 100.0 samples/sec\taccuracy={b / 1000:.3f}\n"
                    for b in range(100, 600, 100))
    run = read_text(tmp_path, lines + "training: step 7 accuracy=0.9\n")
    assert points(run, "accuracy")[500] == 0.5 and 7 not in points(run, "accuracy")


def test_a_held_out_metric_named_by_a_sentence_is_an_eval_record():
    st = State()
    assert parse_generic("after 200 steps, the validation loss is 0.53", st).eval
    assert parse_generic("val_loss: 0.5 val_acc: 0.9", st).eval  # every metric named for a held-out split
    assert not parse_generic("step 3 loss: 0.4 val_loss: 0.5", st).eval  # a training metric beside it


def test_held_out_sentences_do_not_move_the_step(tmp_path):
    run = read_text(tmp_path, "step 100: loss 2.0\nthe validation loss is 2.5\nstep 200: loss 1.8\n"
                              "the validation loss is 2.4\n")
    assert points(run, "loss") == {100: 2.0, 200: 1.8}
    assert points(run, "eval_loss") == {100: 2.5, 200: 2.4}


def test_metric_of_the_model_or_a_split_sentences(tmp_path):
    # caffe2 example scripts (tests/corpus/realworld/g17-caffe2-*): an "Iteration : N" line, then one sentence per
    # metric, "is :" with a colon; before, the loss lines were not read at all and the file read as no curve
    run = read_text(tmp_path, "".join(
        f"Iteration : {i}\nThe accuracy for the model is : {acc} \nThe loss for thee model is : {loss}\n"
        for i, (acc, loss) in enumerate(((0.15625, 2.386), (0.328125, 2.0597), (0.5, 1.5))))
        + "RESULT: Overall Test accuracy is : 0.964800\n")
    assert points(run, "loss") == {0: 2.386, 1: 2.0597, 2: 1.5}
    assert points(run, "accuracy") == {0: 0.15625, 1: 0.328125, 2: 0.5}
    assert points(run, "test_accuracy") == {2: 0.9648}  # the held-out split names the series
    rec = parse_generic("The loss of the training : 2.42593169212", State())
    assert rec is not None and rec.metrics == {"loss": 2.42593169212} and not rec.eval
    # silent: a per-class figure or a count is not the model's metric
    assert parse_generic("Number of the training : 3", State()) is None
    assert parse_generic("Accuracy for class cat : 0.8", State()) is None


def test_one_name_for_two_splits_gives_both_series(tmp_path):
    # a course notebook's print (tests/corpus/realworld/g17-standalone-dl-lab7-*): before, no metric was read at all
    run = read_text(tmp_path, "Epoch 0, Acc(train/val): 41.33/49.75, Loss(train/val) 1.50/1.39. Took 88.23 sec\n"
                              "Epoch 1, Acc(train/val): 57.09/59.87, Loss(train/val) 1.16/1.12. Took 88.28 sec\n")
    assert points(run, "loss") == {0: 1.5, 1: 1.16} and points(run, "eval_loss") == {0: 1.39, 1: 1.12}
    assert points(run, "accuracy") == {0: 41.33, 1: 57.09} and points(run, "eval_accuracy") == {0: 49.75, 1: 59.87}
    assert run.series("Took") is None  # the epoch's duration, no metric
    rec = parse_generic("loss (train/test): 0.5 / 0.6", State())
    assert rec is not None and rec.metrics == {"loss": 0.5, "test_loss": 0.6}
    # silent: a ratio of two counts under a name no metric word knows stays as printed
    assert parse_generic("ratio(train/val): 3/4", State()) is None


def test_a_split_heading_line_names_the_metric_after_it(tmp_path):
    # the deeplearning.ai notebooks' predict prints (tests/corpus/realworld/g17-dlai-regularization-*): before, the
    # test accuracy replaced the training accuracy under one name
    run = read_text(tmp_path, "Cost after iteration 0: 0.6557\nCost after iteration 10000: 0.1633\n"
                              "On the training set:\nAccuracy: 0.947867298578\nOn the test set:\nAccuracy: 0.915\n")
    assert points(run, "accuracy") == {10000: 0.947867298578}
    # the split's prefix on the name as printed, then named as the test split's accuracy (names.py)
    assert points(run, "test_accuracy") == {10000: 0.915}
    # silent: the heading covers the next metric line only, and a sentence that merely mentions a set is no heading
    run = read_text(tmp_path, "On the test set:\nAccuracy: 0.9\nAccuracy: 0.8\n", name="b.log")
    assert points(run, "test_accuracy") == {1: 0.9} and points(run, "accuracy") == {2: 0.8}
    assert parse_generic("On the test set: accuracy 0.9", State()) is not None


def test_planned_steps_from_the_progress_counter(tmp_path):
    # detectron2 prints eta = (max_iter - iter - 1) x its per-iteration time: d2go-19's run is planned for ~300
    run = read(REALWORLD / "d2go-19-warmup-equals-max-iter" / "run" / "train.log")
    assert 270 <= run.meta["planned_steps"] <= 310
    run = read_text(tmp_path, "".join(f"iter {i}/5000 loss {3 - i / 100:.2f}\n" for i in range(10, 60, 10)))
    assert run.meta["planned_steps"] == 5000


def test_no_planned_steps_from_a_per_epoch_counter(tmp_path):
    # "Step [100/600]" beside an epoch counts batches inside the epoch: no planned length in steps
    run = read_text(tmp_path, "".join(f"Epoch [1/5], Step [{i}/600], Loss: {2 - i / 1000:.3f}\n"
                                      for i in range(100, 700, 100)))
    assert "planned_steps" not in run.meta and run.meta["planned_epochs"] == 5
    run = read_text(tmp_path, "".join(f"iter {i}: loss {3 - i / 100:.2f}\n" for i in range(10, 60, 10)))
    assert "planned_steps" not in run.meta


def test_pytorch_nlp_tutorial_positional_prints():
    # the char-RNN classification tutorial: "5000  5% (0m12s) 2.9460 Jigalev / Portuguese ✗ (Russian)"
    run = read(REALWORLD / "practical-pytorch-21-optimizer-on-other-rnn-instance" / "run" / "train.log")
    loss = points(run, "loss")
    assert loss[5000] == 2.9460 and loss[50000] == 2.9550 and len(loss) == 10
    assert sorted(run.metrics) == ["loss"]  # the sample's guess is one example, not a metric


def test_pytorch_nlp_tutorial_time_first_variants(tmp_path):
    # char-RNN generation "0m 5s (5000 5%) 2.9460" and seq2seq "1m 40s (- 7m 23s) (5000 6%) 2.8801"
    run = read_text(tmp_path, "0m 5s (5000 5%) 2.9460\n0m 10s (10000 10%) 2.5112\n0m 15s (15000 15%) 2.3020\n")
    assert points(run, "loss") == {5000: 2.946, 10000: 2.5112, 15000: 2.302}
    run = read_text(tmp_path, "1m 40s (- 7m 23s) (5000 6%) 2.8801\n3m 17s (- 6m 1s) (10000 13%) 2.2958\n"
                              "4m 55s (- 4m 30s) (15000 20%) 1.9905\n")
    assert points(run, "loss") == {5000: 2.8801, 10000: 2.2958, 15000: 1.9905}


def test_a_percentage_and_a_time_alone_are_no_tutorial_line(tmp_path):
    # a progress line with no loss after the counter, and a duration with no counter, are not read as a loss
    run = read_text(tmp_path, "5000 5% (0m12s) done\n0m 5s elapsed 2.9\nstep 1 loss 3.0\nstep 2 loss 2.9\n")
    assert points(run, "loss") == {1: 3.0, 2: 2.9}


# --- step counters printed in a logger header, with a number sign, or as a leading column ---------------------------


def test_olmo_step_header_carries_the_step_to_its_indented_metric_lines():
    run = read(REALWORLD / "g1-olmo-1b-aks-first-10-steps" / "run" / "train.log")
    loss = points(run, "loss")  # OLMo's train/CrossEntropyLoss is the loss it minimises
    assert sorted(loss) == list(range(1, 11))  # the "[step=N/739328]" headers, not the line order
    assert loss[1] == 11.25 and loss[10] == 9.331
    assert points(run, "train/Perplexity")[2] == 45773  # "45,773": one number, the same step as its loss


def test_logger_location_before_a_step_needs_the_step_alone(tmp_path):
    # silent: a logger header followed by a message with metrics is not a bare step header
    run = read_text(tmp_path, "[trainer.loop:12, rank=0] step=5 loss=2.0\n[trainer.loop:12, rank=0] step=6 loss=1.9\n")
    assert points(run, "loss") == {5: 2.0, 6: 1.9}


def test_tianshou_epoch_with_number_sign_is_the_step():
    run = read(REALWORLD / "g1-tianshou-levdoom-dqn-defend-center-50ep" / "run" / "train.log")
    rew = points(run, "eval_reward")  # its per-epoch test split is its only held-out curve (Run.finalize)
    assert sorted(rew) == list(range(1, 51))  # 50 epochs, not 100 line-order steps
    assert rew[1] == 3.9861 and rew[45] == 5.5258
    assert sorted(points(run, "loss")) == list(range(1, 51))


def test_number_sign_elsewhere_is_left_alone():
    # silent: "#" that follows no counter word ("in #7", "item #3") makes no step
    rec = parse_generic("best_reward: 4.4556 in #7, loss=0.2", State())
    assert rec is not None and rec.step is None and rec.epoch is None


def test_leading_counter_column_before_a_pipe_is_the_step():
    run = read(REALWORLD / "g1-modded-llama2-10-initial-result-260-steps" / "run" / "train.log")
    loss = points(run, "loss")
    assert min(loss) == 0 and max(loss) == 250 and loss[120] == 4.8438


def test_a_row_of_numbers_between_pipes_is_no_counter():
    # silent: the column needs a name and a value after the pipe ("3 | 4 | 5" is a table row)
    assert parse_generic("3 | 4 | 5", State()) is None
    rec = parse_generic("3 | 0.5 | loss 0.7", State())
    assert rec is None or rec.step != 3


# MosaicML llm-foundry's pretraining quickstart sample output (mosaicml/llm-foundry scripts/train/README.md), exactly:
# Composer prints "[batch=N/M]:" alone, then one indented "Train <name>: <value>" line per metric
COMPOSER_SAMPLE = """[batch=1/100]:
         Train LanguageCrossEntropy: 10.9736
         Train Perplexity: 58312.0586
         Train loss/train/total: 10.9736
[batch=2/100]:
         Train LanguageCrossEntropy: 10.9724
         Train Perplexity: 58243.8086
         Train loss/train/total: 10.9724
[batch=3/100]:
         Train LanguageCrossEntropy: 10.9745
         Train Perplexity: 58365.8047
         Train loss/train/total: 10.9745
[batch=4/100]:
         Train LanguageCrossEntropy: 10.6459
         Train Perplexity: 42018.5508
         Train loss/train/total: 10.6459
"""


def test_composer_batch_header_is_the_step_of_its_metric_lines(tmp_path):
    run = read_text(tmp_path, COMPOSER_SAMPLE)
    assert points(run, "loss") == {1: 10.9736, 2: 10.9724, 3: 10.9745, 4: 10.6459}  # "loss/train/total" is the loss


def test_a_batch_header_needs_its_total():
    # silent: "[batch=4]" without "/M" is no Composer header (a batch size or index printed in brackets)
    st = State()
    parse_generic("[batch=4]:", st)
    assert "pending_step" not in st.extra


def test_rich_handler_source_column_is_no_metric(tmp_path):
    # Rich's RichHandler ends every record with the logging call's "file.py:line"; the metrics before it stay
    text = "".join(f"[12/06/26 04:40:{s:02d}] INFO     step={s * 10} loss={2.0 / (s + 1):.4f} lr=0.0003"
                   f"          train.py:42\n" for s in range(8))
    run = read_text(tmp_path, text)
    assert run.series("train.py") is None and len(run.series("loss")) == 8 and len(run.series("lr")) == 8


def test_a_metric_whose_name_only_contains_py_stays(tmp_path):
    # silent: "entropy: 0.52" and "copy_loss: 0.3" are metrics whatever letters they hold
    run = read_text(tmp_path, "".join(f"step={s} entropy: {0.5 + s / 100:.2f} copy_loss: {1 / (s + 1):.3f}\n"
                                      for s in range(5)))
    assert len(run.series("entropy")) == 5 and len(run.series("copy_loss")) == 5


def test_a_bare_t_in_seconds_is_the_clock(tmp_path):
    # a Kaggle solution's epoch print (realworld theoviel-nfl-resnet18-cls-5fold-auc): "t=25s" is the epoch's wall time
    text = "".join(f"Epoch {e:02d}/20 \t lr=1.0e-03\t t={25 - e}s \tloss={0.9 - e / 100:.3f}\tval_loss=0.675 \t "
                   f"auc=0.726\t aucs_aux=[0.712, 0.682, 0.749, 0.784]\n" for e in range(1, 6))
    run = read_text(tmp_path, text)
    assert run.series("t") is None
    assert sorted(run.metrics) == ["auc", "eval_loss", "loss", "lr"] and len(run.series("loss")) == 5


def test_a_bare_t_without_a_unit_stays(tmp_path):
    # silent: "t: 0.07" names no unit (a temperature, a timestep): read as printed
    run = read_text(tmp_path, "".join(f"step={s} t: {0.07 + s / 100:.2f} loss: {1 / (s + 1):.3f}\n" for s in range(5)))
    assert len(run.series("t")) == 5 and len(run.series("loss")) == 5


# --- Markdown strong emphasis in a log pasted into an issue ---------------------------------------------------------


def test_a_bolded_value_of_a_pasted_log_is_read():
    # realworld lwhpe-100-logging-interval-loss-dip: the asker bolded "stage2_heatmaps_loss: **1.97...**", the
    # value they asked about; GitHub renders the stars away, and the value belongs to its series like the others
    run = read(REALWORLD / "lwhpe-100-logging-interval-loss-dip" / "run" / "train.log")
    assert len(run.series("stage2_heatmaps_loss")) == 3
    assert 1.9725639724731445 in points(run, "stage2_heatmaps_loss").values()


def test_stars_that_are_not_emphasis_stay():
    # silent: a power "2**16", a "*****" banner and a triple-starred "***NDCG@10***" keep their stars
    assert normalise("loss scale 2**16 reached").text == "loss scale 2**16 reached"
    assert normalise("***** Running training *****").text == "***** Running training *****"
    assert normalise("Better ***NDCG@10*** of ***0.0003***").text == "Better ***NDCG@10*** of ***0.0003***"
    assert normalise("perplexity=**17.432637**").text == "perplexity=17.432637"
