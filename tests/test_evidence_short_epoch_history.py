"""Short epoch histories (3-7 rows) under an LR far above its range: a first row above chance from a blow-up, and a
last row no lower than the first (not_learning._short_history_at_chance, not_learning.ruled_out,
optimisation.detect_lr_too_high). Real logs: realworld g1s33-ayush-dl-keras-adam-lr0.5-dying-relu-98pct-dead and
g1s33-ayush-dl-keras-adam-lr0.1-dying-relu-acc-falls (Keras MLPs on MNIST at Adam 0.5 and 0.1, five epochs each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textlog_support import read_text
from traindoc.evidence.detectors import not_learning, optimisation
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _rows(tmp_path: Path, rows: list[tuple[float, float, float]]) -> Run:
    text = "".join(f"epoch: {e}, train_loss: {a}, test_loss: {b}, accuracy: {c}\n"
                   for e, (a, b, c) in enumerate(rows, 1))
    return read_text(tmp_path, text)


def test_first_row_blown_up_then_at_chance_never_learned():
    """The Adam 0.5 run: 110.2 over the first epoch, then 2.31 = ln 10 with accuracy 0.10 and the held-out loss at
    chance from the first evaluation. Blind it read as healthy (every row had to sit at chance)."""
    run = load_run([str(REALWORLD / "g1s33-ayush-dl-keras-adam-lr0.5-dying-relu-98pct-dead" / "run")])
    nl = not_learning.never_learned(run)
    assert nl is not None and nl.k == 10 and nl.first_step == 2
    assert any("first row" in e for e in nl.evidence)
    # the blow-up shows the weights took large steps: the never-movers are crossed off, the data is not
    out = not_learning.ruled_out(run)
    assert {"frozen_params", "lr_too_low", "vanishing_gradients"} <= set(out)
    assert "blew up" in out["lr_too_low"] and "data_pipeline_bug" not in out


def test_first_row_above_chance_synthetic(tmp_path):
    # fires: first row above the band, the four after it and every held-out evaluation at ln 10
    rows = [(5.7, 2.305, 0.10), (2.304, 2.306, 0.11), (2.303, 2.302, 0.10), (2.306, 2.304, 0.09), (2.302, 2.305, 0.10)]
    nl = not_learning.never_learned(_rows(tmp_path, rows))
    assert nl is not None and nl.k == 10 and nl.first_step == 2


def test_first_row_below_chance_is_not_never_learned(tmp_path):
    # silent: the first epoch went under chance (it learned something, then lost it)
    rows = [(1.40, 2.305, 0.50), (2.304, 2.306, 0.11), (2.303, 2.302, 0.10), (2.306, 2.304, 0.09), (2.302, 2.305, 0.10)]
    assert not_learning.never_learned(_rows(tmp_path, rows)) is None


def test_first_row_above_but_heldout_leaves_chance_learned(tmp_path):
    # silent: the held-out loss leaves ln 10 by > 3 % at the last evaluation
    rows = [(5.7, 2.305, 0.10), (2.304, 2.306, 0.11), (2.303, 2.250, 0.14), (2.306, 2.150, 0.20), (2.302, 2.000, 0.30)]
    assert not_learning.never_learned(_rows(tmp_path, rows)) is None


def test_run_at_chance_without_blowup_keeps_the_never_movers():
    # silent (ruled_out): flax-vanishing_gradients-s0 sits at ln 8 from its first row, no blow-up: vanishing
    # gradients stay a reading
    run = load_run([str(Path(__file__).parent / "corpus" / "reallib" / "flax-vanishing_gradients-s0" / "run")])
    assert "blew up" not in not_learning.ruled_out(run).get("vanishing_gradients", "")


def _short_run(loss: list[float], lr: float = 0.1) -> Run:
    run = Run()
    t = np.arange(1, len(loss) + 1)
    run.add_series(Series("loss", t, np.array(loss), "run/train.log"))
    run.config["learning_rate"] = ConfigValue("learning_rate", lr, "run/command.txt", 1, "python", str(lr))
    run.config["optimizer"] = ConfigValue("optimizer", "Adam", "run/command.txt", 1, "python", "Adam")
    return run.finalize()


def test_short_history_ending_above_its_first_row_is_stuck_at_a_high_lr():
    """Adam at 0.1 (>= 10x its range), five epoch rows 1.47 -> 1.36 -> 1.57: no progress over the run."""
    run = load_run([str(REALWORLD / "g1s33-ayush-dl-keras-adam-lr0.1-dying-relu-acc-falls" / "run")])
    (f,) = optimisation.detect_lr_too_high(run)
    assert f.strength >= 0.9 and any("decreased only" in e for e in f.evidence)
    synthetic = optimisation.detect_lr_too_high(_short_run([1.5, 1.4, 1.45, 1.5, 1.55]))
    assert synthetic and synthetic[0].strength >= 0.9


def test_short_history_that_falls_at_a_high_lr_is_the_lr_alone():
    # silent (no symptom): the same LR with five rows that fall keeps the LR-alone reading, under 0.75
    (f,) = optimisation.detect_lr_too_high(_short_run([1.5, 1.2, 1.0, 0.9, 0.85]))
    assert f.strength < 0.75 and not any("decreased only" in e for e in f.evidence)
