"""Loss components printed as bare "name value" pairs under one "loss:" / "Losses:" label, and a loop counter printed
as a bare "N: " line prefix (the YOLO v2/v3 PyTorch ports; corpus: tests/corpus/realworld/g7-pytorch-yolov3-*).
Each rule has a case where it fires and one where it must leave the text or the reading as it was."""

from __future__ import annotations

import math
from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.text_log import bare_prefix_counts
from traindoc.ingest.readers.textlog_formats import State, loss_group, parse_generic

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_a_labelled_group_of_bare_components_reads_as_named_loss_terms() -> None:
    line = ("[Epoch 0/30, Batch 0/14658] [Losses: x 0.155323, y 0.153960, w 1.839854, h 1.919111, conf 2.058636, "
            "cls 2.145512, total 8.272396, recall: 0.00000]")
    rec = parse_generic(line, State())
    assert rec is not None and rec.step == 0
    assert rec.metrics["x_loss"] == 0.155323 and rec.metrics["cls_loss"] == 2.145512
    assert rec.metrics["total_loss"] == 8.272396 and rec.metrics["recall"] == 0.0


def test_lines_without_a_group_are_left_as_they_were() -> None:
    for line in ("loss: 0.5, acc: 0.9",  # a plain key: value loss
                 "loss: x 3.1",  # a single pair is no group
                 "epoch 3 loss 0.52 lr 0.001",  # name-value pairs with no label in front
                 "Losses: 0.1, 0.2, 0.3"):  # numbers with no names
        assert loss_group(line) == line


def test_marvis_style_log_reads_counter_steps_and_the_total(tmp_path: Path) -> None:
    run = load_run([REALWORLD / "g7-pytorch-yolov3-18-wh-nan-bbox-iou-bug" / "run"])
    loss, x = run.series("loss"), run.series("x_loss")
    assert loss is not None and x is not None
    assert loss.steps.tolist() == [371, 372, 373, 374] and all(math.isnan(v) for v in loss.values)
    assert all(math.isfinite(v) for v in x.values)
    assert not any("@rank" in name for name in run.metrics)  # the counter is no rank


def test_bare_prefixes_that_rise_are_a_counter_and_interleaved_ones_are_ranks() -> None:
    counter = [f"{i}: nGT 4, recall 2, loss: x 1.0, y 1.0, total 2.0" for i in (10, 11, 11, 12)]
    assert bare_prefix_counts(counter)
    srun = [f"{r}: step 5 loss 2.0" for r in (0, 1, 2, 3, 0, 1, 2, 3)]  # srun -l: the ranks' lines interleave
    assert not bare_prefix_counts(srun)
    assert not bare_prefix_counts(["0: loss 2.0", "0: loss 1.9", "1: loss 2.1"])  # two values: still ranks


def test_an_srun_tagged_log_keeps_its_ranks(tmp_path: Path) -> None:
    lines = [f"{r}: step {s} loss {2.0 - 0.1 * s + 0.01 * r}" for s in range(1, 5) for r in range(3)]
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    run = load_run([tmp_path])
    assert run.series("loss") is not None and run.series("loss").steps.tolist() == [1, 2, 3, 4]
    assert any("@rank" in name for name in run.metrics)


def test_a_total_named_with_the_split_word_inside_is_the_held_out_loss() -> None:
    from traindoc.ingest.names import canonical_metric

    assert canonical_metric("total_val_loss") == "eval_loss"  # YunYang1994's tensorflow-yolov3 and its TF2 ports
    assert canonical_metric("giou_val_loss") == "giou_val_loss"  # a held-out part, not the total
    assert canonical_metric("total_loss") == "loss"
