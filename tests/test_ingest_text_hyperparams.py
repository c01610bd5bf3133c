"""A printed line of hyperparameters is configuration, and printed parameter counts are read from every stack's
banner (Lightning, Keras, HF Trainer, timm): what frozen_params and the not-learning detectors compare against."""

from __future__ import annotations

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import hf_trainer, text_log


def read(reader, path, text: str) -> Run:
    """Write `text` to `path` and read it with one reader, as the loader would."""
    path.write_text(text)
    run = Run()
    reader(path, run)
    return run.finalize()


METRIC_LINES = "".join(f"INFO:train:step={s} loss={2.0 - s / 100:.4f} lr=0.0003 grad_norm=0.5\n" for s in range(1, 21))


def test_config_line_is_configuration_not_metrics(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("INFO:train:config seed=0 optimizer=rmsprop lr=0.0003 act=relu bias_init=-3.0 depth=2 "
                 "schedule=step warmup=0 norm=None use_bn=False\n" + METRIC_LINES)
    run = Run()
    text_log.read(p, run)
    run.finalize()
    assert sorted(run.metrics) == ["grad_norm", "loss", "lr"]  # no "rmsprop lr", no "relu bias_init"
    assert len(run.series("loss")) == 20
    cfg = {k: cv.value for k, cv in run.config.items()}
    assert cfg == {"seed": 0, "optimizer": "rmsprop", "lr": 0.0003, "act": "relu", "bias_init": -3.0, "depth": 2,
                   "schedule": "step", "warmup": 0, "norm": None, "use_bn": False}
    cv = run.config["bias_init"]
    assert (cv.line, cv.text, cv.kind) == (1, "-3.0", "log_line")


def test_argparse_namespace_is_configuration(tmp_path):
    p = tmp_path / "out.log"
    p.write_text("Namespace(arch='resnet18', batch_size=32, lr=0.1, momentum=0.9, pretrained=False)\n" + METRIC_LINES)
    run = Run()
    text_log.read(p, run)
    run.finalize()
    assert {k: cv.value for k, cv in run.config.items()} == {"arch": "resnet18", "batch_size": 32, "lr": 0.1,
                                                            "momentum": 0.9, "pretrained": False}
    assert "lr" in run.metrics and len(run.series("lr")) == 20


def test_metric_line_mentioning_config_words_stays_metrics(tmp_path):
    p = tmp_path / "m.log"
    p.write_text("".join(f"step={s} loss={1.0 / s:.4f} options_loss=0.5\n" for s in range(1, 11)))
    run = Run()
    text_log.read(p, run)
    run.finalize()
    assert len(run.series("loss")) == 10 and not run.config


def test_keras_and_timm_param_counts(tmp_path):
    k = tmp_path / "keras.log"
    k.write_text(" Total params: 5,770 (22.54 KB)\n Trainable params: 8 (32.00 B)\n"
                 " Non-trainable params: 5,762 (22.51 KB)\nEpoch 1/2\n"
                 "32/32 - 0s - 3ms/step - loss: 2.0794 - val_loss: 2.0794\nEpoch 2/2\n"
                 "32/32 - 0s - 3ms/step - loss: 2.0794 - val_loss: 2.0794\n")
    run = Run()
    text_log.read(k, run)
    assert {f: run.meta["param_summary"][f] for f in ("total", "trainable", "non_trainable")} == \
        {"total": 5770, "trainable": 8, "non_trainable": 5762}
    run = read(text_log.read, tmp_path / "timm.log", "Model resnet50 created, param count:25557032\n"
               "Train: 0 [   0/100 (  0%)]  Loss: 6.93 (6.93)  Time: 1.0s  LR: 1.000e-04  Data: 0.1 (0.1)\n")
    assert run.meta["param_summary"]["total"] == 25557032


def test_hf_console_trainable_count(tmp_path):
    run = read(hf_trainer.read_console, tmp_path / "train.log",
               "[transformers] ***** Running training *****\n[transformers]   Num examples = 1,024\n"
               "[transformers]   Total train batch size (w. parallel, distributed & accumulation) = 1,024\n"
               "[transformers]   Number of trainable parameters = 1,102\n"
               "{'loss': '1.791', 'grad_norm': '0.1369', 'learning_rate': '0.0002154', 'epoch': '0.0625'}\n"
               "{'loss': '1.792', 'grad_norm': '0.214', 'learning_rate': '0.001077', 'epoch': '0.3125'}\n")
    assert run.meta["param_summary"]["trainable"] == 1102
    assert run.meta["hf_total_train_batch_size"] == 1024  # the samples one update sees, accumulation included


def test_lightning_grad_norm_utility_name(tmp_path):
    """Lightning's grad_norm(module, norm_type=2) logs the total as grad_2.0_norm_total."""
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,grad_2.0_norm_total,train_loss\n" + "".join(f"0,{s},0.5,{2 - s / 50}\n"
                                                                          for s in range(10)))
    run = load_run([p])
    assert run.series("grad_norm") is not None and len(run.series("grad_norm")) == 10


