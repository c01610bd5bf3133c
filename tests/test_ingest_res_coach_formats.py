"""Two formats met in blind healthy real-world logs of unseen stacks (issue 8, session 30, g9), each read by its own
module: PyTorch-Kaldi's per-epoch `res.res` summary (_pytorch_kaldi_res.py) and FreeRec's `[Coach] >>> TRAIN @Epoch`
lines (_freerec_coach.py). Synthetic logs in each layout, the guards against other families' lines, and the corpus
entries read as their formats."""

from __future__ import annotations

from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._freerec_coach import parse_freerec_coach
from traindoc.ingest.readers._pytorch_kaldi_res import parse_pytorch_kaldi_res
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _steps(run, name):
    s = run.series(name)
    assert s is not None, f"{name} not read: {sorted(run.metrics)}"
    return [int(x) for x in s.steps], [float(v) for v in s.values]


# --- PyTorch-Kaldi res.res ------------------------------------------------------------------------------------------

def _res_line(ep: int, loss: float, err: float, vloss: float, verr: float, extra: str = "") -> str:
    return (f"ep={ep:03d} tr=['TIMIT_tr'] loss={loss:.3f} err={err:.3f} valid=TIMIT_dev loss={vloss:.3f} "
            f"err={verr:.3f}{extra} lr_architecture1=0.080000 time(s)=86")


def test_pytorch_kaldi_res_splits_training_and_validation_pairs(tmp_path):
    lines = [_res_line(e, 3.0 - 0.2 * e, 0.7 - 0.02 * e, 2.2 - 0.05 * e, 0.6 - 0.01 * e) for e in range(12)]
    lines.insert(6, ".........")
    lines.append("%WER 18.1 | 192 7215 | 84.0 11.9 4.2 2.1 18.1 99.5 | -0.583 | exp/decode/score_6/ctm.filt.sys")
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n", "res.res")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(12)) and values[0] == 3.0
    # the training error is not overwritten by the validation set's (the generic rules kept the last `err`)
    assert _steps(run, "error")[1][0] == 0.7
    assert _steps(run, "eval_error")[1][0] == 0.6
    assert _steps(run, "eval_loss")[1][0] == 2.2
    assert _steps(run, "lr")[1][0] == 0.08
    assert _steps(run, "test_wer") == ([11], [18.1])
    assert not {"err", "TIMIT_dev loss", "lr/architecture1"} & set(run.metrics)


def test_pytorch_kaldi_res_second_validation_set_and_architecture(tmp_path):
    extra = " valid=TIMIT_test loss=2.500 err=0.650"
    line = _res_line(0, 3.0, 0.7, 2.2, 0.6, extra).replace(" time(s)", " lr_architecture2=0.040000 time(s)")
    rec = parse_pytorch_kaldi_res(line, State())
    assert rec is not None and rec.metrics["eval_timit_test_loss"] == 2.5 and rec.metrics["lr_architecture2"] == 0.04


def test_pytorch_kaldi_res_guards():
    st = State()
    assert parse_pytorch_kaldi_res(_res_line(1, 2.0, 0.5, 1.9, 0.5), st).step == 1
    # not the whole record, or another family's key=value line
    assert parse_pytorch_kaldi_res("ep=002 tr=['TIMIT_tr'] loss=1.9 err=0.5", st) is None
    assert parse_pytorch_kaldi_res("epoch=2 loss=1.9 err=0.5 time(s)=3", st) is None
    assert parse_pytorch_kaldi_res("| epoch 002 | loss 4.1 | ppl 17.2 | wps 1200", st) is None
    # the epoch must rise: a second run appended to the file is not read
    assert parse_pytorch_kaldi_res(_res_line(1, 1.5, 0.4, 1.8, 0.45), st) is None
    # a Kaldi %WER line belongs to the family only after its epoch lines
    assert parse_pytorch_kaldi_res("%WER 18.1 | 192 7215 | 84.0 11.9 4.2 2.1 18.1 99.5 | -0.583 | x", State()) is None


# --- FreeRec Coach lines --------------------------------------------------------------------------------------------

