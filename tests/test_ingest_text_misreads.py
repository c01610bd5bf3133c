"""Text-log reader: shapes of real logs that were once read wrongly (a logger prefix left on the line so the family
parser never saw it, a printed settings dict read as one-point metric series). Each case: an exact excerpt of a
tests/corpus/realworld log that must read, and a look-alike that must not yield a series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from textlog_support import read, read_text
from traindoc.ingest.model import Run

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
W2V2 = REALWORLD / "g1-w2v2-vietnamese-hydra-finetune-102ep" / "run" / "hydra_train_finetune.log"
FLAX_CLU = REALWORLD / "flax-spin-spherical-cnn-smnist-sample-output" / "run" / "train.log"


def points(run: Run, name: str) -> dict[int, float]:
    s = run.series(name)
    assert s is not None, f"missing series {name}: have {sorted(run.metrics)}"
    return dict(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def lines_of(path: Path, *numbers: int) -> str:
    """The given 1-based lines of a corpus log, exactly as stored."""
    text = path.read_text().splitlines(keepends=True)
    return "".join(text[n - 1] for n in numbers)


# --- Hydra's "[date][logger][LEVEL] - " prefix (fairseq-hydra) ------------------------------------------------------


def test_hydra_prefixed_fairseq_json_lines_read_at_their_update_counts():
    run = read(W2V2)
    loss = points(run, "loss")
    # the end-of-epoch summary ("train_num_updates": "85") and the train_inner line ("num_updates": "200"), each at
    # its update count: none at its epoch number
    assert loss[85] == 887.379 and loss[179] == 822.103 and loss[200] == 844.186
    assert min(loss) == 85
    ev = points(run, "eval_loss")
    assert ev[85] == 729.494 and ev[179] == 647.256
    assert len(ev) >= 100  # one validation per epoch, 102 epochs


def test_hydra_prefix_excerpt_constructed_from_the_log(tmp_path):
    # the validation, summary and train_inner lines of epochs 1-3, exactly as logged
    run = read_text(tmp_path, lines_of(W2V2, 289, 295, 298, 304, 306))
    assert points(run, "loss") == {85: 887.379, 179: 822.103, 200: 844.186}
    assert points(run, "eval_loss") == {85: 729.494, 179: 647.256}


def test_hydra_prefix_on_a_non_metric_line_yields_no_series(tmp_path):
    # silent: the same prefix before messages with numbers that are no metric
    run = read_text(tmp_path, lines_of(W2V2, 275, 276, 277, 278, 296))
    assert not run.metrics


# --- a printed settings dict --------------------------------------------------------------------------------------


def test_settings_dict_with_a_metric_word_in_a_key_is_not_read():
    # CLU's "Hyperparameters: {..., 'log_loss_every_steps': 100, 'seed': 42, 'learning_rate': 0.001, ...}"
    run = read(FLAX_CLU)
    for name in ("seed", "checkpoint_every_steps", "log_loss_every_steps", "warmup_epochs", "weight_decay"):
        assert name not in run.metrics
    lr = points(run, "lr")
    assert min(lr) == 100 and lr[100] < 1e-4  # the warmup's first logged LR, not the configured 0.001 at step 1
    assert points(run, "loss")[100] > 2  # the metric lines still read


def test_settings_dict_excerpt_is_silent_and_report_dicts_still_read(tmp_path):
    silent = read_text(tmp_path, lines_of(FLAX_CLU, 2), name="settings.log")
    assert not silent.metrics
    # a report dict holds numbers only, quoted or not (ParlAI's report; transformers' newer quoted floats)
    fires = read_text(tmp_path, "[ time:4.0s total_exs:2114 ] {'exs': 1134, 'loss': 0.949, 'token_acc': 0.6748, "
                                "'total_train_updates': 151}\n"
                                "[ time:8.0s total_exs:2506 ] {'exs': '392', 'loss': 'nan', 'token_acc': '0.8959', "
                                "'total_train_updates': '179'}\n", name="report.log")
    loss = points(fires, "loss")
    assert loss[151] == 0.949 and loss[179] != loss[179]  # nan


# --- a NaN guard that prints the loss ("Loss is nan, stopping training") -----------------------------------------

MAR = REALWORLD / "g8-mar-69-autocast-fp16-loss-nan" / "run" / "train.log"


def test_loss_guard_after_metric_logger_line_is_a_nan_loss_point():
    # LTH14/mar#69: one MetricLogger line, then the engine's guard; the NaN is the loss of a later step
    run = read(MAR)
    loss = points(run, "loss")
    assert loss[18544] == 0.2606  # the logged finite value is kept
    assert list(loss) == [18544, 18545] and loss[18545] != loss[18545]  # nan, one step after
    assert [e.step for e in run.events if e.tag == "nan_loss"] == [18545]


def test_loss_guard_repeated_by_each_process_is_one_point(tmp_path):
    run = read_text(tmp_path, lines_of(MAR, 1, 2, 2, 2))
    assert list(points(run, "loss")) == [18544, 18545]


def test_loss_guard_look_alikes_stay_as_they_were(tmp_path):
    # silent: a guard that names its own step keeps it (the generic sentence rule reads "at step 48"); "infinite
    # or NaN" is detectron2's exception text, not a printed value; a finite "loss is" sentence is no guard
    run = read_text(tmp_path, "step 45 | loss 4.6762 | lr 7.42e-02\nloss is inf, stopping training at step 48\n")
    assert list(points(run, "loss")) == [45, 48]
    run = read_text(tmp_path, "step 45 | loss 4.6762 | lr 7.42e-02\n"
                              "FloatingPointError: Loss became infinite or NaN at iteration=27!\n", name="d2.log")
    assert list(points(run, "loss")) == [45]
    run = read_text(tmp_path, lines_of(MAR, 1) + "[11:41:59.064379] Loss is 0.2606, stopping training\n",
                    name="finite.log")
    assert list(points(run, "loss")) == [18544]


def test_loss_guard_after_a_logged_nan_adds_no_step(tmp_path):
    # silent: the loss already logged as NaN is the value the guard reports; no later step is made up
    run = read_text(tmp_path, "iter 40: loss 2.0, time 1.00ms, mfu 1.00%\niter 50: loss nan, time 1.00ms, mfu 1.00%\n"
                              "Loss is nan, stopping training\n")
    assert list(points(run, "loss")) == [40, 50]


NEMO = REALWORLD / "g6-nemo-282-tacotron2-amp-loss-nan-o0-fixes" / "run" / "train.log"


def test_loss_guard_after_a_bare_step_counter_goes_one_step_after_it():
    # NVIDIA NeMo #282: "Step: 13550", "Finished epoch 250", "Starting epoch 251", then NeMo's "Loss is NaN": the NaN
    # comes after 13550 updates, in epoch 251 (not at step 251, the epoch number)
    run = read(NEMO)
    loss = points(run, "loss")
    assert list(loss) == [13551] and loss[13551] != loss[13551]
    assert run.epoch_starts == [(13551, 251)]


@pytest.mark.parametrize("counter", ["Iteration 400", "global_step=400", "INFO - Step: 400"])
def test_loss_guard_after_counter_shapes(tmp_path, counter):
    run = read_text(tmp_path, f"{counter}\nLoss is nan, stopping training\n")
    assert list(points(run, "loss")) == [401]


def test_bare_counter_behind_metric_lines_moves_no_guard(tmp_path):
    # silent: a counter line older than the last metric line, or below its step (a per-epoch count beside a global
    # one), is no later position: the guard stays one step after the metric line
    run = read_text(tmp_path, "Step: 30\nstep 45 | loss 4.6762 | lr 7.42e-02\nLoss is nan, stopping training\n")
    assert list(points(run, "loss")) == [45, 46]
    run = read_text(tmp_path, "step 45 | loss 4.6762 | lr 7.42e-02\niter 12\nLoss is nan, stopping training\n",
                    name="percount.log")
    assert list(points(run, "loss")) == [45, 46]
    # and a counter line with no guard after it makes no point at all
    assert "loss" not in read_text(tmp_path, "Step: 13550\nStarting epoch 251\n", name="quiet.log").metrics


# --- a counter named by two words ("TRAIN Batch 20100/282164", WeNet) ---------------------------------------------

WENET = REALWORLD / "wenet-496-nan-all-ranks-bad-audio" / "run" / "train.log"


def test_two_word_counter_with_its_fraction_is_the_step_not_a_metric():
    run = read(WENET)
    assert "TRAIN Batch" not in run.metrics and "batch" not in run.metrics
    loss = points(run, "loss")
    assert list(loss) == [20100] and loss[20100] != loss[20100]  # nan at the batch count it printed


def test_two_word_counter_constructed_variant_keeps_real_metrics(tmp_path):
    lines = [f"2021-07-07 04:50:41,064 DEBUG TRAIN Batch {b}/282164 loss {3 - b / 1e5:.6f} loss_att 1.5 "
             f"lr 0.00004021 rank 0" for b in (100, 200, 300)]
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert sorted(run.metrics) == ["loss", "loss_att", "lr"]
    assert list(points(run, "loss")) == [100, 200, 300]


# --- a line that opens with a held-out split and its counter ("eval epoch: 99, loss: ...") ----------------------------

FLAX_IMAGENET = REALWORLD / "flax-imagenet-tpu-100epoch-tail" / "run" / "train.log"


def test_eval_epoch_line_is_held_out_not_a_training_point():
    # the Flax ImageNet example's "eval epoch: 99, loss: 0.9427, accuracy: 76.42" among CLU "[step] key=value" lines
    run = read(FLAX_IMAGENET)
    loss = points(run, "loss")
    assert min(loss) == 124500 and 0.9427 not in loss.values()  # no training point at "step" 99
    assert 76.42 not in points(run, "accuracy").values()
    assert list(points(run, "eval_loss")) == [125100]


def test_eval_epoch_excerpt_and_training_look_alike(tmp_path):
    run = read_text(tmp_path, lines_of(FLAX_IMAGENET, 8, 9))
    assert list(points(run, "loss")) == [125100] and points(run, "eval_loss") == {125100: 0.9427}
    # silent: the same shape opened by the training split stays the training loss
    run = read_text(tmp_path, "train epoch: 1, loss: 2.1000, accuracy: 30.10\ntrain epoch: 2, loss: 1.9000, "
                              "accuracy: 35.20\n", name="train.log")
    assert points(run, "loss") == {1: 2.1, 2: 1.9} and "eval_loss" not in run.metrics


# --- detectron2's anomaly check: "Loss became infinite or NaN at iteration=N!" and its loss_dict ---------------------

D2_508 = REALWORLD / "detectron2-508-baselr-002" / "run" / "train.log"
D2_214 = REALWORLD / "g8-detectron2-214-one-gpu-default-lr-nan-after-warmup" / "run" / "log.txt"


def test_anomaly_message_and_loss_dict_are_the_iterations_loss_terms():
    run = read(D2_508)
    assert points(run, "loss_box_reg") == {27: 0.2576}
    cls, total = points(run, "loss_cls"), points(run, "loss")
    assert list(cls) == [27] and cls[27] != cls[27] and list(total) == [27] and total[27] != total[27]


def test_loss_dict_alone_with_a_nan_is_the_same_check_one_step_on():
    # g8-detectron2-214 kept the event lines and the dict, not the message: the NaN goes one step after iter 499
    run = read(D2_214)
    loss = points(run, "loss")
    assert loss[499] == 1.733 and list(loss)[-1] == 500 and loss[500] != loss[500]
    assert points(run, "loss_box_reg")[500] == 1310.0702


def test_finite_loss_dict_without_the_message_is_no_guard(tmp_path):
    # silent: a printed dict of finite losses (a script's own print) after an event line adds no point
    run = read_text(tmp_path, lines_of(D2_214, 1) + "loss_dict = {'loss_cls': tensor(0.9525, device='cuda:1'), "
                                                    "'loss_box_reg': tensor(0.4215, device='cuda:1')}\n")
    assert points(run, "loss_box_reg") == {379: 0.475} and list(points(run, "loss")) == [379]


# --- a metric name padded with two spaces ("Discriminator  Loss:  11.18", LeeDoYup/DeblurGAN-tf) ----------------------
DEBLURGAN = REALWORLD / "deblurgan-tf-11-wgan-gp-sqrt-nan" / "run" / "train.log"


def test_a_two_space_padded_name_keeps_its_qualifier():
    # the discriminator's loss is printed "Discriminator  Loss:  x"; read as "Loss" alone it lost which player it is
    run = read(DEBLURGAN)
    assert "Discriminator Loss" in run.metrics and "Generator Loss" in run.metrics
    d = run.series("Discriminator Loss")
    assert d is not None and d.values[0] == 11.182838 and np.isnan(d.values[1:]).all()


def test_words_three_spaces_apart_stay_separate_columns(tmp_path):
    # an aligned line's fields are three or more spaces apart: "model   loss 0.5" names the loss, not "model loss"
    run = read_text(tmp_path, "step 10 model   loss 0.52\nstep 20 model   loss 0.48\n")
    assert points(run, "loss") == {10: 0.52, 20: 0.48}