def test_print_glued_to_a_progress_bar_is_read(tmp_path):
    """`print(f"lr={sched.get_last_lr()} ...")` glued after Lightning's bar is read (the generic reader)."""
    p = tmp_path / "train.log"
    p.write_text("".join(f"Epoch 0:   0%|          | {s}/1000 [00:02<10:00,  1.00it/s, v_num=1, train_loss=10.90]"
                         f"lr=[0.0] mean=-0.000124 std=0.024048\n" for s in range(1, 11)))
    run = Run()
    text_log.read(p, run)
    run.finalize()
    assert dict(zip(run.series("lr").steps.tolist(), run.series("lr").values.tolist(), strict=True)) == \
        {s: 0.0 for s in range(1, 11)}
    assert len(run.series("loss")) == 10


def test_worded_run_announcement_is_configuration(tmp_path):
    run = read(text_log.read, tmp_path / "train.log",
               "training mlp with adam lr=0.000607 batch=32 steps=300\n" + METRIC_LINES)
    assert sorted(run.metrics) == ["grad_norm", "loss", "lr"]  # no "with adam lr" series
    assert {k: cv.value for k, cv in run.config.items()} == {"optimizer": "adam", "lr": 0.000607, "batch": 32,
                                                            "steps": 300}


def test_worded_metric_lines_stay_metrics(tmp_path):
    # "training" followed by the step, or by a loss: a metric line, not an announcement
    run = read(text_log.read, tmp_path / "train.log",
               "".join(f"training step={s} loss={2 - s / 100:.4f} lr=0.001\n" for s in range(1, 11))
               + "".join(f"training epoch {e}: lr=0.001 batch=32 loss=1.0\n" for e in range(3)))
    assert len(run.series("loss")) >= 10 and not run.config


def test_command_line_in_a_log_is_configuration(tmp_path):
    # OpenNMT-py's single-dash long flags after a `set -x` mark, and a console script wrapped onto a second line
    run = read(text_log.read, tmp_path / "train.log",
               "+ python train.py -data d -gpuid 0 -brnn -layers 2 -optim adam -dropout 0.2 -learning_rate 1.0\n"
               "cgcnn-tr -as cif/ --train-ratio 0.8 --epoch\n 300 --batch-size 32 --workers 10\n" + METRIC_LINES)
    assert sorted(run.metrics) == ["grad_norm", "loss", "lr"]  # no "batch-size" or "workers" series
    cfg = {k: cv.value for k, cv in run.config.items()}
    assert cfg["learning_rate"] == 1.0 and cfg["optim"] == "adam" and cfg["brnn"] is True and cfg["layers"] == 2
    assert cfg["batch_size"] == 32 and cfg["workers"] == 10 and cfg["train_ratio"] == 0.8
    cv = run.config["learning_rate"]
    assert (cv.line, cv.text, cv.kind) == (1, "1.0", "command_line")


def test_a_negative_number_is_a_flag_value_and_a_lone_dash_word_is_not_a_flag(tmp_path):
    run = read(text_log.read, tmp_path / "train.log",
               "python train.py --bias-init -3.0 --amp --lr 1e-3\nloss - acc --- not flags\n" + METRIC_LINES)
    assert {k: cv.value for k, cv in run.config.items()} == {"bias_init": -3.0, "amp": True, "lr": 0.001}


def test_command_file_beside_the_log(tmp_path):
    (tmp_path / "command.txt").write_text("python -u train_resnet.py --depth 20 --batch-size 64 --gpus=0,1\n")
    (tmp_path / "run.sh").write_text("#!/bin/bash\nCUDA_VISIBLE_DEVICES=0 torchrun --nproc_per_node 4 train.py \\\n"
                                     "    --lr 0.1 \\\n    --optimizer sgd\n")
    (tmp_path / "train.log").write_text(METRIC_LINES)
    run = load_run([tmp_path])
    cfg = {k: cv.value for k, cv in run.config.items()}
    assert cfg["depth"] == 20 and cfg["batch_size"] == 64 and cfg["gpus"] == "0,1"
    assert cfg["nproc_per_node"] == 4 and cfg["optimizer"] == "sgd"
    assert {s.format for s in run.sources} >= {"command_line"}
    assert run.config["optimizer"].line == 2  # the logical line's first physical line


