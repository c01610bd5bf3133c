"""DETR-family `log.txt` JSON lines: `test_coco_eval_bbox` (pycocotools' COCOeval.stats, 12 numbers) read as the
held-out mAP and mAP50 (jsonl_metrics._coco_stats). Unread before issue 8, session 34 (tests/corpus/realworld/
deimv2-anime-detector-finetune-log, g2-detr-custom-1class-finetune-logtxt): a list was never a metric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.jsonl_metrics import _coco_stats

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_ap_and_ap50_per_epoch():
    run = load_run([REALWORLD / "deimv2-anime-detector-finetune-log" / "run"])
    ap = run.series("eval_coco_eval_bbox_mAP")
    ap50 = run.series("eval_coco_eval_bbox_mAP50")
    assert ap is not None and ap50 is not None
    assert [int(s) for s in ap.steps] == list(range(16))
    assert ap.values[0] == pytest.approx(0.7164220285902826) and ap.values[-1] == pytest.approx(0.8024278049241685)
    assert ap50.values[0] == pytest.approx(0.9194886938365736)


def test_detr_log_without_other_list_metrics(tmp_path):
    rows = [{"train_loss": 5.0 - e, "test_coco_eval_bbox": [0.1 * e] + [0.5] + [-1.0] * 10,
             "test_coco_eval_masks": [-1.0] * 12, "anchors": [1, 2, 3], "epoch": e} for e in range(5)]
    d = tmp_path / "run"
    d.mkdir()
    (d / "log.txt").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load_run([d])
    assert run.series("eval_coco_eval_bbox_mAP") is not None
    assert len(run.series("eval_coco_eval_bbox_mAP").values) == 5
    assert not [k for k in run.metrics if "masks" in k or "anchors" in k]  # all -1, or not COCO stats


@pytest.mark.parametrize(("key", "value"), [
    ("test_coco_eval_bbox", [0.5] * 6),  # not the 12 COCOeval.stats
    ("anchor_sizes", [0.1] * 12),  # another list of 12
    ("test_coco_eval_bbox", [-1.0] * 12),  # no ground truth: no score
])
def test_other_lists_are_not_read(key, value):
    assert _coco_stats(key, value) == []
