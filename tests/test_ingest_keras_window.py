"""Keras progress bars printed before the first "Epoch i/N" header of an excerpt belong to the epochs just before it
(parse_keras, text_log._Parser.restep; docs/diagnose.md, "A held-out loss that climbs by small steps")."""

from __future__ import annotations

from pathlib import Path

from test_ingest_text_logs import values
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log

BAR = "10/10 [==============================] - 0s - loss: {:.4f} - acc: 0.8000 - val_loss: {:.4f} - val_acc: 0.5000"


def _read(tmp_path: Path, lines: list[str]) -> Run:
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = Run()
    text_log.read(path, run)
    return run.finalize()


def test_a_bar_before_the_first_header_is_the_epoch_before_it(tmp_path: Path) -> None:
    # an excerpt that begins with the end of epoch 112 (RasaHQ/rasa_core#486's paste), then "Epoch 113/300"
    lines = [BAR.format(1.2305, 1.7710)]
    for e, (loss, val) in enumerate([(1.1390, 1.7754), (1.1525, 1.7742), (1.0559, 1.7805)], start=113):
        lines += [f"Epoch {e}/300", BAR.format(loss, val)]
    run = _read(tmp_path, lines)
    assert values(run, "eval_loss") == {112: 1.7710, 113: 1.7754, 114: 1.7742, 115: 1.7805}
    assert values(run, "loss")[112] == 1.2305
    assert (112, 112) in run.epoch_starts and (1, 1) not in run.epoch_starts


def test_bars_without_headers_or_before_epoch_2_keep_their_count(tmp_path: Path) -> None:
    # no header at all: epochs counted from 1
    run = _read(tmp_path, [BAR.format(1.2, 1.7), BAR.format(1.1, 1.6), BAR.format(1.0, 1.5)])
    assert sorted(values(run, "eval_loss")) == [1, 2, 3]
    # the first epoch's header cut from the paste, "Epoch 2/10" next: already right, nothing moves
    run = _read(tmp_path, [BAR.format(1.2, 1.7), "Epoch 2/10", BAR.format(1.1, 1.6), "Epoch 3/10",
                           BAR.format(1.0, 1.5)])
    assert sorted(values(run, "eval_loss")) == [1, 2, 3]
