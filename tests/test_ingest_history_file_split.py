"""A per-epoch history whose file name says its split (readers/history_dict.py: file_split): ALIGNN's trainer writes
`history_train.json` and `history_val.json`, the same `loss` / `mae` keys in each, so only the file tells the
held-out split. The values are the first epochs of the realworld entry alignn-pr123-ocp2020-pretrained-history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.history_dict import file_split

TRAIN = {"loss": [1.242798488008342, 1.093458558720021, 1.0134414646332985, 0.951067599713243],
         "mae": [0.7805721427485227, 0.7108072916666667, 0.6873055021506778, 0.6571108821037539]}
VAL = {"loss": [1.2597084290255938, 1.1104618018643695, 1.0429591128700657, 0.9956854647635189],
       "mae": [0.7875224396261232, 0.7159629106827664, 0.6968473892309852, 0.6713935352565389]}


def write(folder: Path, name: str, data: dict[str, list[float]]) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(data))


def test_alignn_train_and_val_histories_read_as_two_splits(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write(run_dir, "history_train.json", TRAIN)
    write(run_dir, "history_val.json", VAL)
    run = load_run([run_dir])
    loss, ev, mae, val_mae = (run.series(n) for n in ("loss", "eval_loss", "mae", "val_mae"))
    assert loss is not None and ev is not None and mae is not None and val_mae is not None, sorted(run.metrics)
    assert list(loss.values) == TRAIN["loss"] and list(ev.values) == VAL["loss"]
    assert list(mae.values) == TRAIN["mae"] and list(val_mae.values) == VAL["mae"]
    assert list(ev.steps) == list(loss.steps) == [1, 2, 3, 4]


@pytest.mark.parametrize(("name", "split"), [
    ("history_val.json", "val_"), ("val-history.json", "val_"), ("history_validation.json", "val_"),
    ("history_eval.json", "val_"), ("history_train.json", None), ("history.json", None),
    ("test_history.json", None), ("history_test.json", None),  # also a quick trial run's name: training keys
    ("train_val_history.json", None),  # both splits named: the keys say which is which
    ("interval_history.json", None),  # `val` inside a word is no split
])
def test_file_split_from_the_name_words(name: str, split: str | None) -> None:
    assert file_split(Path(name)) == split


def test_keys_that_name_their_split_keep_it_in_a_val_file(tmp_path: Path) -> None:
    # a Keras history saved under a held-out-sounding name keeps its own split prefixes: val_loss stays eval_loss
    # and loss stays the training loss only where the key itself says train
    run_dir = tmp_path / "run"
    write(run_dir, "history_val.json", {"train_loss": TRAIN["loss"], "val_loss": VAL["loss"]})
    run = load_run([run_dir])
    assert run.series("loss") is not None and list(run.series("loss").values) == TRAIN["loss"]
    assert run.series("eval_loss") is not None and list(run.series("eval_loss").values) == VAL["loss"]


def test_a_plain_history_name_reads_as_before(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write(run_dir, "history.json", {"loss": TRAIN["loss"], "val_loss": VAL["loss"]})
    run = load_run([run_dir])
    assert list(run.series("loss").values) == TRAIN["loss"]
    assert list(run.series("eval_loss").values) == VAL["loss"]
