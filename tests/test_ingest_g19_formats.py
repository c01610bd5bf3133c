"""Formats met in the real-world corpus's g19 additions (2026-12-06), read as the metrics they are: wav2letter++'s
per-epoch `001_log` line (readers/_wav2letter_log.py), Mozilla DeepSpeech's consoles (readers/_deepspeech_console.py)
and jwyang/faster-rcnn.pytorch's three-line report (readers/_frcnn_pytorch_console.py). Small synthetic logs in each
format (values made up, the shapes as the programs print them); each reader has a reading case and a case it must
leave alone."""

from __future__ import annotations

from textlog_support import load_text as _log
from textlog_support import points as _points
from traindoc.ingest.readers._deepspeech_console import parse_deepspeech_console
from traindoc.ingest.readers._frcnn_pytorch_console import parse_frcnn_pytorch
from traindoc.ingest.readers._wav2letter_log import parse_wav2letter
from traindoc.ingest.readers.textlog_formats import State


def _w2l(*rows: str) -> str:
    """wav2letter log lines from their fields (the program joins them with " | ")."""
    return "".join(" | ".join(r.split(";")) + "\n" for r in rows)


_MACHINE = "runtime: 00:04:26;bch(ms): 37.37;smp(ms): 0.21"
W2L = _w2l(
    f"epoch:        1;lr: 0.100000;lrcriterion: 0.000000;{_MACHINE};loss:   12.50000;train-TER: 60.10;"
    "data/dev-clean-TER: 58.20;avg-isz: 1267;hrs:  100.47;thrpt(sec/sec): 1356.32",
    f"epoch:        2;lr: 0.100000;lrcriterion: 0.000000;{_MACHINE};loss:    6.25000;train-TER: 30.20;"
    "data/dev-clean-TER: 31.40;avg-isz: 1267;hrs:  100.47;thrpt(sec/sec): 1360.96",
    f"epoch:        3;lr: 0.100000;lrcriterion: 0.000000;{_MACHINE};loss:        inf;train-TER: 52.35;"
    "data/dev-clean-TER: 70.78;avg-isz: 1267;hrs:  100.47;thrpt(sec/sec): 1494.12",
)
W2L_NUPDATES = _w2l(
    f"epoch:        1;nupdates:         3070;lr: 0.049772;lrcriterion: 0.049772;{_MACHINE};loss:  470.10974;"
    "train-LER: 88.39;train-WER: 96.15;dev-clean-loss:  382.23168;dev-clean-LER: 83.69;dev-clean-WER: 99.14;"
    "dev-other-loss:  400.50000;dev-other-LER: 85.00;dev-other-WER: 99.50;avg-isz: 1108;avg-tsz: 132;hrs:  297.75",
    f"epoch:        2;nupdates:         6140;lr: 0.049545;lrcriterion: 0.049545;{_MACHINE};loss:  379.61321;"
    "train-LER: 82.87;train-WER: 92.69;dev-clean-loss:  295.78027;dev-clean-LER: 76.23;dev-clean-WER: 90.57;"
    "dev-other-loss:  310.00000;dev-other-LER: 78.00;dev-other-WER: 93.00;avg-isz: 1108;avg-tsz: 132;hrs:  297.75",
)


def test_wav2letter_epoch_lines_read_loss_lr_and_held_out_error_rate(tmp_path):
    run = _log(tmp_path, W2L, "001_log")
    assert _points(run, "lr") == [(1, 0.1), (2, 0.1), (3, 0.1)]
    loss = _points(run, "loss")
    assert loss[:2] == [(1, 12.5), (2, 6.25)] and loss[2][0] == 3 and loss[2][1] == float("inf")
    held = next(n for n in run.metrics if n.endswith("token_error_rate") and "val" in n)
    assert _points(run, held) == [(1, 58.2), (2, 31.4), (3, 70.78)]
    # the machine and data-size columns, and the criterion's own LR, are not model metrics
    assert not any(k in n for n in run.metrics for k in ("isz", "hrs", "thrpt", "bch", "lrcriterion", "runtime"))


def test_wav2letter_steps_by_updates_and_names_each_validation_set(tmp_path):
    run = _log(tmp_path, W2L_NUPDATES, "001_log")
    assert _points(run, "loss") == [(3070, 470.1097), (6140, 379.6132)]
    assert _points(run, "eval_loss") == [(3070, 382.2317), (6140, 295.7803)]  # the first set is the held-out loss
    other = [n for n in run.metrics if "dev_other" in n]
    assert other and all("loss" in n or "error" in n or "wer" in n for n in other)


def test_wav2letter_parser_leaves_other_epoch_lines_alone():
    st = State()
    assert parse_wav2letter("epoch: 3 | lr: 0.1 | acc: 0.5", st) is None  # no loss field: another trainer's line
    assert parse_wav2letter("epoch 3 loss 0.5", st) is None
    assert parse_wav2letter("Epoch: 3, loss: 0.5", st) is None


