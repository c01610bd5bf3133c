"""Darknet's per-layer "Region N Avg IOU: ..., count: n" lines (textlog_formats.parse_darknet), first met alone in a
real-world faulty log (issue 8, session 28: tests/corpus/realworld/g32-darknet-824-commas-in-labels-count-zero), read
blind by the generic rules as a metric "Region" (the YOLO layer's index) and called healthy 0.95. They are the layer's
matches on the batch: its ground-truth count and no-object score, its means only where count > 0, never a loss."""

from __future__ import annotations

from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_darknet

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_layer_counts_not_a_region_metric():
    run = load_run([REALWORLD / "g32-darknet-824-commas-in-labels-count-zero" / "run"])
    names = set(run.metrics)
    assert "Region" not in names and "loss" not in names
    assert {"region82_count", "region94_count", "region106_count"} <= names
    assert list(run.series("region94_count").values) == [0.0]
    assert list(run.series("region94_no_obj").values) == [0.49234]
    assert "region82_avg_iou" not in names  # NaN only because count is 0 (0/0): not read


def test_means_read_where_count_positive_and_v2_line_without_layer():
    rec = parse_darknet("Region 16 Avg IOU: 0.391107, Class: 0.504761, Obj: 0.568887, No Obj: 0.499483, "
                        ".5R: 0.253968, .75R: 0.047619,  count: 63", State())
    assert rec is not None and rec.metrics["region16_count"] == 63.0 and rec.metrics["region16_recall50"] == 0.253968
    v2 = parse_darknet("Region Avg IOU: 0.612, Class: 0.981, Obj: 0.402, No Obj: 0.006, Avg Recall: 0.75,  count: 8",
                       State())
    assert v2 is not None and v2.metrics["region_recall"] == 0.75 and v2.metrics["region_avg_iou"] == 0.612


def test_region_lines_take_the_next_iteration_as_step_and_loss_is_unchanged(tmp_path):
    lines = []
    for i in range(1, 6):
        lines.append(f"Region 82 Avg IOU: 0.5{i}, Class: 0.9, Obj: 0.4, No Obj: 0.01, .5R: 0.6, .75R: 0.2,  count: 4")
        lines.append(f"{i}: {3.0 - 0.1 * i:.6f}, {3.1 - 0.1 * i:.6f} avg, 0.001000 rate, 1.9 seconds, {64 * i} images")
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert [int(s) for s in run.series("loss").steps] == [1, 2, 3, 4, 5]
    assert [int(s) for s in run.series("region82_avg_iou").steps][1:] == [2, 3, 4, 5]


def test_other_lines_are_not_darknet():
    st = State()
    for line in ("Region: us-east-1", "Region 3 of 7 done", "Avg IOU: 0.5, count: 3",
                 "iter 10: loss 2.31, lr 0.001"):
        assert parse_darknet(line, st) is None
