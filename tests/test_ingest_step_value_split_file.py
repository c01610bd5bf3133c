"""Bare "step value" files whose name names a held-out split (`log_val.txt`): the invented `loss` becomes that split's
loss (text_log._held_out_file). Blind, a SegNet run's log_train.txt and log_val.txt both read as `loss` and the
validation loss was lost (tests/corpus/realworld/g6s33-cityscapes-segnet-road-car-37-epochs, issue 8, session 33)."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.text_log import _held_out_file

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_both_losses():
    run = load_run([REALWORLD / "g6s33-cityscapes-segnet-road-car-37-epochs" / "run"])
    assert points(run, "loss", 6)[:2] == [(0, 0.345724), (1, 0.253627)]
    assert points(run, "eval_loss", 6)[:2] == [(0, 0.320004), (1, 0.259266)]
    assert run.metrics["eval_loss"].raw_name == "val_loss"


def test_training_or_unnamed_file_keeps_loss(tmp_path):
    text = "".join(f"{e} {1.0 / (e + 1):.6f}\n" for e in range(12))
    for name in ("log_train.txt", "train.log", "log.txt", "interval.log", "log_train_val.txt"):
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        run = load_run([write_run_dir(folder, text, name)])
        assert set(run.metrics) == {"loss"}, name


def test_file_name_words():
    assert _held_out_file("run/log_val.txt") == "val"
    assert _held_out_file("run/valid.log") == "val"
    assert _held_out_file("run/test_loss.txt") == "test"
    assert _held_out_file("run/test.log") is None  # a trial run as often as the test split
    assert _held_out_file("run/interval.log") is None  # "val" inside a word is no split
    assert _held_out_file("run/val_test.txt") is None  # two splits: none
    assert _held_out_file("run/train_val.log") is None
