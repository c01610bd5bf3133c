"""Pointnet_Pointnet2_pytorch training logs (ingest/readers/_pointnet2_pytorch_log.py): the epoch's figures at the
banner's `(i/N)` step, the test figures held out, the running bests and per-category lines not read; the TensorFlow
PointNet's `**** EPOCH 000 ****` log (no `(i/N)` banner) left to the generic rules."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._pointnet2_pytorch_log import parse_pointnet2_pytorch
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

# the first epoch of tests/corpus/realworld/g6s34-pointnet2-pytorch-modelnet40-cls-ssg-75ep/run/pointnet2_cls_ssg.txt
# (one save note shortened)
CLS = """\
2021-04-15 05:30:26,801 - Model - INFO - No existing model, starting training from scratch...
2021-04-15 05:30:26,803 - Model - INFO - Start training...
2021-04-15 05:30:26,803 - Model - INFO - Epoch 1 (1/200):
2021-04-15 05:32:14,000 - Model - INFO - Train Instance Accuracy: 0.531707
2021-04-15 05:32:36,125 - Model - INFO - Test Instance Accuracy: 0.625324, Class Accuracy: 0.561743
2021-04-15 05:32:36,125 - Model - INFO - Best Instance Accuracy: 0.625324, Class Accuracy: 0.561743
2021-04-15 05:32:36,125 - Model - INFO - Save model...
2021-04-15 05:32:36,125 - Model - INFO - Saving at log/classification/pointnet2_ssg_wo_normals/best_model.pth
2021-04-15 05:32:36,340 - Model - INFO - Epoch 2 (2/200):
"""

# the first epoch of the project's semantic-segmentation log (log/sem_seg/pointnet2_sem_seg/logs/pointnet2_sem_seg.txt
# of yanx27/Pointnet_Pointnet2_pytorch, three of its thirteen class lines, their trailing space dropped), then the
# resumed run's first banner
SEMSEG = """\
2021-03-21 01:22:39,266 - Model - INFO - **** Epoch 1 (1/128) ****
2021-03-21 01:22:39,267 - Model - INFO - Learning rate:0.001000
2021-03-21 02:50:07,309 - Model - INFO - Training mean loss: 0.817511
2021-03-21 02:50:07,309 - Model - INFO - Training accuracy: 0.766915
2021-03-21 02:50:07,310 - Model - INFO - Save model...
2021-03-21 02:50:07,356 - Model - INFO - Saving model....
2021-03-21 02:50:07,992 - Model - INFO - ---- EPOCH 001 EVALUATION ----
2021-03-21 03:44:13,933 - Model - INFO - eval mean loss: 0.767204
2021-03-21 03:44:13,933 - Model - INFO - eval point avg class IoU: 0.445318
2021-03-21 03:44:13,934 - Model - INFO - eval point accuracy: 0.780018
2021-03-21 03:44:13,934 - Model - INFO - eval point avg class acc: 0.558046
2021-03-21 03:44:13,934 - Model - INFO - ------- IoU --------
class ceiling        weight: 0.091, IoU: 0.885
class floor          weight: 0.200, IoU: 0.963
class wall           weight: 0.166, IoU: 0.684

2021-03-21 03:44:13,934 - Model - INFO - Eval mean loss: 0.767204
2021-03-21 03:44:13,934 - Model - INFO - Eval accuracy: 0.780018
2021-03-21 03:44:13,986 - Model - INFO - Best mIoU: 0.445318
2021-03-21 15:23:18,542 - Model - INFO - **** Epoch 1 (4/128) ****
2021-03-21 15:23:18,542 - Model - INFO - Learning rate:0.001000
2021-03-21 16:03:43,563 - Model - INFO - Training mean loss: 0.374252
"""


def test_classification_log_reads_each_epoch_once():
    run = load_run([REALWORLD / "g6s34-pointnet2-pytorch-modelnet40-cls-ssg-75ep" / "run"])
    assert set(run.metrics) == {"accuracy", "eval_accuracy", "eval_class_accuracy"}  # no "Best ..." running max
    acc, test = points(run, "accuracy", 6), points(run, "eval_accuracy", 6)
    assert [s for s, _ in acc] == list(range(1, 76)) and [s for s, _ in test] == list(range(1, 76))
    assert acc[0] == (1, 0.531707) and test[0] == (1, 0.625324) and test[-1] == (75, 0.91157)


def test_part_segmentation_log_reads_the_test_line_and_not_the_categories():
    run = load_run([REALWORLD / "g6s34-pointnet2-pytorch-shapenet-partseg-msg-109ep" / "run"])
    assert set(run.metrics) == {"accuracy", "lr", "eval_accuracy", "eval_class_avg_miou", "eval_instance_avg_miou"}
    assert points(run, "eval_instance_avg_miou", 6)[0] == (1, 0.766723)
    assert [s for s, _ in points(run, "accuracy")] == list(range(1, 110))


def test_excerpts(tmp_path):
    (tmp_path / "cls").mkdir()
    (tmp_path / "seg").mkdir()
    run = load_run([write_run_dir(tmp_path / "cls", CLS)])
    assert points(run, "accuracy", 6) == [(1, 0.531707)]
    assert points(run, "eval_class_accuracy", 6) == [(1, 0.561743)]
    run = load_run([write_run_dir(tmp_path / "seg", SEMSEG)])
    assert points(run, "loss", 6) == [(1, 0.817511), (4, 0.374252)]  # the resumed run at its banner's (i/N)
    assert points(run, "eval_loss", 6) == [(1, 0.767204)]  # the repeated "Eval mean loss" is no second point
    assert points(run, "eval_miou", 6) == [(1, 0.445318)]
    assert not any("IoU" in k or "weight" in k or "Best" in k for k in run.metrics)


def test_guards_and_other_prints():
    st = State()
    assert parse_pointnet2_pytorch("eval mean loss: 0.5", st) is None  # no banner yet: some other log's line
    assert parse_pointnet2_pytorch("Learning rate:0.001000", st) is None
    for line in ("**** EPOCH 000 ****", "Epoch 1/200", "Epoch 1 (1/200)", "Epoch: [1](1/200)"):
        assert parse_pointnet2_pytorch(line, State()) is None, line
    st = State()
    assert parse_pointnet2_pytorch("Epoch 3 (3/200):", st).claimed
    assert parse_pointnet2_pytorch("Train Instance Accuracy: 0.8", st).metrics == {"accuracy": 0.8}
    assert parse_pointnet2_pytorch("Best Instance Accuracy: 0.9, Class Accuracy: 0.8", st).claimed
    assert parse_pointnet2_pytorch("mean loss: 0.5", st) is None  # not this family's line


def test_tensorflow_pointnet_log_stays_with_the_generic_rules():
    # charlesq34/pointnet's train.py (a fork's log): `**** EPOCH 000 ****` banners, no `(i/N)`, not this family
    run = load_run([REALWORLD / "g6s34-pointnet-tf-3d-mnist-running-sum-loss-57ep" / "run"])
    assert "eval_loss" in run.metrics and "loss" in run.metrics
    assert run.sources[0].format != "text_log:pointnet2_pytorch"
