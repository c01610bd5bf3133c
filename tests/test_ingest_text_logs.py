"""Text-log reader: every console family on a handmade fixture (tests/data/text_logs/README.md), plus the noise
handling (ANSI, \\r frames, rank prefixes, timestamps) and the catalogue of warning lines."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest import catalogue
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log
from traindoc.ingest.readers.textlog_formats import normalise, parse_number

DATA = Path(__file__).parent / "data" / "text_logs"


def load(name: str) -> tuple[Run, object]:
    run = Run()
    path = DATA / name
    src = text_log.read(path, run)
    run.finalize()
    return run, src


def values(run: Run, name: str) -> dict[int, float]:
    s = run.series(name)
    assert s is not None, f"missing series {name}: have {sorted(run.metrics)}"
    return dict(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def events(run: Run, tag: str):
    return [e for e in run.events if e.tag == tag]


@pytest.mark.parametrize(
    "name, family",
    [
        ("nanogpt_diverged.log", "nanogpt"),
        ("megatron_fp16.log", "megatron"),
        ("deepspeed_overflow.log", "deepspeed"),
        ("fairseq_train.log", "fairseq"),
        ("keras2_fit.log", "keras"),
        ("keras3_progbar.log", "keras"),
        ("detectron2_nan.log", "detectron2"),
        ("mmengine_train.log", "mmcv"),
        ("mmcv_epoch.log", "mmcv"),
        ("timm_train.log", "timm"),
        ("torchtitan_rank0.log", "torchtitan"),
        ("litgpt_pretrain.log", "litgpt"),
        ("generic_prints.log", "generic"),
        ("lightning_bar.log", "lightning_bar"),
        ("pytorch_mnist.log", "pytorch_examples"),
        ("fastai_table.log", "table"),
        ("yolo_table.log", "yolo_console"),  # the YOLO console reader (training rows as the table reader)
        ("tutorial_loop.log", "generic"),
        ("torchtune_bar.log", "lightning_bar"),
        ("ranks_generic.log", "generic"),
        ("absl_jax.log", "generic"),
        ("lightning_rich.log", "rich_bar"),
    ],
)
def test_family_is_detected_and_sniffed(name, family):
    path = DATA / name
    assert text_log.sniff(path, path.read_bytes()[:65536]) >= 0.5
    _, src = load(name)
    assert src.format == f"text_log:{family}"
    assert src.records > 0


def test_nanogpt_loss_nan_and_var_warning_step():
    run, _ = load("nanogpt_diverged.log")
    loss = values(run, "loss")
    assert loss[0] == pytest.approx(3.906)
    assert all(math.isnan(loss[s]) for s in range(140, 200, 10))
    assert math.isfinite(loss[130])
    assert values(run, "eval_loss")[100] == pytest.approx(3.415, abs=1e-3)
    assert "train_loss_at_eval" in run.metrics
    mfu = values(run, "mfu")
    assert 0 not in mfu and 10 not in mfu  # -100.00% sentinel dropped
    (ev,) = events(run, "var_dof")
    assert ev.step == 50 and ev.kind == "warning"  # printed between iter 50 and iter 60: belongs to 50
    assert "Triggered internally" not in ev.message
    assert ev.line == 11
    assert not [e for e in run.events if "halt_var = p.var" in e.message]  # the source line under the warning


def test_megatron_fields_nan_window_and_validation():
    run, _ = load("megatron_fp16.log")
    loss = values(run, "loss")
    assert 80 not in loss and loss[10] == pytest.approx(5.429, abs=1e-3)  # NaN window prints no lm loss
    assert math.isnan(values(run, "grad_norm")[80])
    assert values(run, "loss_scale")[10] == 8388608.0
    assert values(run, "lr")[100] == pytest.approx(1.42e-5)
    assert values(run, "eval_loss") == {50: pytest.approx(3.712)}
    assert values(run, "number of skipped iterations")[10] == 3
    (ev,) = events(run, "megatron_nan")
    assert ev.step == 80 and ev.kind == "error"


def test_deepspeed_bar_glued_step_lines_and_loss_scale():
    run, _ = load("deepspeed_overflow.log")
    assert values(run, "skipped")[600] == 5
    assert values(run, "lr")[800] == 0.001
    assert values(run, "loss_scale") == {100: 32768, 200: 16384, 300: 8192, 400: 4096, 500: 2048}
    overflow = events(run, "grad_overflow")
    assert [e.step for e in overflow] == [100, 200, 300, 400, 500]


def test_fairseq_simple_json_and_legacy():
    run, _ = load("fairseq_train.log")
    loss = values(run, "loss")
    assert loss[100] == pytest.approx(8.5) and loss[600] == pytest.approx(6.206)  # json line with string values
    assert values(run, "grad_norm")[300] == pytest.approx(1.8)
    assert values(run, "eval_loss") == {500: pytest.approx(6.911), 700: pytest.approx(6.5)}
    assert events(run, "grad_overflow")[0].step == 300
    assert (600, 2) in run.epoch_starts


def test_keras_per_epoch_and_progbar_frames():
    run, _ = load("keras2_fit.log")
    assert values(run, "loss") == {1: pytest.approx(0.78), 2: pytest.approx(0.39), 3: pytest.approx(0.26)}
    assert values(run, "eval_loss")[3] == pytest.approx(0.24)
    run, _ = load("keras3_progbar.log")
    assert values(run, "loss")[1] == pytest.approx(2.3 - 469 / 400, abs=1e-4)  # the last \r frame wins
    assert values(run, "eval_loss")[1] == pytest.approx(5.1156e-04)
    assert math.isnan(values(run, "eval_loss")[2])


def test_detectron2_traceback_is_one_event():
    run, _ = load("detectron2_nan.log")
    assert values(run, "loss")[19] == pytest.approx(1.805)
    assert values(run, "lr")[99] == pytest.approx(0.00693)
    assert [e.tag for e in run.events] == ["nan_loss"]
    assert run.events[0].step == 119


def test_mmengine_epoch_steps_and_val():
    run, _ = load("mmengine_train.log")
    assert values(run, "loss") == {10: pytest.approx(1.6388), 20: pytest.approx(1.5388), 25: pytest.approx(1.4888),
                                   35: pytest.approx(1.5)}
    assert "val_accuracy/top1" in run.metrics or "eval_accuracy/top1" in run.metrics
    assert events(run, "scheduler_before_optimizer")[0].step == 35
    run, _ = load("mmcv_epoch.log")
    assert values(run, "grad_norm")[100] == 2.5
    assert "eta" not in run.metrics  # "eta: 1:00:00" is a duration, not a number


def test_timm_global_steps_and_eval():
    run, _ = load("timm_train.log")
    loss = values(run, "loss")
    assert loss[0] == pytest.approx(6.9) and loss[391] == pytest.approx(5.9)
    assert values(run, "eval_loss") == {390: pytest.approx(5.45), 781: pytest.approx(4.45)}
    assert values(run, "lr")[391] == pytest.approx(2e-3)


def test_torchtitan_ansi_rank_prefix_and_rank_folding():
    run, _ = load("torchtitan_rank0.log")
    assert values(run, "loss")[3] == pytest.approx(6.5)
    assert values(run, "tokens_per_s")[1] == 7282  # thousands separator
    (ev,) = events(run, "scheduler_before_optimizer")
    assert ev.count == 2 and ev.step == 5


def test_litgpt_and_generic():
    run, _ = load("litgpt_pretrain.log")
    assert values(run, "loss") == {1: pytest.approx(2.9), 2: pytest.approx(2.8), 3: pytest.approx(2.7), 4: 2.5}
    assert values(run, "eval_loss") == {3: pytest.approx(2.104)}
    run, src = load("generic_prints.log")
    loss = values(run, "loss")
    assert loss[5] == pytest.approx(0.2) and loss[200] == pytest.approx(2.1)
    assert math.isinf(values(run, "grad_norm")[300])
    (oom,) = events(run, "oom")
    assert oom.step == 300 and oom.kind == "error"
    assert "Saving" not in " ".join(run.metrics)


def test_lightning_bar_every_frame_counts():
    run, _ = load("lightning_bar.log")
    loss = values(run, "loss")
    assert loss[0] == 3.0 and loss[100] == pytest.approx(2.0) and loss[200] == pytest.approx(1.0)
    assert (100, 1) in run.epoch_starts


def test_pytorch_examples_and_tables():
    run, _ = load("pytorch_mnist.log")
    assert values(run, "loss")[61280] == pytest.approx(1.022)  # epoch 2: steps count samples across epochs
    assert values(run, "eval_accuracy") == {1280: pytest.approx(0.94), 61280: pytest.approx(0.98)}
    run, _ = load("fastai_table.log")
    # fastai numbers epochs from 0: read as epochs completed, 1..n (the clock of its CSVLogger and of consoles)
    assert values(run, "eval_loss") == {1: pytest.approx(0.31), 2: pytest.approx(0.22), 3: pytest.approx(0.25)}
    assert "time" not in run.metrics
    run, _ = load("yolo_table.log")
    assert values(run, "box_loss")[3] == pytest.approx(0.08)  # "2/99", the third epoch


def test_tutorial_loop_torchtune_ranks_and_absl():
    run, _ = load("tutorial_loop.log")
    assert values(run, "loss")[400] == pytest.approx(0.4)  # "Epoch [2/5], Step [100/300]" -> step 300 + 100
    assert not events(run, "restart")
    run, _ = load("torchtune_bar.log")
    assert values(run, "loss")[20] == pytest.approx(1.0)  # description "2|20|Loss: 1.0000"
    run, _ = load("ranks_generic.log")
    assert values(run, "loss")[200] == pytest.approx(1.8)
    assert values(run, "loss@rank1")[200] == pytest.approx(6.8)  # the rank that disagrees stays visible
    run, _ = load("absl_jax.log")
    assert values(run, "lr")[100] == 0.001
    assert events(run, "tbx_nan")[0].step == 200


def test_normalise_strips_noise():
    line = normalise("\x1b[32m[rank3]:[titan] 2026-05-18 16:04:46,338 - root - WARNING - hello\x1b[0m")
    assert (line.text, line.rank, line.level) == ("hello", 3, "WARNING")
    line = normalise("[2023-04-28 06:51:29,903] [INFO] [loss_scaler.py:188:update_scale] [Rank 2] step=1")
    assert line.text == "step=1" and line.rank == 2
    line = normalise(" 12%|██  | 100/800 [0:01:00<0:10:00,  3.33s/it][2024-01-01 00:00:00,000] [INFO] x=1")
    assert line.after_bar is not None and "x=1" in line.after_bar
    assert normalise("0: iter 5: loss 1.0").text == "iter 5: loss 1.0"


@pytest.mark.parametrize("text, want", [("1.818812E+00", 1.818812), ("7,282", 7282), ("nan", math.nan),
                                        ("-inf", -math.inf), ("Infinity", math.inf), ("12%", 12.0), ("N/A", None)])
def test_parse_number(text, want):
    got = parse_number(text)
    if want is None:
        assert got is None
    elif isinstance(want, float) and math.isnan(want):
        assert got is not None and math.isnan(got)
    else:
        assert got == pytest.approx(want)


def test_frames_split_on_cr_and_cut_long_lines():
    data = b"a\rb\r\nc\n" + b"x" * (text_log.MAX_FRAME * 3) + b"\nlast\n"
    frames = list(text_log.iter_frames(io.BytesIO(data), block_size=1000))
    assert [(n, f) for n, f in frames[:3]] == [(1, b"a"), (1, b"b"), (2, b"c")]
    assert len(frames[3][1]) == text_log.MAX_FRAME and frames[3][0] == 3
    assert frames[4] == (4, b"last")


def test_restart_is_an_event(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("iter 0: loss 2.0\niter 10: loss 1.5\niter 20: loss 1.2\niter 10: loss 1.4\niter 20: loss 1.1\n")
    run = Run()
    text_log.read(p, run)
    run.finalize()
    assert [e.step for e in events(run, "restart")] == [10]
    assert values(run, "loss")[20] == pytest.approx(1.1)  # the resumed value wins


def test_long_log_streams_with_bounded_events(tmp_path):
    p = tmp_path / "big.log"
    with open(p, "w") as f:
        for i in range(20000):
            f.write(f"iter {i}: loss {1.0 + (i % 7) / 10:.4f}, time 10.00ms, mfu 1.00%\n")
            if i % 1000 == 0:
                f.write("UserWarning: something odd\n")
    run = Run()
    src = text_log.read(p, run)
    run.finalize()
    assert len(run.series("loss")) == 20000 and src.records == 20000
    assert isinstance(run.series("loss").steps, np.ndarray)
    (warning,) = [e for e in run.events if e.kind == "warning"]  # a repeated warning is one event with a count
    assert (warning.step, warning.count) == (0, 20)


# --- catalogue: one positive and one silent line per tag family ------------------------------------------------------

CATALOGUE_CASES = [
    ("UserWarning: var(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor",
     "var_dof"),
    ("Gradient overflow.  Skipping step, loss scaler 0 reducing loss scale to 32768.0", "grad_overflow"),
    ("[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768", "grad_overflow"),
    ("Current loss scale already at minimum - cannot decrease scale anymore. Exiting run.", "loss_scale_min"),
    ("FloatingPointError: Minimum loss scale reached (0.0001). Your loss is probably exploding.", "loss_scale_min"),
    ("Loss is nan, stopping training", "nan_loss"),
    ("Loss is inf, stopping training", "inf_loss"),
    ("Batch 12: Invalid loss, terminating training", "nan_loss"),
    ("RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output.", "anomaly_nan"),
    ("RuntimeError: The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be "
     "clipped.", "clip_nonfinite"),
    ("UserWarning: Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and later, you "
     "should call them in the opposite order.  Failure to do this will result", "scheduler_before_optimizer"),
    ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 22.00 MiB.", "oom"),
    ("RuntimeError: CUDA out of memory. Tried to allocate 2.26 GiB (GPU 0; 6.00 GiB total capacity)", "oom"),
    ("[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE)", "nccl_timeout"),
    ("RuntimeError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1191, unhandled system error",
     "nccl_error"),
    ("UserWarning: None of the inputs have requires_grad=True. Gradients will be None", "no_grad_inputs"),
    ("UserWarning: Using a target size (torch.Size([8])) that is different to the input size (torch.Size([8, 1]))",
     "target_size_mismatch"),
    ("Monitored metric val_loss = nan is not finite. Previous best value was 0.500. Signaling Trainer to stop.",
     "nan_loss"),
    ("NOTE: gradient overflow detected, ignoring gradient, setting loss scale to: 64.0", "grad_overflow"),
    ("Killed", "killed"),
    ("### Label: complaint This instance will be ignored in loss calculation. Note, if this happens often, consider "
     "increasing the `max_seq_length`.", "labels_all_masked"),
    ("RuntimeError: The size of tensor a (15968) must match the size of tensor b (52736) at non-singleton dimension 0",
     "shape_mismatch"),
    ("Switching curriculum stage: basic -> advanced", "stage_change"),
    # detectron2's anomaly dump alone (the FloatingPointError line above it cut off), tensor and plain-float forms
    ("loss_dict = {'loss_cls': tensor(nan, device='cuda:0', grad_fn=<DivBackward0>), 'loss_box_reg': "
     "tensor(1310.0702, device='cuda:0', grad_fn=<DivBackward0>)}", "nan_loss"),
    ("loss_dict = {'loss_cls_ce': nan, 'loss_box_reg': nan, 'loss_ins_con': 0.0, 'loss_cls_up': nan}", "nan_loss"),
]


@pytest.mark.parametrize("line, tag", CATALOGUE_CASES)
def test_catalogue_tags(line, tag):
    got = catalogue.classify(line)
    assert got is not None and got[1] == tag
    assert catalogue.entry(tag) is not None


@pytest.mark.parametrize("line", ["iter 100: loss 4.2312, time 152.33ms, mfu 31.02%", "step 5 | val error 0.1",
                                  "Saving checkpoint to out/", "number of parameters: 10.65M",
                                  "Killed 3 zombie workers and restarted them", "loss scale: 65536.0",
                                  # a finite loss dict (printed by many trainers every step) is no guard firing
                                  "loss_dict = {'loss_cls': tensor(0.9525, device='cuda:1'), 'loss_box_reg': "
                                  "tensor(0.0218, device='cuda:1')}",
                                  "loss_dict = {'loss_cls': 0.41, 'loss_nanodet': 0.2}"])
def test_catalogue_silent_on_ordinary_lines(line):
    assert catalogue.classify(line) is None


def test_catalogue_generic_warnings_and_errors():
    assert catalogue.classify("ValueError: bad shape") == ("error", None, None)
    assert catalogue.classify("/x.py:3: DeprecationWarning: old api") == ("warning", None, None)
    assert catalogue.classify("WARNING: something") == ("warning", None, None)


def test_tags_are_unique_and_causes_are_known():
    from traindoc.causes import IDS

    assert len(set(catalogue.TAGS)) == len(catalogue.TAGS)
    for e in catalogue.CATALOGUE:
        assert e.cause is None or e.cause in IDS, e.tag


def test_logging_prefixes_pending_steps_and_tensor_reprs(tmp_path):
    p = tmp_path / "out.log"
    p.write_text(
        "2024-01-01 12:00:00,123 - INFO - Step 100: loss=2.3\n"
        "12/28/2024 10:00:00 - INFO - __main__ - step 200 loss 2.2\n"
        "2024-01-01 12:00:00.123 | INFO     | __main__:train:42 - step 300 loss 2.1\n"
        "[INFO|trainer.py:2128] 2024-04-02 15:18:49,118 >> step 400 loss 2.0\n"
        "INFO: step 500 loss 1.9\n"
        "step: 600\n"
        "loss: 1.8\n"
        "epoch 1 step 700 loss=tensor(1.7000, device='cuda:0', grad_fn=<NllLossBackward0>)\n"
        "eta: 1:00:00, loss: 1.6\n"
        "wandb: train/loss 9.9\n"
    )
    run = Run()
    text_log.read(p, run)
    run.finalize()
    assert values(run, "loss") == {100: 2.3, 200: 2.2, 300: 2.1, 400: 2.0, 500: 1.9, 600: 1.8, 700: 1.6}


def test_tags_for_cause():
    assert {"nan_loss", "inf_loss", "anomaly_nan", "clip_nonfinite"} <= catalogue.tags_for_cause("nan_inf")
    assert "grad_overflow" in catalogue.tags_for_cause("fp16_overflow")
    assert catalogue.tags_for_cause("no_such_cause") == frozenset()


def test_param_summaries(tmp_path):
    p = tmp_path / "fit.log"
    p.write_text("  | Name  | Type   | Params\n---\n0 | model | GPT    | 1.2 M\n---\n0         Trainable params\n"
                 "1.2 M     Non-trainable params\n1.2 M     Total params\n"
                 "Epoch 0: 100%|██████████| 10/10 [00:01<00:00,  9.50it/s, v_num=0, train_loss_step=3.000]\n")
    run = Run()
    text_log.read(p, run)
    assert run.meta["param_summary"]["trainable"] == 0 and run.meta["param_summary"]["total"] == 1_200_000
    assert [e.tag for e in run.events] == ["no_trainable_params"]
    q = tmp_path / "peft.log"
    q.write_text("trainable params: 294,912 || all params: 124,734,720 || trainable%: 0.2364\nstep 1 loss 2.0\n")
    run = Run()
    text_log.read(q, run)
    assert run.meta["param_summary"] == {"trainable": 294912, "total": 124734720, "adapter": True, "source": str(q)}
    assert not run.events


def test_repeated_warning_folds_into_first_step(tmp_path):
    p = tmp_path / "act.log"
    lines = []
    for i in range(0, 50, 10):
        lines.append(f"iter {i}: loss 2.0, time 1.00ms, mfu 1.00%")
        lines.append("model.py:88: UserWarning: var(): degrees of freedom is <= 0. Correction should be strictly less")
        lines.append("  halt_var = halt.var(dim=-1)")
    lines.append("iter 50: loss nan, time 1.00ms, mfu 1.00%")
    lines.append("Loss is nan, stopping training")
    p.write_text("\n".join(lines) + "\n")
    run = Run()
    text_log.read(p, run)
    (var,) = events(run, "var_dof")
    assert (var.step, var.count, var.line) == (0, 5, 2)
    assert events(run, "nan_loss")[0].step == 50


def test_source_code_preamble_is_not_metrics(tmp_path):
    """modded-nanogpt logs open with the training script's source; metrics come thousands of lines later."""
    p = tmp_path / "3f2a.txt"
    code = ["import torch", "class Hyperparameters:", "    lr: float = 0.0036", "    warmup_iters: int = 0",
            "def train(model):", "    loss = model(x)", "    if loss > 2.0:", "        lr = lr * 0.5 # decay"]
    lines = code * 400 + ["=" * 100]
    lines += [f"step:{s}/100 train_loss:{4 - s / 50:.4f} train_time:{s * 50}ms step_avg:50.00ms" for s in range(1, 101)]
    lines += ["step:100/100 val_loss:3.2773 train_time:5000ms step_avg:50.00ms"]
    p.write_text("\n".join(lines) + "\n")
    run = Run()
    src = text_log.read(p, run)
    run.finalize()
    assert src.format == "text_log:modded_nanogpt"
    assert sorted(run.metrics) == ["eval_loss", "loss", "step_avg", "train_time"]
    assert values(run, "eval_loss") == {100: pytest.approx(3.2773)}
    assert len(run.series("loss")) == 100
    assert text_log.sniff(p, p.read_bytes()[:65536]) >= 0.2  # the loader's threshold: it gets read at all
    readme = tmp_path / "README.txt"
    readme.write_text("This folder holds the run.\n")
    assert text_log.sniff(readme, readme.read_bytes()) < 0.2


