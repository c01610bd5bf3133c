"""detect_scheduler_misuse's 'warmup longer than the run' reading on a log whose rows are epochs: a warmup counted
in optimiser updates (`warmup_steps`) is not comparable with a number of epoch rows (ALIGNN's 44-epoch history with
warmup_steps 2000 of ~14,000 updates an epoch read as scheduler_misuse 0.93). Rows logged per step still fire."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import not_learning
from traindoc.ingest.model import ConfigValue, Run, Series


def make_run(rows: int, warmup_key: str = "warmup_steps", warmup: int = 2000, eval_each_row: bool = False) -> Run:
    steps = np.arange(1, rows + 1)
    loss = 1.2 * np.exp(-steps / (rows / 3)) + 0.2
    run = Run()
    run.add_series(Series("loss", steps, loss, "run/history_train.json"))
    if eval_each_row:
        run.add_series(Series("eval_loss", steps, loss + 0.3, "run/history_val.json", "loss"))
    run.config[warmup_key] = ConfigValue(warmup_key, warmup, "run/config.json", 22, "json", str(warmup))
    return run.finalize()


def test_fires_when_the_rows_are_steps() -> None:
    # 100 logged steps, no held-out row at each: a warmup of 2000 updates never ends within the run
    f = not_learning.detect_scheduler_misuse(make_run(100))
    assert f and f[0].cause == "scheduler_misuse" and f[0].strength >= 0.7
    assert "longer than the run (100 steps)" in f[0].evidence[0]


def test_silent_when_each_row_is_an_epoch() -> None:
    # the same 2000-update warmup over 44 epoch rows (a held-out loss at every row: rows_are_epochs)
    assert not_learning.detect_scheduler_misuse(make_run(44, eval_each_row=True)) == []


def test_a_warmup_key_that_does_not_say_updates_still_fires_on_epoch_rows() -> None:
    # a bare `warmup` may count epochs: longer than 44 epoch rows it is still read
    f = not_learning.detect_scheduler_misuse(make_run(44, warmup_key="warmup", warmup=60, eval_each_row=True))
    assert f and f[0].cause == "scheduler_misuse"
