"""Four recommender / graph-recommender training logs of the BARS benchmark, each a format no reader knew (issue 8,
session 31, read blind): FuxiCTR's log (_fuxictr_log.py), LightGCN/NGCF's TensorFlow epoch lines (_ngcf_epoch.py),
ENMF's console (_enmf_console.py) and LR-GCCF's prints (_lr_gccf_print.py). Each reads its real excerpt and claims
no line of the others (nor of a neighbouring family)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points, read_text
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._enmf_console import parse_enmf
from traindoc.ingest.readers._fuxictr_log import parse_fuxictr
from traindoc.ingest.readers._lr_gccf_print import parse_lr_gccf
from traindoc.ingest.readers._ngcf_epoch import parse_ngcf_epoch
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

FUXICTR = """\
2022-02-10 19:31:21,867 P1904 INFO Start training: 50 batches/epoch
2022-02-10 19:31:21,867 P1904 INFO ************ Epoch=1 start ************
2022-02-10 19:31:33,917 P1904 INFO [Metrics] AUC: 0.937016 - logloss: 0.677712
2022-02-10 19:31:33,925 P1904 INFO Save best model: monitor(max): 0.937016
2022-02-10 19:31:33,946 P1904 INFO --- 50/50 batches finished ---
2022-02-10 19:31:34,133 P1904 INFO Train loss: 0.376398
2022-02-10 19:31:34,133 P1904 INFO ************ Epoch=1 end ************
2022-02-10 19:31:46,461 P1904 INFO [Metrics] AUC: 0.962204 - logloss: 0.242437
2022-02-10 19:31:46,469 P1904 INFO Save best model: monitor(max): 0.962204
2022-02-10 19:31:46,496 P1904 INFO --- 50/50 batches finished ---
2022-02-10 19:31:46,695 P1904 INFO Train loss: 0.274709
2022-02-10 19:31:46,695 P1904 INFO ************ Epoch=2 end ************
2022-02-10 19:31:58,394 P1904 INFO [Metrics] AUC: 0.973816 - logloss: 0.184279
2022-02-10 19:31:58,395 P1904 INFO Save best model: monitor(max): 0.973816
2022-02-10 19:31:58,470 P1904 INFO --- 50/50 batches finished ---
2022-02-10 19:31:58,672 P1904 INFO Train loss: 0.228124
2022-02-10 19:31:58,673 P1904 INFO ************ Epoch=3 end ************
2022-02-10 19:34:19,614 P1904 INFO Training finished.
2022-02-10 19:34:19,652 P1904 INFO ****** Validation evaluation ******
2022-02-10 19:34:21,761 P1904 INFO [Metrics] AUC: 0.985168 - logloss: 0.142101
2022-02-10 19:34:22,024 P1904 INFO ******** Test evaluation ********
2022-02-10 19:34:23,393 P1904 INFO [Metrics] AUC: 0.984243 - logloss: 0.148174
"""

LIGHTGCN = """\
without pretraining.
Epoch 1 [35.9s]: train==[0.46090=0.46074 + 0.00016]
Epoch 2 [24.6s]: train==[0.23611=0.23562 + 0.00050]
Epoch 3 [24.7s]: train==[0.18034=0.17966 + 0.00068]
Epoch 4: train==[0.06328=0.06139 + 0.00189 + 0.00000], recall=[0.11045, 0.19172], hitrate=[0.80280, 0.91185], \
precision=[0.11218, 0.08071], ndcg=[0.15618, 0.17806]
Epoch 4 [1434.2s + 764.0s]: test==[0.12572=0.12381 + 0.00191 + 0.00000], recall=[0.12334, 0.19212], \
hitrate=[0.47334, 0.60620], precision=[0.03868, 0.02434], ndcg=[0.10745, 0.12854]
Epoch 5 [24.7s]: train==[0.06163=0.05970 + 0.00193]
Best Iter=[47]@[132063.9]	recall=[0.18202	0.28217], hitrate=[0.59237	0.72945]
"""

ENMF = """\
2020-11-05 14:24:50.588335 begin to construct the graph

2020-11-05 14:24:55.457867 run epoch 1:  time=17.97s
2020-11-05 14:25:13.430076 loss=0.0705, loss_no_reg=0.0705, loss_reg=0.0000

2020-11-05 14:25:13.430126 evaluate at epoch 1
2020-11-05 14:26:00.009660 hitrate@20=0.0540, recall@20=0.0081, ndcg@20=0.0064
2020-11-05 14:26:00.009767 hitrate@50=0.0923, recall@50=0.0151, ndcg@50=0.0086

2020-11-05 14:26:00.009847 run epoch 2:  time=16.25s
2020-11-05 14:26:16.257048 loss=-678.5478, loss_no_reg=-678.5478, loss_reg=0.0000