def _coach_log(epochs: int = 12) -> str:
    out = ["2024-01-23 21:48:10,068:\t[PARSER] >>>", "[lr: 0.001] ", "[epochs: 12] ", "[eval_freq: 5] ", "",
           "2024-01-23 21:48:21,970:\t[Coach] >>> TRAIN @Epoch: 0    >>> ",
           "2024-01-23 21:48:21,971:\t[Coach] >>> VALID @Epoch: 0    >>>  || HITRATE@10 Avg: 0.0008"
           " || NDCG@10 Avg: 0.0003",
           "2024-01-23 21:48:21,971:\t[Coach] >>> TEST  @Epoch: 0    >>> "]
    for e in range(1, epochs + 1):
        out.append("2024-01-23 21:49:13,042:\t[Wall TIME] >>> ChiefCoach.train takes 51.070575 seconds ...")
        out.append(f"2024-01-23 21:49:13,060:\t[Coach] >>> TRAIN @Epoch: {e:<4} >>>  || LOSS Avg: {7 - 0.1 * e:.5f}")
        valid = f" || HITRATE@10 Avg: {0.2 + e / 100:.4f} || NDCG@10 Avg: {0.1 + e / 100:.4f}" if e % 5 == 0 else ""
        out.append(f"2024-01-23 21:49:13,060:\t[Coach] >>> VALID @Epoch: {e:<4} >>> {valid}")
        out.append(f"2024-01-23 21:49:13,061:\t[Coach] >>> TEST  @Epoch: {e:<4} >>> ")
    out += ["2024-01-24 00:37:00,311:\t   Prefix      Metric      Best  @Epoch",
            "0   train        LOSS  5.800000      12",
            "1   valid  HITRATE@10  0.300000      10",
            "2   valid     NDCG@10  0.200000      10",
            "2024-01-24 00:37:00,385:\t[Coach] >>> Load best model @Epoch 10  ",
            "2024-01-24 00:37:05,385:\t[Coach] >>> TRAIN @Epoch: 10   >>> ",
            "2024-01-24 00:37:05,385:\t[Coach] >>> VALID @Epoch: 10   >>>  || HITRATE@10 Avg: 0.3 || NDCG@10 Avg: 0.2",
            "2024-01-24 00:37:05,385:\t[Coach] >>> TEST  @Epoch: 10   >>>  || HITRATE@10 Avg: 0.29"
            " || NDCG@10 Avg: 0.19"]
    return "\n".join(out) + "\n"


def test_freerec_coach_reads_train_valid_and_ends_at_the_best_epoch_reload(tmp_path):
    run = load_run([write_run_dir(tmp_path, _coach_log(), "log.txt")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(1, 13)) and values[0] == 6.9 and len(values) == 12  # no table row, no reload
    assert _steps(run, "eval_ndcg@10") == ([0, 5, 10], [0.0003, 0.15, 0.2])
    assert _steps(run, "eval_hitrate@10")[0] == [0, 5, 10]
    # the reload's TEST line (epoch 10 after 12) is not read; the parser block's arguments are configuration
    assert not any(n.startswith("test_") for n in run.metrics)
    assert not {"LOSS Avg", "lr", "epochs", "eval_freq"} & set(run.metrics)


def test_freerec_coach_guards():
    st = State()
    assert parse_freerec_coach("[Coach] >>> TRAIN @Epoch: 1    >>>  || LOSS Avg: 6.8", st).metrics == {"loss": 6.8}
    assert parse_freerec_coach("[Coach] >>> VALID @Epoch: 1    >>>  || NDCG@10 Avg: 0.1", st).metrics == {
        "eval_ndcg@10": 0.1}
    # anything but `|| NAME Avg: x` meters after the arrow is not this print
    assert parse_freerec_coach("[Coach] >>> TRAIN @Epoch: 2    >>>  loss: 6.1", st) is None
    # other families' lines
    st2 = State()
    assert parse_freerec_coach("Epoch 2/10 - loss: 0.41 - val_loss: 0.44", st2) is None
    assert parse_freerec_coach("[Epoch 2] Train loss = 5.1 || Valid loss = 4.6", st2) is None
    assert parse_freerec_coach("0   train   LOSS  5.18  191", st2) is None  # a table row only after its header
    assert parse_freerec_coach("[lr: 0.001]", st2) is None  # an argument line only after `[PARSER] >>>`


# --- the corpus entries ---------------------------------------------------------------------------------------------

def test_corpus_pytorch_kaldi_res_reads_as_its_format():
    run = load_run([REALWORLD / "g9-pytorch-kaldi-readme-timit-mlp-res" / "run"])
    assert _steps(run, "loss")[0] == [0, 1, 2, 3, 4, 5, 20, 21, 22, 23]
    assert _steps(run, "error")[1][0] == 0.721 and _steps(run, "eval_error")[1][0] == 0.591
    assert _steps(run, "eval_loss")[1][-1] == 1.651
    assert _steps(run, "lr")[1][-1] == 0.000625


def test_corpus_freerec_reads_as_its_format():
    run = load_run([REALWORLD / "g9-freerec-gru4rec-ml1m-ce-log" / "run"])
    steps, values = _steps(run, "loss")
    assert steps == list(range(1, 201)) and values[0] == 6.82939 and values[-1] == 5.18204
    ndcg_steps, ndcg = _steps(run, "eval_ndcg@10")
    assert ndcg_steps == list(range(0, 201, 5)) and ndcg[0] == 0.0003 and max(ndcg) == 0.196
    assert not {"LOSS Avg", "lr"} & set(run.metrics)
