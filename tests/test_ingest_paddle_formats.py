"""What PaddlePaddle writes, read as the metrics it is: the `paddle.Model.fit` console (ProgBarLogger at verbose=2
and as the verbose=1 bar), the dygraph tutorials' `epoch: e, batch_id: b, loss is: x` and `[validation]
accuracy/loss: a/l` prints, and a loop's `step k/N - ...` lines after an evaluation line printed its own step
(textlog_formats.py: parse_paddle_hapi, parse_paddle_tutorial, parse_generic). The "fires" cases read real Paddle
runs of the held-out corpus (their reading, not their diagnosis); the silent cases call the parsers directly."""

from __future__ import annotations

import re
from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_generic, parse_paddle_hapi, parse_paddle_tutorial

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def _run(name: str):
    return load_run([REALLIB / name / "run"])


def _points(run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def test_fit_console_verbose2_reads_training_steps_across_epochs_and_one_evaluation_per_epoch():
    run = _run("paddle-healthy-s1")  # transformer, 16 batches per epoch, log_freq 10, 10 epochs
    loss = _points(run, "loss")
    assert loss[:2] == [(10, 2.5298), (16, 2.0321)]  # "step 10/16 - loss: 2.5298", "step 16/16 - loss: 2.0321"
    assert [s for s, _ in loss] == sorted({s for s, _ in loss}) and loss[-1][0] == 160  # (epoch - 1) * 16 + k
    ev = _points(run, "eval_loss")
    assert len(ev) == 10 and ev[0] == (16, 2.048)  # the "Eval begin..." block's line, at the epoch's last step


def test_fit_console_verbose1_bar_reads_the_same_lines():
    run = _run("paddle-healthy-s3")  # CNN, "\r"/"\b" progress bar, accuracy metric
    assert _points(run, "loss")[:2] == [(10, 1.7858), (16, 1.5518)]
    assert _points(run, "accuracy")[0] == (10, 0.275)
    assert _points(run, "eval_accuracy")[0] == (16, 0.5195)
    assert len(_points(run, "eval_loss")) == 10


def test_tutorial_prints_read_loss_lr_and_the_validation_pair():
    run = _run("paddle-healthy-s2")
    text = (REALLIB / "paddle-healthy-s2" / "run" / "train.log").read_text()
    loss = _points(run, "loss")
    assert len(loss) == text.count("loss is:") and loss[0] == (0, 2.1702)
    assert [s for s, _ in loss] == sorted({s for s, _ in loss})  # batch ids restart; the step keeps rising
    assert _points(run, "lr")[0] == (0, 0.0362)
    acc, ev = _points(run, "eval_accuracy"), _points(run, "eval_loss")
    assert len(acc) == len(ev) == text.count("[validation]")
    assert acc[0] == (4, 0.2578) and ev[0] == (4, 1.944)  # "[validation] accuracy/loss: 0.2578/1.9440"


def test_global_step_fraction_survives_an_evaluation_line_with_its_own_step():
    run = _run("paddle-healthy-s0")  # "step 15/150 - loss: ..." then "[Eval] step 15 - loss: ..." every 15 steps
    text = (REALLIB / "paddle-healthy-s0" / "run" / "train.log").read_text()
    steps = [int(s) for s in re.findall(r" - INFO - step (\d+)/150", text)]
    assert [s for s, _ in _points(run, "loss")] == steps and steps[-1] == 150
    assert len(_points(run, "eval_loss")) == text.count("[Eval]")


def test_hapi_step_lines_need_a_progbar_header():
    st = State()
    assert parse_paddle_hapi("step 10/150 - loss: 0.5873 - lr: 0.000355 - 14ms/step", st) is None
    assert parse_paddle_hapi("Eval samples: 256", st) is None
    assert parse_paddle_hapi("Predict begin...", st) is None
    assert parse_paddle_hapi("step 10/32 - 3ms/step", st) is None  # prediction: no metric
    assert parse_paddle_hapi("Epoch 2/5", st) is None
    rec = parse_paddle_hapi("step 10/32 - loss: 2.0794 - acc: 0.1125 - 2ms/step", st)
    assert rec is not None and rec.step == 42 and rec.metrics == {"loss": 2.0794, "acc": 0.1125}


def test_tutorial_parser_stays_silent_on_other_lines():
    st = State()
    assert parse_paddle_tutorial("epoch: 3, loss: 0.52", st) is None  # no batch id: another loop's line
    assert parse_paddle_tutorial("[validation] accuracy/loss: 0.93/0.21/0.5", st) is None  # names and values differ
    assert parse_paddle_tutorial("Epoch 1/10", st) is None
    rec = parse_paddle_tutorial("epoch: 0, batch_id: 200, loss is: [2.3025851], acc is: [0.09375]", st)
    assert rec is not None and rec.step == 200 and rec.metrics == {"loss": 2.3025851, "acc": 0.09375}


def test_within_epoch_fraction_after_a_global_counter_still_belongs_to_the_last_step():
    st = State()
    assert parse_generic("Training Step: 860 | total loss: 0.29368", st).step == 860
    rec = parse_generic("Adam | epoch: 001 | loss: 0.29368 - acc: 0.9151 -- iter: 55000/55000", st)
    assert rec is not None and rec.step is None