def test_log_without_steps_uses_line_order(tmp_path):
    p = tmp_path / "plain.log"
    p.write_text("loss: 2.0, acc: 0.1\nloss: 1.5, acc: 0.3\nUserWarning: odd\nloss: 1.2, acc: 0.5\n")
    run = Run()
    src = text_log.read(p, run)
    run.finalize()
    assert values(run, "loss") == {1: 2.0, 2: 1.5, 3: 1.2}
    assert run.events[0].step == 2
    assert any("line order" in w for w in src.warnings)


def test_lightning_rich_bar_wrapped_metrics():
    run, _ = load("lightning_rich.log")
    assert values(run, "loss") == {300: pytest.approx(2.104)}
    assert math.isnan(values(run, "eval_loss")[300])
    assert values(run, "train_loss_epoch") == {300: pytest.approx(2.215)}
    assert run.meta["param_summary"]["total"] == 86300


def test_a_metric_named_like_an_exception_is_a_metric_and_an_exception_is_not(tmp_path):
    from traindoc.ingest.loader import load_run

    p = tmp_path / "train.log"
    p.write_text("".join(f"[2019/06/24 16:19:46 __main__ INFO] - Epoch 1 Step {s}/1500 Loss {2 - s / 1000:.4f} "
                         f"(2.0) AngleError {27 - s / 100:.2f} (27.60)\n" for s in range(0, 1000, 100))
                 + "ValueError: 3 is not a valid shape\n")
    run = load_run([p])
    assert len(run.series("loss")) == 10 and len(run.series("AngleError")) == 10
    assert run.series("ValueError") is None


