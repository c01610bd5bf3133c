"""The Ultralytics YOLO training console's per-epoch validation rows (_yolo_console.py), first met in a blind healthy
log (issue 8, session 28, g31: tests/corpus/realworld/g31-yolo11n-asl-console-readme-455ep): the table reader read the
three training losses and dropped every `all` validation row (mAP, precision, recall). The "reads" cases load files;
the silent cases call the parser on other lines or load another table."""

from __future__ import annotations

from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._yolo_console import parse_yolo_console
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

_V8_HEAD = "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size"
_V8_VAL = ("                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95): 100% 5/5 "
           "[00:01<00:00,  2.51it/s]")


def _v8_console(epochs: int, final: bool = False) -> str:
    lines = []
    for e in range(1, epochs + 1):
        lines += [_V8_HEAD,
                  f"      {e}/{epochs}      2.44G      {1.5 - 0.1 * e:.3f}      {4.0 - 0.3 * e:.3f}      1.455"
                  "          9        640: 100% 63/63 [00:21<00:00,  2.98it/s]",
                  _V8_VAL,
                  f"                   all        141        141      0.5       0.4      {0.1 * e:.3f}     "
                  f"{0.05 * e:.3f}", ""]
    if final:
        lines += ["Validating runs/detect/train/weights/best.pt...", _V8_VAL,
                  "                   all        141        141      0.9       0.9      0.99     0.95"]
    return "\n".join(lines) + "\n"


def test_corpus_entry_reads_validation_map_per_epoch():
    run = load_run([REALWORLD / "g31-yolo11n-asl-console-readme-455ep" / "run"])
    m = run.series("metrics/mAP50-95(B)")
    assert [int(s) for s in m.steps[:2]] == [1, 2] and int(m.steps[-1]) == 455 and len(m) == 14
    assert m.values[0] == 0.0704 and m.values[-1] == 0.924  # the last epoch's row, not best.pt's re-validation
    assert len(run.series("cls_loss")) == 14


def test_v8_console_reads_each_epoch_and_skips_final_validation(tmp_path):
    run = load_run([write_run_dir(tmp_path, _v8_console(6, final=True))])
    m = run.series("metrics/mAP50(B)")
    assert [int(s) for s in m.steps] == [1, 2, 3, 4, 5, 6] and m.values[-1] == 0.6
    assert run.series("metrics/precision(B)").values[0] == 0.5
    assert [int(s) for s in run.series("box_loss").steps] == [1, 2, 3, 4, 5, 6]


def test_yolov5_header_and_segmentation_groups():
    st = State()
    head = "     Epoch   gpu_mem       box       obj       cls     total   targets  img_size"
    assert parse_yolo_console(head, st) is None
    rec = parse_yolo_console("       0/299     5.61G   0.07745    0.0277   0.01785     0.123         7       640", st)
    assert rec is not None and rec.epoch == 1
    assert parse_yolo_console("               Class      Images     Targets           P           R      mAP@.5  "
                              "mAP@.5:.95: 100% 71/71", st) is None
    val = parse_yolo_console("      all         281    1.55e+03        0.23       0.328       0.203      0.0525", st)
    assert val is not None and val.eval and val.step == 1
    assert val.metrics == {"metrics/precision": 0.23, "metrics/recall": 0.328, "metrics/mAP_0.5": 0.203,
                           "metrics/mAP_0.5:0.95": 0.0525}
    st = State()
    parse_yolo_console(_V8_HEAD, st)
    parse_yolo_console("      3/10      2.1G      1.0      2.0      1.2      9      640", st)
    parse_yolo_console("  Class  Images  Instances  Box(P  R  mAP50  mAP50-95)  Mask(P  R  mAP50  mAP50-95): 100%", st)
    seg = parse_yolo_console("  all  10  20  0.1  0.2  0.3  0.4  0.5  0.6  0.7  0.8", st)
    assert seg is not None and seg.metrics["metrics/mAP50-95(M)"] == 0.8 and seg.metrics["metrics/recall(B)"] == 0.2


def test_silent_without_a_yolo_training_header():
    st = State()
    assert parse_yolo_console(_V8_VAL, st) is None
    assert parse_yolo_console("      all        141        141      0.5       0.4      0.1     0.05", st) is None
    assert parse_yolo_console("epoch  train_loss  valid_loss  accuracy  time", st) is None
    assert parse_yolo_console("0      1.234567    1.111111    0.500000  00:01", st) is None


def test_fastai_table_keeps_its_reader(tmp_path):
    rows = ["epoch  train_loss  valid_loss  accuracy  time"]
    rows += [f"{e}      {1.5 - 0.1 * e:.6f}    {1.4 - 0.1 * e:.6f}    {0.5 + 0.05 * e:.6f}  00:01" for e in range(6)]
    run = load_run([write_run_dir(tmp_path, "\n".join(rows) + "\n")])
    assert [s.format for s in run.sources] == ["text_log:table"]
    assert len(run.series("eval_loss")) == 6
