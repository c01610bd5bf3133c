"""MiniTorch's training interface log, `Epoch: e/N, loss: x, correct: c` (_minitorch_interface.py). Blind (issue 8,
session 32) the generic rules read it, with the interface's line before training as a loss of exactly 0 at epoch 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._minitorch_interface import parse_minitorch
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_interface_log_reads_loss_and_correct_without_the_line_before_training():
    run = load_run([REALWORLD / "g3s32-minitorch-mod2-simple-500ep" / "run"])
    s = run.series("loss")
    loss = [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]
    assert loss[0] == (10, 34.6006) and loss[16] == (170, 16.2192) and loss[-1] == (500, 1.0256) and len(loss) == 50
    correct = run.series("correct")
    assert correct is not None and float(correct.values[0]) == 26 and float(correct.values[-1]) == 50
    assert run.sources[0].format == "text_log:minitorch"


def test_line_before_training_is_claimed_and_a_later_zero_loss_is_read():
    st = State()
    rec = parse_minitorch("Epoch: 0/500, loss: 0, correct: 0", st)
    assert rec is not None and rec.claimed and not rec.metrics
    rec = parse_minitorch("Epoch: 490/500, loss: 0.0, correct: 50", st)
    assert rec is not None and rec.step == 490 and rec.metrics == {"loss": 0.0, "correct": 50.0}


@pytest.mark.parametrize("line", [
    "Epoch: 10/500, loss: 34.6",  # no correct count
    "Epoch  10  loss  34.6 correct 26",  # run_scalar.py's own print: the generic rules' line
    "Epoch 1/10",
    "Epoch: 1 loss: 0.3",
    "Epoch: 10/550, loss: 34.55, correct: 25, time: 0.2s",
    "Time per epoch: 0.150s.",
])
def test_parser_silent_on_other_lines(line: str):
    assert parse_minitorch(line, State()) is None