def test_a_progress_percentage_is_not_the_step(tmp_path):
    from traindoc.ingest.loader import load_run

    p = tmp_path / "train.log"
    p.write_text("".join(f"> Epoch [{e:03d}/210] | Loss {0.003 + e / 1000:.4f} | LR 0.00100000 | Step: 100%|#####| "
                         f"1827/1827 [03:38<00:00,  8.38it/s]\n" for e in range(4)))
    run = load_run([p])
    assert run.series("loss").steps.tolist() == [0, 1, 2, 3] and run.meta["planned_epochs"] == 210


def test_a_scripts_own_eval_prints_between_tqdm_refreshes_are_read(tmp_path: Path) -> None:
    # a plain loop: a tqdm bar rewritten with "\r" (postfix loss/lr), cleared, then the script prints its evaluation
    # line; a bar the terminal cut short is still a bar (its "train: 12%" is no metric)
    bar = "train: {p:3d}%|##   | {n}/60 [00:00<00:00, 90.00it/s, loss={loss:.4f}, lr=1.00e-02]"
    data = ""
    for k, n in enumerate((15, 30, 45, 60)):
        for j in (n - 10, n - 5, n):
            data += "\r" + bar.format(p=100 * j // 60, n=j, loss=2.0 - j / 60)
        data += "\r" + " " * 40 + f"\reval @ {n}: val_loss={1.9 - 0.1 * k:.4f} val_acc={0.4 + 0.1 * k:.4f}\n"
    data += "\rtrain:  12%| | 7/60 [00:00<00:03, 85.88it/s, loss=1.5"
    path = tmp_path / "train.log"
    path.write_text(data)
    run = Run()
    text_log.read(path, run)
    run.finalize()
    assert values(run, "eval_loss") == {15: pytest.approx(1.9), 30: pytest.approx(1.8), 45: pytest.approx(1.7),
                                        60: pytest.approx(1.6)}
    assert values(run, "eval_accuracy")[60] == pytest.approx(0.7)
    assert len(values(run, "loss")) == 12 and run.series("train") is None


def test_basicsr_message_logger_steps_lr_and_loss_names():
    run, src = load("basicsr_train.log")
    assert src.format == "text_log:basicsr"
    assert values(run, "loss_g_pix") == {20100: 3.1516e-4, 20200: 3.8449e-4, 20300: 3.6667e-4, 20400: 3.3959e-4}
    assert values(run, "lr") == {20100: 1e-4, 20200: 1e-4, 20300: 1e-4, 20400: 1e-4}  # "20,100": thousands separator
    assert values(run, "out_d_real")[20400] == 113.26  # a discriminator output keeps its printed name
    from traindoc.evidence.context import loss_series
    assert loss_series(run) is None  # l_g_* and l_d_* are the two players of a GAN: no total to lower


def test_mmsr_logger_psnr_line_is_validation():
    run, src = load("mmsr_train.log")
    assert src.format == "text_log:basicsr"
    assert values(run, "loss_g_pix") == {107200: 1.4819e-3, 107400: 1.5971e-3, 107600: 1.9925e-3}
    assert values(run, "lr") == {107200: 2.5e-5, 107400: 2.5e-5, 107600: 2.5e-5}
    assert values(run, "val_psnr") == {107000: 13.831}  # the psnr line carries no lr: a validation record
    from traindoc.evidence.context import loss_series
    assert loss_series(run) is None  # the generator/discriminator pair again
