"""Text-log reader: shapes of real logs that were once read wrongly (a logger prefix left on the line so the family
parser never saw it, a printed settings dict read as one-point metric series). Each case: an exact excerpt of a
tests/corpus/realworld log that must read, and a look-alike that must not yield a series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from textlog_support import read, read_text
from traindoc.ingest.model import Run
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers.textlog_formats import State, parse_generic

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


# --- a change announced verb first: "reducing learning rate from 0.1 to 0.01" --------------------------------------
KERAS_SSD = REALWORLD / "keras-ssd-nan-epoch1" / "run" / "train.log"
SKLEARN_S18 = Path(__file__).parent / "corpus" / "reallib" / "sklearn-healthy-s18" / "run" / "train.log"
DS_CHAT_RM = REALWORLD / "g20-deepspeed-chat-step2-reward-opt350m-1ep-reference-log" / "run" / \
    "opt-350m_globalBatchSize-64.log"


def test_a_scheduler_announcement_is_the_quantity_at_its_new_value(tmp_path):
    # Keras' LearningRateScheduler "Epoch 00001: LearningRateScheduler setting learning rate to 0.001." and
    # scikit-learn's MLP "... Setting learning rate to 0.010674": the LR, named without the verb
    run = read_text(tmp_path, lines_of(KERAS_SSD, 3))
    assert points(run, "lr") == {1: 0.001} and run.series("lr").raw_name == "learning rate"
    rec = parse_generic(lines_of(SKLEARN_S18, 25).strip(), State())
    assert rec is not None and rec.metrics.get("learning rate") == 0.010674
    assert not any(k.lower().startswith("setting") for k in rec.metrics)
    # DeepSpeed's scaler line through the fallback: the verb and the old value go, "dynamic loss scale" is the scale
    rec = parse_generic(lines_of(DS_CHAT_RM, 8).strip(), State())
    assert rec is not None and rec.metrics == {"dynamic loss scale": 32768.0}
    # the brief's spellings: "from A to B" gives B; PyTorch's ReduceLROnPlateau names a parameter group, the first
    # one is the LR itself, another a per-group LR
    run = read_text(tmp_path, "Epoch 1: loss 0.9\nEpoch 2: loss 0.8\nreducing learning rate from 0.1 to 0.01\n"
                              "Epoch 3: loss 0.7\nEpoch 00012: reducing learning rate of group 0 to 1.0000e-04.\n"
                              "Epoch 00013: reducing learning rate of group 1 to 1.0000e-05.\nEpoch 13: loss 0.6\n")
    assert points(run, "lr") == {2: 0.01, 12: 1e-4}
    assert points(run, "lr/group_1") == {13: 1e-5}
    assert not any("reducing" in name.lower() for name in run.metrics)


def test_a_verb_without_a_new_value_gives_no_series(tmp_path):
    # silent: a change told without "to <value>" (a factor) is no value; a verb not in the list stays
    run = read_text(tmp_path, "step 1 loss 0.9\nreducing learning rate by a factor of 10\nstep 2 loss 0.8\n")
    assert sorted(run.metrics) == ["loss"]
    rec = parse_generic("Saving checkpoint to 3 files, loss 0.5", State())
    assert rec is not None and rec.metrics.get("loss") == 0.5 and "checkpoint" not in rec.metrics


# --- a loss scaler's scale under another spelling ------------------------------------------------------------------
INSIGHTFACE = REALWORLD / "insightface-1430-arcface-torch-r100-maintainer-steps" / "run" / "train.log"


def test_loss_scaler_spellings_are_the_loss_scale():
    # "Training: 2021-03-16 00:16:03,415-Speed 3262.77 samples/sec   Loss 34.2626   Epoch: 0   Global Step: 1250
    # Fp16 Grad Scale: 16384   Required: 31 hours" (arcface_torch): the GradScaler's scale, what the fp16 rules read
    run = read(INSIGHTFACE)
    scale = points(run, "loss_scale")
    assert scale[1250] == 16384 and len(scale) == 8 and "Fp16 Grad Scale" not in run.metrics
    for raw in ("dynamic loss scale", "Fp16 Grad Scale", "loss scale", "loss_scale", "grad scale", "scaler scale",
                "cur_loss_scale", "amp_scale", "train/loss_scale"):
        assert canonical_metric(raw) == "loss_scale", raw


def test_other_scales_are_no_loss_scale():
    # silent: orbit's "scale = 0.10131" (a fitted model's scale parameter), a kernel's lengthscale, a scaled loss
    for raw in ("scale", "lengthscale", "scale_loss", "loss_scaled", "lr_scale", "grad_scale_factor"):
        assert canonical_metric(raw) != "loss_scale", raw


# --- a duration or a rate of the machine ---------------------------------------------------------------------------


def test_durations_and_rates_on_a_metric_line_are_no_series(tmp_path):
    # the same arcface_torch lines: "Speed 3262.77 samples/sec" is the machine's rate; the loss still reads
    run = read(INSIGHTFACE)
    assert run.series("Speed") is None and points(run, "loss")[1250] == 34.2626
    run = read_text(tmp_path, "Epoch 3: loss 0.5 time: 519s\nstep 10 loss 0.4 elapsed 12.3s\n"
                              "iter 11 loss 0.3 eta 0:01:02\nstep 12 loss 0.2 samples/sec 3262.1\n"
                              "step 13, loss 0.1, speed: 1.2 it/s, time 0.25, data_time 0.01\n"
                              "step 14 loss 0.05 examples_per_second 33.1 batch time 0.3\n")
    assert sorted(run.metrics) == ["loss"] and len(run.series("loss")) == 6


def test_tokens_per_second_and_time_words_inside_a_name_stay(tmp_path):
    # silent: the throughput the project names (build-nanogpt's "tok/sec", names.py) stays, and so do a "timestep"
    # and an "acc" whose words only contain the letters of a clock word
    run = read_text(tmp_path, "step 10 | loss: 6.1 | tok/sec: 5198.52 | timestep 3\n"
                              "step 20 | loss: 5.9 | tok/sec: 5201.10 | timestep 4\n")
    assert points(run, "tokens_per_s") == {10: 5198.52, 20: 5201.10}
    assert points(run, "timestep") == {10: 3.0, 20: 4.0}


# --- a cross-validation summary and a list of values after one name ------------------------------------------------
NFL_CLS = REALWORLD / "theoviel-nfl-resnet18-cls-5fold-auc" / "run" / "logs.txt"
NFL_DET = REALWORLD / "theoviel-nfl-effdet-d4-scores-15ep" / "run" / "logs.txt"


def test_a_cv_summary_and_a_dash_list_are_no_series(tmp_path):
    # "  -> CV auc : 0.8880" after the last fold: the folds' pooled score, no point of fold 5's epochs
    run = read(NFL_CLS)
    assert run.series("CV auc") is None and len(points(run, "auc")) == 20
    run = read_text(tmp_path, lines_of(NFL_CLS, 170, 177))
    assert sorted(run.metrics) == ["auc", "eval_loss", "loss", "lr"]
    # "scores : 0.8289 - 0.6422 - 0.2067": three scores under one name; which one "scores" is, the log does not say
    run = read(NFL_DET)
    assert run.series("scores") is None and points(run, "loss")[1] == 16.902 and len(points(run, "loss")) == 15


def test_per_round_cv_and_dash_separated_pairs_still_read(tmp_path):
    # silent: LightGBM's per-round "cv_agg's auc" is a series of rounds, and Keras's " - " between pairs separates
    # names, it makes no list
    run = read_text(tmp_path, "[10]\tcv_agg's auc: 0.8 + 0.01\n[20]\tcv_agg's auc: 0.82 + 0.01\n", name="cv.log")
    assert len(run.metrics) == 1 and list(next(iter(run.metrics.values())).values) == [0.8, 0.82]
    rec = parse_generic("Epoch 3 - loss: 0.5 - acc: 0.9 - val_loss: 0.6", State())
    assert rec is not None and rec.metrics == {"loss": 0.5, "acc": 0.9, "val_loss": 0.6}


# --- a settings sentence ("Using SVI (Pyro) with steps: 501, ..., learning rate: 0.2 ...") ------------------------
ORBIT = REALWORLD / "orbit-ktr-simulation-svi-fit" / "run" / "fit_stderr.log"


def test_an_announced_settings_list_is_configuration(tmp_path):
    run = read_text(tmp_path, lines_of(ORBIT, 2, 5, 7))
    assert sorted(run.metrics) == ["loss", "scale"]
    assert {k: run.config[k].value for k in ("steps", "samples", "learning_rate", "learning_rate_total_decay",
                                             "particles")} == {"steps": 501, "samples": 1000, "learning_rate": 0.2,
                                                               "learning_rate_total_decay": 0.05, "particles": 100}


def test_a_sentence_that_is_no_settings_list_is_no_configuration(tmp_path):
    # silent: the Kaggle log's "Using 158 out of 1210 batches ..." and orbit's "Optimizing (CmdStanPy) with algorithm:
    # LBFGS." hold no list of settings; a line with a loss is a metric line, not an announcement
    run = read_text(tmp_path, lines_of(NFL_CLS, 9) + lines_of(ORBIT, 1)
                    + "Training with lr: 0.1, loss: 0.52\nTraining with lr: 0.1, loss: 0.48\n")
    assert not run.config
    assert list(points(run, "loss").values()) == [0.52, 0.48]


# --- bare number columns (pytorch_classification#9) ----------------------------------------------------------------
LABEL_SMOOTHING = REALWORLD / "pytorch-classification-9-label-smoothing-loss-floor-0.6" / "run" / "train.log"


def test_bare_number_columns_are_left_unnamed():
    # "0.6104838848114014 0.13801012933254242": the owner says left is the label-smoothed loss, right the plain
    # cross-entropy on the same batch. Named by shape, both are losses in [0, 1] that neither rise nor fall much:
    # the rules (rises -> accuracy, falls -> loss) would name the plain CE "loss" and the optimised one nothing, and
    # a rising loss would be named an accuracy, the symptom read as health. Only the named lines read.
    run = read(LABEL_SMOOTHING)
    assert points(run, "loss") == {310: 0.595441, 320: 0.611886}
    # ("epochiter: 32/139", the batch within the epoch, is a position, no metric)
    assert sorted(run.metrics) == ["accuracy", "loss", "lr"]
