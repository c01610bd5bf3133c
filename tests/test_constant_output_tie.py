"""The pinned-at-chance differential (issue 8): a constant output says how units pass no signal, not what put them
there. With no LR stated, dead units, an LR too high and detached labels are listed together below 0.5."""

from __future__ import annotations

import numpy as np

from traindoc.evidence import run_detectors
from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.model import ConfigValue, Run, Series

# keras PR 4652's CIFAR-10 run: a loss pinned at ln 10 from the first epoch, accuracy ~0.1
LOSS = [2.3037, 2.3034, 2.3032, 2.3034, 2.3033, 2.3034, 2.3033, 2.3034]
ACC = [0.0978, 0.0995, 0.0999, 0.0975, 0.0995, 0.0976, 0.0990, 0.0981]


def pinned(config: dict[str, object] | None = None) -> Run:
    run = Run()
    for i, (k, v) in enumerate((config or {}).items()):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i + 1, "yaml", str(v))
    ep = np.arange(1, len(LOSS) + 1)
    run.add_series(Series("loss", ep, np.asarray(LOSS), "run/train.log"))
    run.add_series(Series("accuracy", ep, np.asarray(ACC), "run/train.log"))
    return run.finalize()


def test_a_constant_output_with_no_lr_stated_lists_the_lr_beside_dead_units_and_detached_labels():
    run = pinned()
    got = nl.detect_constant_output_lr(run)
    assert len(got) == 1 and got[0].cause == "lr_too_high" and got[0].step == 1
    assert got[0].strength == nl.CONSTANT_TIE_ORIGIN < nl.CONSTANT_TIE and got[0].numbers["listing"]
    fs = run_detectors(run)
    dead = [f for f in fs if f.cause == "dead_units"]
    assert dead and all(f.numbers.get("listing") and f.strength <= nl.CONSTANT_TIE + 1e-9 for f in dead)
    # the constant output no longer crosses detached labels off: they are listed too
    assert "data_pipeline_bug" not in nl.ruled_out(run) and "frozen_params" in nl.ruled_out(run)
    assert any(f.cause == "data_pipeline_bug" for f in fs)


def test_an_lr_stated_inside_its_range_lists_no_lr_and_leaves_dead_units_as_they_were():
    run = pinned({"lr": 1e-3, "optimizer": "adam"})
    assert nl.detect_constant_output_lr(run) == []
    dead = [f for f in run_detectors(run) if f.cause == "dead_units"]
    assert dead and max(f.strength for f in dead) >= nl.CONSTANT_OUTPUT and not any(f.numbers.get("listing")
                                                                                     for f in dead)


def test_a_run_that_learns_lists_nothing():
    run = Run()
    st = np.arange(1, 41)
    run.add_series(Series("loss", st, 2.3 * np.exp(-st / 15.0) + 0.2, "run/train.log"))
    run = run.finalize()
    assert nl.detect_constant_output_lr(run) == [] and nl.constant_output(run) is None


def exact(values: list[float], first_step: int = 0) -> Run:
    run = Run()
    run.add_series(Series("loss", np.arange(first_step, first_step + len(values)), np.asarray(values), "run/train.log"))
    return run.finalize()


def test_a_loss_exactly_ln_k_from_step_0_is_an_output_uniform_from_the_start():
    """DLAI's zero-init ReLU net: 0.6931471805599453 (= ln 2 to the last digit) at every print from iteration 0:
    neither an LR (no update yet) nor detached labels make that, and frozen random weights would not be uniform."""
    from traindoc.evidence.detectors.unchanged_loss import NEVER_MOVED_UNIFORM, detect_loss_never_moved

    run = exact([0.6931471805599453] * 12)
    assert nl.uniform_from_start(run) is not None
    assert "data_pipeline_bug" in nl.ruled_out(run) and nl.constant_output_unexplained(run) is None
    assert nl.detect_constant_output_lr(run) == []
    (f,) = detect_loss_never_moved(run)
    assert f.strength == NEVER_MOVED_UNIFORM and f.step == 0


def test_a_loss_printed_to_four_decimals_or_first_logged_late_is_not_read_as_uniform_from_the_start():
    assert nl.uniform_from_start(exact([2.3026] * 12)) is None  # 5 digits: a random init can round to it
    assert nl.uniform_from_start(exact([0.6931471805599453] * 12, first_step=500)) is None  # updates came before
    assert nl.uniform_from_start(exact([2.3037, 2.3034, 2.3032, 2.3034, 2.3033, 2.3034, 2.3033, 2.3034])) is None
