"""The PointNetLK family's per-epoch log line `INFO:<name>, <time>, epoch, NNNN, loss, val_loss, info, val_info`
(_pointnetlk_epoch_log.py), first met in a real-world faulty log (issue 8:
tests/corpus/realworld/g2s32-pointnetlk-revisited-8-nan-fixed-by-grad-clip), unreadable blind."""

from __future__ import annotations

import math
from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._pointnetlk_epoch_log import parse_pointnetlk_epoch
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
ENTRY = REALWORLD / "g2s32-pointnetlk-revisited-8-nan-fixed-by-grad-clip"


def test_corpus_entry_reads_train_and_validation_loss_per_epoch():
    run = load_run([ENTRY / "run"])
    loss = run.series("loss")
    val = run.series("eval_loss")
    assert loss is not None and val is not None
    assert [int(s) for s in loss.steps] == list(range(89, 102)) + [198, 199, 200]
    assert loss.values[0] == 0.127450 and val.values[0] == 0.018011
    assert all(math.isnan(v) for v in list(loss.values)[-3:])  # NaN epochs are kept as evidence
    assert run.series("train_info") is None and run.series("val_info") is None  # the auxiliary columns are not read


def test_lines_without_the_logging_prefix_read_too(tmp_path):
    lines = [f"epoch, {e:04d}, {1.0 / e:f}, {1.2 / e:f}, 0.001000, 0.002000" for e in range(1, 6)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    loss = run.series("loss")
    assert loss is not None and [int(s) for s in loss.steps] == [1, 2, 3, 4, 5]


def test_other_comma_separated_lines_are_not_read():
    st = State()
    prefix = "INFO:PointNetLK, 2022-03-11 09:36:30,690, "
    assert parse_pointnetlk_epoch(prefix + "epoch, 0001, 0.5, 0.4, 0.1", st) is None  # three values, not four
    assert parse_pointnetlk_epoch(prefix + "epoch, 0001, 0.5, 0.4, 0.1, 0.2, 0.3", st) is None  # five
    assert parse_pointnetlk_epoch("step, 0001, 0.5, 0.4, 0.1, 0.2", st) is None  # another counter word
    assert parse_pointnetlk_epoch(prefix + "train, begin", st) is None
    assert parse_pointnetlk_epoch("1, 0.5, 0.4, 0.1, 0.2", st) is None  # a bare CSV row
    rec = parse_pointnetlk_epoch(prefix + "epoch, 0002, 0.5, 0.4, 0.1, 0.2", st)
    assert rec is not None and rec.step == 2 and rec.metrics == {"loss": 0.5, "val_loss": 0.4}
    again = parse_pointnetlk_epoch(prefix + "epoch, 0002, 0.7, 0.6, 0.1, 0.2", st)
    assert again is not None and again.metrics == {}  # an epoch logged twice keeps its first reading