DEEPSPEECH_2017 = """2017-01-05 10:00:00 STARTING Epoch 0017
2017-01-05 10:00:00 Training model...
2017-01-05 13:00:00 Training loss=20.500000000 avg_cer=0.060000000 WER: 0.210000
2017-01-05 13:00:00 --------------------------------------------------------------------------------
2017-01-05 13:00:00     WER:    0.076923
2017-01-05 13:00:00     loss:   0.843824
2017-01-05 13:00:00     source: "a sentence"
2017-01-05 13:00:00     result: "a sentense"
2017-01-05 13:00:00 --------------------------------------------------------------------------------
2017-01-05 13:00:10 Validating model...
2017-01-05 13:00:40 Validation loss=150.000000000 avg_cer=0.200000000 WER: 0.500000
2017-01-05 13:00:40 STARTING Epoch 0018
2017-01-05 16:00:00 Training loss=16.000000000 avg_cer=0.050000000 WER: 0.180000
2017-01-05 16:00:40 Validation loss=160.000000000 avg_cer=0.205000000 WER: 0.505000
"""

DEEPSPEECH_2019 = """Epoch 0 |   Training | Elapsed Time: 0:21:31 | Steps: 2240 | Loss: 84.069418
Epoch 0 | Validation | Elapsed Time: 0:01:40 | Steps: 137 | Loss: 71.318580 | Dataset: data/dev.csv
Epoch 1 |   Training | Elapsed Time: 0:21:29 | Steps: 2240 | Loss: 60.500000
Epoch 1 | Validation | Elapsed Time: 0:01:41 | Steps: 137 | Loss: 65.250000 | Dataset: data/dev.csv
"""


def test_deepspeech_epoch_reports_read_without_the_per_sample_lines(tmp_path):
    run = _log(tmp_path, DEEPSPEECH_2017)
    assert _points(run, "loss") == [(17, 20.5), (18, 16.0)]  # not the sample's "loss: 0.843824"
    assert _points(run, "eval_loss") == [(17, 150.0), (18, 160.0)]
    wer = next(n for n in run.metrics if "wer" in n and n != "wer")
    assert _points(run, wer) == [(17, 0.5), (18, 0.505)]


def test_deepspeech_progress_lines_read_per_phase(tmp_path):
    run = _log(tmp_path, DEEPSPEECH_2019)
    assert _points(run, "loss") == [(0, 84.0694), (1, 60.5)]
    assert _points(run, "eval_loss") == [(0, 71.3186), (1, 65.25)]
    assert "Steps" not in run.metrics and "steps" not in run.metrics


def test_deepspeech_parser_leaves_other_lines_alone():
    st = State()
    assert parse_deepspeech_console("loss: 0.84", st) is None  # a report line counts only after DeepSpeech's own
    assert parse_deepspeech_console("Training loss: 0.5", st) is None
    assert parse_deepspeech_console("Epoch 3 | loss 0.5 | acc 0.9", st) is None


FRCNN = """[session 1][epoch  1][iter    0/ 500] loss: 2.0858, lr: 1.00e-04
			fg/bg=(10/118), time cost: 0.233441
			rpn_cls: 0.7161, rpn_box: 0.0311, rcnn_cls: 1.1516, rcnn_box 0.1871
[session 1][epoch  1][iter  100/ 500] loss: 1.5000, lr: 1.00e-04
			fg/bg=(12/116), time cost: 19.324604
			rpn_cls: 0.5000, rpn_box: 0.0400, rcnn_cls: 0.8000, rcnn_box 0.1600
[session 1][epoch  2][iter    0/ 500] loss: 1.2000, lr: 1.00e-04
			fg/bg=(20/108), time cost: 19.772832
			rpn_cls: 0.4000, rpn_box: 0.0300, rcnn_cls: 0.6000, rcnn_box 0.1700
"""


def test_frcnn_pytorch_report_reads_loss_terms_on_a_global_step(tmp_path):
    run = _log(tmp_path, FRCNN)
    assert _points(run, "loss") == [(0, 2.0858), (100, 1.5), (500, 1.2)]  # epoch 2 continues, it does not restart
    assert _points(run, "loss_rpn_box") == [(0, 0.0311), (100, 0.04), (500, 0.03)]
    assert _points(run, "loss_rcnn_box") == [(0, 0.1871), (100, 0.16), (500, 0.17)]  # printed without a colon
    assert _points(run, "rois_bg") == [(0, 118.0), (100, 116.0), (500, 108.0)]


def test_frcnn_pytorch_parser_leaves_other_lines_alone():
    st = State()
    assert parse_frcnn_pytorch("rpn_cls: 0.7161, rpn_box: 0.0311", st) is None  # no report header seen yet
    assert parse_frcnn_pytorch("[epoch 1][iter 100/500] loss: 0.5", st) is None
    assert parse_frcnn_pytorch("fg/bg=(7/121), time cost: 1.0", st) is None


def test_wav2letter_parser_leaves_a_users_pipe_print_to_the_generic_rules(tmp_path):
    assert parse_wav2letter("epoch: 3 | loss: 0.5 | val_loss: 0.6 | acc: 0.8", State()) is None
    run = _log(tmp_path, "epoch: 1 | loss: 0.9 | val_loss: 1.0\nepoch: 2 | loss: 0.7 | val_loss: 0.9\n"
                         "epoch: 3 | loss: 0.5 | val_loss: 0.8\n")
    assert _points(run, "eval_loss") == [(1, 1.0), (2, 0.9), (3, 0.8)]
