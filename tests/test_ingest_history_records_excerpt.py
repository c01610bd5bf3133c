"""A pasted excerpt of a JSON array of per-epoch records (brackets cut, trailing comma kept), as threads quote
Chainer's / ESPnet1's `log` report, is read by the history reader (readers/history_dict.py)."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.model import Run
from traindoc.ingest.readers import history_dict

_EXCERPT = """{
        "main/loss_ctc": 108.7,
        "main/loss": 58.9,
        "main/acc": 0.84,
        "epoch": 1,
        "iteration": 8900
    },
{
        "main/loss_ctc": 110.1,
        "main/loss": 59.6,
        "main/acc": 0.84,
        "epoch": 1,
        "iteration": 9000
    },
"""


def _read(tmp_path: Path, text: str) -> tuple[float, Run]:
    path = tmp_path / "log"
    path.write_text(text)
    run = Run()
    score = history_dict.sniff(path, text.encode()[:4096])
    if score:
        history_dict.read(path, run)
    return score, run


def test_bare_records_excerpt_is_read_on_its_step_column(tmp_path: Path) -> None:
    score, run = _read(tmp_path, _EXCERPT)
    assert score >= history_dict.CONFIDENT
    loss = run.series("loss")
    assert loss is not None and list(loss.steps) == [8900, 9000]
    assert list(loss.values) == [58.9, 59.6]


def test_excerpt_keeping_the_arrays_end_is_read(tmp_path: Path) -> None:
    score, run = _read(tmp_path, _EXCERPT.rstrip().rstrip(",") + "\n]\n")
    assert score >= history_dict.CONFIDENT
    assert run.series("loss") is not None


def test_a_config_object_is_not_claimed(tmp_path: Path) -> None:
    # no step-like key: a config dict followed by a comma is not a per-epoch record
    score, _ = _read(tmp_path, '{"lr": 0.1, "loss": "ctc", "batch_size": 32},\n{"dropout": 0.1},\n')
    assert score == 0.0
    # one record with no comma after it is one JSON object, not an excerpt of an array (the JSON readers' case)
    score, _ = _read(tmp_path, '{"epoch": 1, "loss": 0.5}\n')
    assert score == 0.0
