"""A block of per-class rows after the training (textlog_formats._PER_CLASS): "  Class 1: P=87.89%  R=77.91%
IoU=70.35%  Dice=82.60%" for each class, then their "  Mean: ..." row. One class's figures per row, listed over the
classes at one moment: no points of a curve over steps. First met in the real-world healthy log of a DINOv3 few-shot
segmentation script (tests/corpus/realworld/dino-augseg-acdc-100ep-restarts), whose final block was read as series
`Class`, `P`, `R`, `IoU`, `Dice` over line-order steps 1-7 (the class number a step), and its mean row overwrote epoch
7's mIoU."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, read_text

LOG = Path(__file__).parent / "corpus" / "realworld" / "dino-augseg-acdc-100ep-restarts" / "run" / "train_log.txt"
LINES = LOG.read_text().splitlines(keepends=True)


def test_real_per_class_block_is_no_series(tmp_path):
    run = read_text(tmp_path, "".join(LINES))
    assert sorted(run.metrics) == ["eval_loss", "loss", "lr", "mDice", "mIoU", "mP", "mR"]
    assert points(run, "mIoU")[6] == (7, 28.61)  # epoch 7's own value, not the block's mean 42.87
    assert len(points(run, "mIoU")) == 100


def test_rows_without_a_class_label_stay(tmp_path):
    # the epoch lines before the block (lines 5-8), then one of their own shape with a "Class Loss" term: a metric
    text = "".join(LINES[4:8]) + "Class Loss: 0.5120 | Box Loss: 0.3010\n"
    run = read_text(tmp_path, text)
    assert "mIoU" in run.metrics and len(points(run, "mIoU")) == 4
    assert "Class Loss" in run.metrics and "Box Loss" in run.metrics


def test_mean_row_without_class_rows_stays(tmp_path):
    # a "Mean:" row with no per-class rows before it is a line of its own, read as before
    text = "".join(LINES[4:8]) + LINES[112]
    run = read_text(tmp_path, text)
    assert "R" in run.metrics