2020-11-05 14:26:16.257116 run epoch 3:  time=14.50s
2020-11-05 14:26:30.756757 loss=-1970.0730, loss_no_reg=-1970.0730, loss_reg=0.0000
"""

LR_GCCF_TRAIN = """\
epoch:0 time:22.2	 train loss:0.6933=0.6931+ val loss:0.6928 test loss:0.6928
epoch:1 time:21.7	 train loss:0.6919=0.6916+ val loss:0.6847 test loss:0.6856
epoch:2 time:22.4	 train loss:0.6777=0.6763+ val loss:0.6427 test loss:0.6475
"""

LR_GCCF_TEST = """\
--------test processing-------
0.0010034 0.0407954 0.0012253 0.0133548 0.0009533 0.0092796 0.0010888 0.0062299 0.0010677 0.017415
epoch:130time:119.25     test hit:0.1517 ndcg:0.1257 recall:0.1481
0.0010075 0.0408407 0.0012295 0.0133566 0.0009584 0.0092764 0.001093 0.0062265 0.0010721 0.0174251
epoch:131time:115.75     test hit:0.1518 ndcg:0.1258 recall:0.1482
"""


def test_fuxictr_epochs_and_validation_without_the_reevaluations(tmp_path):
    run = read_text(tmp_path, FUXICTR)
    assert points(run, "loss") == [(1, 0.3764), (2, 0.2747), (3, 0.2281)]
    assert points(run, "val_auc") == [(1, 0.937), (2, 0.9622), (3, 0.9738)]  # not the two post-training scores
    assert points(run, "eval_loss") == [(1, 0.6777), (2, 0.2424), (3, 0.1843)]
    assert not any(name.startswith("INFO") for name in run.metrics)


def test_fuxictr_newer_train_loss_line_and_topk_metric_names():
    st = State()
    assert parse_fuxictr("P1 INFO [Metrics] Recall(k=20): 0.048168 - NDCG(k=20): 0.043027", st) is None  # no epoch
    assert parse_fuxictr("P1 INFO ************ Epoch=2 start ************", st) is None
    rec = parse_fuxictr("P1 INFO Train loss @epoch 2: 0.385577", st)
    assert rec is not None and rec.step == 2 and rec.metrics == {"loss": 0.385577}
    rec = parse_fuxictr("P1 INFO [Metrics] Recall(k=20): 0.048168 - NDCG(k=20): 0.043027", st)
    assert rec is not None and rec.eval and rec.metrics == {"val_recall@20": 0.048168, "val_ndcg@20": 0.043027}


def test_lightgcn_epoch_losses_and_test_evaluation(tmp_path):
    run = read_text(tmp_path, LIGHTGCN)
    # epoch 4's loss comes from the training-split evaluation line; its recall there is not held-out
    assert points(run, "loss") == [(1, 0.4609), (2, 0.2361), (3, 0.1803), (4, 0.0633), (5, 0.0616)]
    assert points(run, "mf_loss")[0] == (1, 0.4607)
    assert points(run, "test_recall") == [(4, 0.1233)]
    assert points(run, "test_loss") == [(4, 0.1257)]


def test_ngcf_original_evaluation_line_keeps_the_training_loss():
    st = State()
    rec = parse_ngcf_epoch("Epoch 19 [48.3s + 12.1s]: train==[0.12000=0.10000 + 0.02000 + 0.00000], "
                           "recall=[0.15, 0.25], precision=[0.05, 0.03], hit=[0.5, 0.6], ndcg=[0.12, 0.15]", st)
    assert rec is not None and rec.metrics["loss"] == 0.12 and rec.metrics["test_recall"] == 0.15
    assert not rec.eval


def test_enmf_loss_per_epoch_and_test_topk(tmp_path):
    run = read_text(tmp_path, ENMF)
    assert points(run, "loss") == [(1, 0.0705), (2, -678.5478), (3, -1970.073)]
    assert points(run, "test_recall@20") == [(1, 0.0081)]
    assert points(run, "test_ndcg@50") == [(1, 0.0086)]


def test_lr_gccf_train_and_test_prints(tmp_path):
    run = read_text(tmp_path, LR_GCCF_TRAIN)
    assert points(run, "loss") == [(0, 0.6933), (1, 0.6919), (2, 0.6777)]
    assert points(run, "bpr_loss")[-1] == (2, 0.6763)
    assert points(run, "eval_loss")[-1] == (2, 0.6427)
    assert "time" not in run.metrics
    test = read_text(tmp_path, LR_GCCF_TEST, name="test.log")
    assert points(test, "test_recall") == [(130, 0.1481), (131, 0.1482)]


@pytest.mark.parametrize("entry", ["bars-fuxictr-deepfm-frappe-15ep", "bars-lightgcn-tf-gowalla-1000ep",
                                   "bars-enmf-tf-gowalla-whole-data-loss", "bars-lr-gccf-gowalla-350ep"])
def test_corpus_entries_read(entry):
    run = load_run([REALWORLD / entry / "run"])
    loss = run.series("loss")
    assert loss is not None and len(loss) >= 15
    assert any(name.startswith(("eval_", "val_", "test_")) and name != "eval_loss" for name in run.metrics)


OTHER_LINES = [
    "Epoch 4 (train)0.9s: train loss = 0.22621 = (mf)0.22512 + (embed)0.00109",  # MS Recommenders' LightGCN
    "INFO epoch 0 training [time: 0.27s, train loss: 27.7231]",  # RecBole
    "Epoch: 1 [0/60000 (0%)]\tLoss: 2.30",
    "hitrate@20=0.0540, recall@20=0.0081, ndcg@20=0.0064",
    "[Metrics] AUC: 0.937016 - logloss: 0.677712",
    "Train loss: 0.376398",
    "epoch:130time:119.25     test hit:0.1517 ndcg:0.1257",
    "loss=0.0705, loss_no_reg=0.0705",
]


@pytest.mark.parametrize("parse", [parse_fuxictr, parse_ngcf_epoch, parse_enmf, parse_lr_gccf])
def test_no_reader_claims_unrelated_or_unanchored_lines(parse):
    st = State()
    for line in OTHER_LINES:
        assert parse(line, st) is None, line
