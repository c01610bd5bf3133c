"""Which cause a NaN with no lead points at first (evidence/nan_prior.py): the LR for an early NaN, unless a stated LR
clears it, a stated precision decides, or the loss was steady for many points before it. Fires/silent tests on small
constructed runs and on real-world logs from tests/corpus/realworld."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.diagnosis import ranking, unexplained_nan
from traindoc.evidence import nan_prior
from traindoc.evidence.detectors import numerics, optimisation
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def nan_run(finite: int, total: int = 30, config: dict[str, object] | None = None, start: int = 10) -> Run:
    """A loss logged every 10 steps from `start`: `finite` slowly falling points, then NaN for good."""
    steps = start + 10 * np.arange(total)
    loss = 2.5 * np.exp(-np.arange(total) / 40.0)
    loss[finite:] = np.nan
    run = Run()
    run.add_series(Series("loss", steps, loss, "run/train.log"))
    for i, (k, v) in enumerate((config or {}).items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


def corpus_run(name: str, config: dict[str, object] | None = None) -> Run:
    run = load_run([REALWORLD / name / "run"])
    for k, v in (config or {}).items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    return run


def lr_strength(run: Run) -> float:
    out = optimisation.detect_lr_too_high(run)
    return out[0].strength if out else 0.0


def test_lr_cleared_by_an_lr_inside_its_range_or_low_for_any_optimiser() -> None:
    why = nan_prior.lr_cleared(nan_run(2, config={"optimizer": "adamw", "lr": 3e-4}))
    assert why is not None and "inside the range of adamw" in why
    why = nan_prior.lr_cleared(nan_run(2, config={"lr": 5e-4}))  # no optimiser named
    assert why is not None and "low for every common optimiser" in why


def test_lr_not_cleared_when_unstated_above_its_range_or_high_for_some_optimiser() -> None:
    assert nan_prior.lr_cleared(nan_run(2)) is None
    assert nan_prior.lr_cleared(nan_run(2, config={"optimizer": "adamw", "lr": 0.1})) is None
    # 0.02 is a normal SGD LR and far above Adam's: with no optimiser named it clears nothing
    assert nan_prior.lr_cleared(nan_run(2, config={"lr": 0.02})) is None


def test_an_early_nan_with_nothing_stated_puts_the_lr_first() -> None:
    run = nan_run(2)
    assert nan_prior.lr_first(run)
    lr = optimisation.detect_lr_too_high(run)[0]
    op = numerics.detect_nan_inf(run)[0]
    fp16 = numerics.detect_fp16_overflow(run)[0]
    assert lr.step == op.step == fp16.step == 30
    # the LR first, listed, not confirmed from the log alone; fp16 and the op stay listed below it
    assert lr.strength <= 0.55 and lr.strength > fp16.strength >= op.strength > 0.2
    assert any("first suspect" in e for e in op.evidence)
    # a look-alike listing: calibrated with the listings and capped below the report threshold
    assert lr.numbers.get("listing") is True
    assert ranking.calibrate("lr_too_high", lr.strength, listing=True) <= ranking.DIFFERENTIAL_CAP


def test_the_lr_is_not_first_when_the_log_clears_it_or_states_the_precision() -> None:
    stable = nan_run(12)  # 12 steady points before the NaN: the run was stable at its LR
    assert not nan_prior.lr_first(stable)
    assert numerics.detect_nan_inf(stable)[0].strength == 0.35
    cleared = nan_run(2, config={"optimizer": "adamw", "lr": 3e-4})
    assert not nan_prior.lr_first(cleared)
    op = numerics.detect_nan_inf(cleared)[0]
    assert op.strength == 0.35 and op.numbers["lr_cleared"] and lr_strength(cleared) <= 0.3
    assert "lr_too_high" not in unexplained_nan.candidates(op)
    said = unexplained_nan.summary(op, [])
    assert "a stated LR low enough to rule the LR out" in said and "a learning rate too high" not in said
    assert not nan_prior.lr_first(nan_run(2, config={"precision": "16-mixed"}))  # fp16 stated: overflow first
    assert not nan_prior.lr_first(nan_run(2, config={"precision": "bf16-mixed"}))  # an op first
    assert not nan_prior.lr_first(nan_run(0))  # NaN from the first logged point: the data first


def test_a_nan_that_recovers_or_follows_a_climbing_loss_is_not_this_rule() -> None:
    run = nan_run(30)
    loss = run.series("loss")
    loss.values[[5, 9]] = np.nan  # two skipped updates, training goes on: a loss scaler's, not an unexplained NaN
    assert not nan_prior.lr_first(run.finalize())
    climbing = nan_run(5)
    climbing.series("loss").values[:5] = [1.0, 1.1, 1.4, 1.9, 2.6]
    assert not nan_prior.lr_first(climbing.finalize())  # a lead: the instability rules read it (lr_too_high 0.75+)


def test_real_world_early_nans_list_the_lr_first_and_keep_fp16_and_the_op() -> None:
    # Keras sentence CNN: one finite epoch then NaN; MPII gaze: loss 48.96 at step 0, NaN at step 100; no LR,
    # optimiser or precision in either log (maintainers' answer in both threads: lower the LR)
    for name, step in (("keras-cnn-sentence-nan-epoch2", 2), ("mpii-face-gaze-3-nan-step100-batch1", 100)):
        run = corpus_run(name)
        assert nan_prior.lr_first(run), name
        lr = optimisation.detect_lr_too_high(run)[0].strength
        op = numerics.detect_nan_inf(run)[0]
        fp16 = numerics.detect_fp16_overflow(run)[0].strength
        assert op.step == step and lr > fp16 >= op.strength, name
        # a stated LR inside its optimiser's range turns the reading to fp16 and the op
        inside = corpus_run(name, {"optimizer": "adam", "lr": 1e-4})
        assert not nan_prior.lr_first(inside) and lr_strength(inside) <= 0.3
        assert numerics.detect_nan_inf(inside)[0].strength == 0.35


def test_a_nan_from_the_first_logged_point_lists_the_lr_first_unless_cleared() -> None:
    """No finite loss at all: the data, an op and fp16 are level readings below the LR's candidate cap (an LR that
    diverges within the first logging interval is NaN there already), which a stated LR in range removes."""
    from traindoc.evidence.detectors import data

    run = nan_run(0)
    inputs = data.detect_nan_from_start(run)[0]
    lr = optimisation.detect_lr_too_high(run)[0]
    assert inputs.step == lr.step == 10 and 0.5 > lr.strength > inputs.strength >= 0.3
    assert lr_strength(nan_run(0, config={"optimizer": "adamw", "lr": 3e-4})) == 0.0


def test_a_nan_in_an_excerpt_that_starts_epochs_into_the_run_is_not_an_early_nan() -> None:
    # the same 2 finite points, but the log's first line is in epoch 4: the run trained >= 1 whole epoch at its LR
    late = nan_run(2)
    late.epoch_starts = [(10, 4)]
    assert not nan_prior.lr_first(late)
    assert numerics.detect_nan_inf(late)[0].strength == 0.35
    early = nan_run(2)
    early.epoch_starts = [(10, 1)]  # epoch 1 (or 0) at the first line: it may be the run's first epoch
    assert nan_prior.lr_first(early)
    # PCGrad multi-task: "Epoch: 4_Iter:8 ... Iter:11 seg_loss: nan" (a 0/0 in the projection, the reporter found)
    run = corpus_run("pytorch-pcgrad-7-zero-grad-norm-division-nan")
    assert not nan_prior.lr_first(run)
    assert numerics.detect_nan_inf(run)[0].strength == 0.35 and lr_strength(run) < 0.45  # was 0.25 and 0.55


def test_a_nan_with_the_logged_lr_still_zero_clears_the_lr() -> None:
    # sentence-transformers#2703: "{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 0.0}" at the first log: no update
    # had moved the weights, so no step size made the NaN
    run = nan_run(0)
    run.add_series(Series("lr", np.array([10, 20]), np.array([0.0, 0.0]), "run/train.log"))
    run.finalize()
    why = nan_prior.lr_cleared(run)
    assert why is not None and "logged LR is 0" in why
    assert lr_strength(run) == 0.0
    # one non-zero LR up to the NaN: the step size is back among the readings
    moving = nan_run(0)
    moving.add_series(Series("lr", np.array([5, 10]), np.array([0.0, 5e-2]), "run/train.log"))
    moving.finalize()
    assert nan_prior.lr_cleared(moving) is None and lr_strength(moving) >= 0.4
    st = corpus_run("g1-sentence-transformers-2703-mt5-fp16-loss0-gradnan")
    assert nan_prior.lr_cleared(st) is not None and lr_strength(st) == 0.0


def test_a_nan_below_a_late_epoch_marker_is_not_from_the_start() -> None:
    # DeepSpeech#238: "STARTING Epoch 0009" above its only line "Training loss=inf": eight epochs ran before it
    from traindoc.evidence.detectors import data

    late = nan_run(0, total=1)
    late.epoch_starts = [(10, 9)]
    assert data.detect_nan_from_start(late) == []
    assert nan_prior.lr_first(late)
    first = nan_run(0, total=1)
    first.epoch_starts = [(10, 1)]
    assert data.detect_nan_from_start(first)
    run = corpus_run("g1-deepspeech-238-training-loss-inf")
    assert run.epoch_starts and run.epoch_starts[0][1] == 9
    assert data.detect_nan_from_start(run) == [] and lr_strength(run) == 0.55


def test_stable_before_nan_after_many_finite_points_or_in_a_late_excerpt() -> None:
    # fires: >= STABLE_POINTS finite points; two finite points in an excerpt that starts in epoch 3
    why = nan_prior.stable_before_nan(nan_run(nan_prior.STABLE_POINTS))
    assert why is not None and "stable at its LR" in why
    late = nan_run(2)
    late.epoch_starts.append((10, 3))
    why = nan_prior.stable_before_nan(late)
    assert why is not None and "epoch 3" in why


def test_not_stable_before_an_early_nan_one_never_finite_or_for_a_stated_lr_alone() -> None:
    # silent: two finite points from the start (the LR-first reading), a NaN from the start, and a stated LR that
    # clears the LR without any stretch run at it (lr_cleared's business, not a behaviour)
    assert nan_prior.stable_before_nan(nan_run(2)) is None and nan_prior.lr_first(nan_run(2))
    assert nan_prior.stable_before_nan(nan_run(0)) is None
    assert nan_prior.stable_before_nan(nan_run(2, config={"lr": 5e-4})) is None


def rising_nan_run(finite: int, rise: float, config: dict[str, object] | None = None) -> Run:
    """nan_run with its last finite loss raised by `rise` (x the point before it)."""
    run = nan_run(finite, config=config)
    loss = run.series("loss")
    assert loss is not None
    loss.values[finite - 1] = loss.values[finite - 2] * rise
    return run


def test_a_rise_into_the_nan_at_a_stated_lr_nothing_clears_puts_the_lr_first_after_a_stable_stretch() -> None:
    run = rising_nan_run(12, 1.15, config={"lr": 0.1})  # 12 finite points: stable, but the last one rose 15 %
    assert nan_prior.rose_into_nan(run) is not None and nan_prior.stable_before_nan(run) is None
    assert nan_prior.lr_first(run)
    lr = optimisation.detect_lr_too_high(run)[0]
    fp16 = numerics.detect_fp16_overflow(run)[0]
    op = numerics.detect_nan_inf(run)[0]
    # the LR first, never confirmed from the log alone; float16 and the op below it
    assert 0.5 < lr.strength <= 0.55 and fp16.strength == op.strength == 0.25 and lr.numbers.get("listing") is True
    assert any("rose from" in e for e in lr.evidence) and "rose from" in op.evidence[0]


def test_no_rise_into_the_nan_without_a_stated_lr_with_one_that_clears_it_or_with_a_flat_end() -> None:
    for run in (rising_nan_run(12, 1.15),  # no LR stated: the stable stretch stands
                rising_nan_run(12, 1.15, config={"lr": 5e-4}),  # low for any optimiser: cleared
                rising_nan_run(12, 1.05, config={"lr": 0.1}),  # 5 %: within a logged loss's noise
                nan_run(12, config={"lr": 0.1})):  # falling into the NaN
        assert nan_prior.rose_into_nan(run) is None
        assert not nan_prior.lr_first(run)
        assert numerics.detect_fp16_overflow(run)[0].strength == 0.35


def test_wav2letter_epoch_loss_rising_into_inf_at_lr_0_1_ranks_the_lr_above_fp16() -> None:
    # per-epoch lines 82-84 at a logged lr 0.1: 0.790 -> 0.874 -> inf (the excerpt starts in epoch 82)
    run = corpus_run("g19-wav2letter-220-tutorial-lr0.1-loss-inf-epoch84")
    assert nan_prior.rose_into_nan(run) is not None and nan_prior.lr_first(run)
    assert lr_strength(run) > numerics.detect_fp16_overflow(run)[0].strength