def test_lightning_and_hf_precision_announcements(tmp_path):
    from traindoc.evidence.precision import training_precision

    for line, value, half in (("Using 16bit Automatic Mixed Precision (AMP)", "16-mixed", True),
                              ("Using 16bit native Automatic Mixed Precision (AMP)", "16-mixed", True),
                              ("Using native 16bit precision.", "16-mixed", True),
                              ("Using bfloat16 Automatic Mixed Precision (AMP)", "bf16-mixed", False)):
        p = tmp_path / "train.log"
        p.write_text("GPU available: True (cuda), used: True\n" + line + "\n" + METRIC_LINES)
        run = load_run([p])
        assert run.meta.get("precision") == value, line
        assert training_precision(run).half is half
    run = read(hf_trainer.read_console, tmp_path / "hf.log",
               "[transformers] Using cuda_amp half precision backend\n"
               "{'loss': '1.791', 'grad_norm': '0.1369', 'learning_rate': '0.0002154', 'epoch': '0.0625'}\n")
    assert run.meta.get("precision") == "16-mixed"


@pytest.mark.parametrize(("line", "value", "half"), [
    ("Mixed precision type: fp16", "16-mixed", True),  # accelerate's print(accelerator.state)
    ("Mixed precision type: bf16", "bf16-mixed", False),
    ("Mixed precision type: no", "32", False),
    ("INFO:tensorflow:Mixed precision compatibility check (mixed_float16): OK", "16-mixed", True),
    ("WARNING:tensorflow:Mixed precision compatibility check (mixed_bfloat16): WARNING", "bf16-mixed", False),
    ("Selected optimization level O1:  Insert automatic casts around Pytorch functions and Tensor methods.",
     "16-mixed", True),
    ("Selected optimization level O3:  Pure FP16 training.", "16-true", True),
    ("Selected optimization level O0:  Pure FP32 training.", "32", False),
    ("[INFO] [config.py:1000:print]   fp16_enabled ................. True", "16-mixed", True),
    ("[INFO] [config.py:1000:print]   bfloat16_enabled ............. True", "bf16-mixed", False),
    ("fp16=True,", "16-mixed", True),  # a TrainingArguments repr, one field a line
    ("fp16                          :True", "16-mixed", True),  # an argument table
])
def test_precision_stated_by_other_trainers(tmp_path, line, value, half):
    """Fires: each trainer's own start-up statement of its precision is read as the run's precision."""
    from traindoc.evidence.precision import training_precision

    p = tmp_path / "train.log"
    p.write_text(line + "\n" + METRIC_LINES)
    run = load_run([p])
    assert run.meta.get("precision") == value, line
    assert training_precision(run).half is half


@pytest.mark.parametrize("line", ["fp16=False,", "bf16                          :False",
                                  "[INFO] [config.py:1000:print]   fp16_enabled ................. False",
                                  "Mixed precision type: fp8", "step 3 fp16_loss=0.5 loss=0.4"])
def test_precision_not_stated_by_flags_that_are_off(tmp_path, line):
    """Silent: a dump field that is off, a format the classifier does not know, a metric named fp16."""
    p = tmp_path / "train.log"
    p.write_text(line + "\n" + METRIC_LINES)
    assert load_run([p]).meta.get("precision") is None, line


def test_loss_spellings_of_plain_prints(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"Loss error: {1 / s:.6f}\n" for s in range(1, 11)))
    assert len(load_run([p]).series("loss")) == 10
    p.write_text("".join(f"Training Phase: Epoch: [ {e}][ 0/ 3]      Iteration Loss: {1 / (e + 1):.3f}\n"
                         for e in range(8)))
    assert len(load_run([p]).series("loss")) == 8


def test_separator_lines_and_prose_dashes_are_not_command_lines(tmp_path):
    run = read(text_log.read, tmp_path / "train.log",
               "-------- epoch 1 --------\nloss went up -- see below -- nothing to do\n" + METRIC_LINES)
    assert not run.config and len(run.series("loss")) == 20
