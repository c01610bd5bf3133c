"""What fastai v2 prints, read as the metrics it is: the Recorder's bare per-epoch lists under `learn.no_bar()`
(`[0, 2.09, 2.08, 0.14, '00:00']`, no header) and the console table's rows whose wide values run into the next cell
(textlog_formats.py: parse_fastai_recorder, _unglue_fastai_row). The "fires" cases read real fastai runs of the
held-out corpus (their reading, not their diagnosis); the silent cases call the parsers directly."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_fastai_recorder, parse_table

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def _points(run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    return [(int(a), float(b)) for a, b in zip(s.steps, s.values, strict=True)]


def test_recorder_lists_read_as_train_and_validation_losses_by_epoch():
    run = load_run([REALLIB / "fastai-healthy-s1" / "run"])  # 19 lines "[e, train, valid, accuracy, 'mm:ss']"
    loss, ev = _points(run, "loss"), _points(run, "eval_loss")
    assert len(loss) == len(ev) == 19
    assert loss[0] == (1, 2.0911943912506104) and ev[0] == (1, 2.087125062942505)  # epoch 0 done = step 1
    assert [s for s, _ in loss] == list(range(1, 20))
    assert _points(run, "valid_metric_1")[0] == (1, 0.140625)  # unnamed: no header says it is an accuracy


def test_recorder_list_keeps_nan_and_drops_none():
    rec = parse_fastai_recorder("[3, nan, None, 0.0, '00:01']", State())
    assert rec is not None and rec.step == 4
    assert set(rec.metrics) == {"train_loss", "valid_metric_1"}
    assert rec.metrics["train_loss"] != rec.metrics["train_loss"]  # nan is a value


def test_recorder_parser_silent_on_other_lists():
    st = State()
    assert parse_fastai_recorder("[0, 1.25, 3.5]", st) is None  # no duration cell: not the Recorder's log
    assert parse_fastai_recorder("[0, 'relu', '00:01']", st) is None
    assert parse_fastai_recorder("[0, '00:01']", st) is None  # nothing between the epoch and the time
    assert parse_fastai_recorder("losses: [0, 1.2, 0.5, '00:00']", st) is None


def test_glued_table_row_is_split_at_fastais_six_decimals():
    run = load_run([REALLIB / "fastai-grad_explosion-s1" / "run"])  # console table only, no history.csv
    loss, ev = _points(run, "loss"), _points(run, "eval_loss")
    # "0         923312339288064.000000202576805440258048.000000450085312.00000000:00"
    assert loss[0] == (1, 923312339288064.0) and ev[0] == (1, 202576805440258048.0)
    assert len(loss) == 12 and [s for s, _ in loss] == list(range(1, 13))


def test_unglue_silent_on_other_tables_and_on_rows_it_cannot_account_for():
    st = State()
    parse_table("epoch     train_loss  valid_loss  accuracy  time", st)
    assert parse_table("3         1.1234567.123456    0.5       00:00", st) is None  # 7 decimals: not fastai's cells
    rec = parse_table("3         1.123456    2.123456    0.500000  00:00", st)
    assert rec is not None and rec.metrics == {"train_loss": 1.123456, "valid_loss": 2.123456,
                                               "valid_accuracy": 0.5}
    other = State()
    parse_table("epoch  loss  acc", other)  # not fastai's header: no splitting
    assert parse_table("3  1.1234562.123456", other) is None
