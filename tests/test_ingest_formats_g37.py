"""Two misreads of the blind g37 logs, fixed as formats (textlog_formats.py). A console table whose header comes
again with its epoch counter back at 0 continues the run (parse_table): fastai's `fine_tune` prints its frozen epochs
and then its unfrozen epochs as two tables, each from epoch 0, and fit calls made one after another on one Learner
print one table each. Read as a restart, the second table's rows overwrote the first's (the fastbook ch. 5 run). YOLO's
header repeated above every row keeps counting up and is read as before. And the generic reader's "every N" (a timing
note: "[28.90s every  120 data]") is an interval, not a metric named "every" (_GEN_NOT_METRIC)."""

from __future__ import annotations

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_table

_HEADER = "epoch train_loss valid_loss error_rate time"


def _rows(lines: list[str]) -> list[tuple[int, dict[str, float]]]:
    st = State()
    out = []
    for line in lines:
        rec = parse_table(line, st)
        if rec is not None:
            out.append((rec.step, rec.metrics))
    return out


def test_fine_tune_second_table_follows_the_first():
    rows = _rows([_HEADER, "0 2.778816 5.150732 0.504060 00:20",
                  _HEADER, "0 4.354680 3.003533 0.834235 00:24", "1 3.100000 2.500000 0.700000 00:24"])
    assert [s for s, _ in rows] == [1, 2, 3]  # epochs completed over both tables
    assert rows[0][1]["train_loss"] == 2.778816 and rows[1][1]["train_loss"] == 4.35468


def test_repeated_header_with_rising_epochs_and_a_single_table_are_unchanged():
    yolo = ["epoch box_loss cls_loss mAP50", "1/100 0.05 0.02 0.10", "epoch box_loss cls_loss mAP50",
            "2/100 0.04 0.02 0.20"]
    assert [s for s, _ in _rows(yolo)] == [1, 2]  # counts up: not shifted
    one = [_HEADER, "0 2.0 1.9 0.5 00:01", "1 1.5 1.4 0.4 00:01", "2 1.2 1.3 0.3 00:01"]
    assert [s for s, _ in _rows(one)] == [1, 2, 3]


def test_a_different_header_still_starts_its_own_numbering():
    rows = _rows([_HEADER, "0 2.0 1.9 0.5 00:01", "1 1.5 1.4 0.4 00:01",
                  "epoch train_loss valid_loss accuracy time", "0 1.0 1.1 0.6 00:01"])
    assert [s for s, _ in rows] == [1, 2, 1]  # another table (other metrics): its own clock, as before


def test_every_names_an_interval_not_a_metric(tmp_path):
    # JindongJiang/WeightedLoss_Convolutional_Pose_Machines_PyTorch#2: "[28.90s every  120 data]" is a timing note
    log = tmp_path / "train.log"
    log.write_text("Step:    60 Train Epoch:   1 [ 240/11000 (2.2%)]    Loss: 0.5 [28.90s every  120 data]\n"
                   "Step:   120 Train Epoch:   1 [ 480/11000 (4.4%)]    Loss: 0.4 [28.10s every  120 data]\n")
    run = load_run([tmp_path])
    assert "loss" in run.metrics and len(run.metrics["loss"]) == 2
    assert not any("every" in name for name in run.metrics)
