"""A Darknet YOLO run given no ground-truth box (evidence/detectors/detection_labels.py): every layer's `count` at 0
over two forward passes is a data fault at 0.7; over one pass it is listed below the report threshold (a batch of
background images); a layer at 0 beside layers with boxes is routine and stays silent."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text
from traindoc.evidence.detectors.detection_labels import NO_BOX, detect_no_ground_truth_boxes


def _region(layer: int, count: int) -> str:
    if count == 0:
        return (f"Region {layer} Avg IOU: -nan, Class: -nan, Obj: -nan, No Obj: 0.501234, .5R: -nan, .75R: -nan,  "
                f"count: 0")
    return (f"Region {layer} Avg IOU: 0.412345, Class: 0.523456, Obj: 0.434567, No Obj: 0.501234, .5R: 0.333333, "
            f".75R: 0.000000,  count: {count}")


def _log(counts: list[tuple[int, int, int]]) -> str:
    lines: list[str] = []
    for i, trio in enumerate(counts, start=1):
        lines += [_region(layer, c) for layer, c in zip((82, 94, 106), trio, strict=True)]
        lines.append(f"{i}: 612.345678, 612.345678 avg, 0.000000 rate, 4.797707 seconds, {64 * i} images")
    return "\n".join(lines) + "\n"


def test_fires_when_no_layer_gets_a_box_on_any_pass(tmp_path: Path) -> None:
    [f] = detect_no_ground_truth_boxes(read_text(tmp_path, _log([(0, 0, 0)] * 3)))
    assert (f.cause, f.strength, f.step) == ("data_pipeline_bug", NO_BOX, 0)  # the first pass, before "1: ..."
    assert f.numbers == {"zero_counts": 9, "passes": 3}


def test_one_pass_is_listed_only(tmp_path: Path) -> None:
    [f] = detect_no_ground_truth_boxes(read_text(tmp_path, _log([(0, 0, 0)])))
    assert f.numbers["endpoints_only"] is True and f.numbers["passes"] == 1


def test_silent_when_some_layer_gets_a_box(tmp_path: Path) -> None:
    # the coarse layer given nothing on every pass is routine: each box goes to the scale whose anchors fit it
    assert detect_no_ground_truth_boxes(read_text(tmp_path, _log([(0, 3, 5), (0, 0, 2), (0, 1, 0)]))) == []


def test_silent_without_region_lines(tmp_path: Path) -> None:
    text = "".join(f"{i}: {5 - 0.1 * i:.6f}, {5 - 0.1 * i:.6f} avg, 0.001000 rate, 4.8 seconds, {64 * i} images\n"
                   for i in range(1, 6))
    assert detect_no_ground_truth_boxes(read_text(tmp_path, text)) == []
