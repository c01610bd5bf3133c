"""A train loss with no batch-to-batch scatter beside an overfitting held-out curve lists a loop that trains on one
batch (evidence/detectors/data.py: detect_same_batch_every_step). Fires/silent tests on constructed runs and on a
development corpus run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def overfit_run(noise: float, seed: int = 0) -> Run:
    """40 train points falling 2.0 -> ~0.02 (times 1 + noise x N(0,1)); a held-out loss that bottoms out at step 100
    and climbs 40 % by the end."""
    rng = np.random.default_rng(seed)
    steps = np.arange(5, 205, 5)
    train = 2.0 * np.exp(-steps / 40) + 0.02
    train = train * (1 + noise * rng.standard_normal(steps.size))
    e = np.arange(20, 220, 20)
    held = 0.8 + 0.002 * (e - 100) ** 2 / 100
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", e, held, "run/train.log"))
    return run.finalize()


def test_same_batch_fires_on_a_scatter_free_overfitting_curve() -> None:
    f = data.detect_same_batch_every_step(overfit_run(0.0))
    assert f and f[0].cause == "data_pipeline_bug" and f[0].strength == pytest.approx(data.SAME_BATCH)
    assert f[0].step == 5 and f[0].numbers["falling_share"] == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_same_batch_silent_on_fresh_batches_or_without_overfitting(seed: int) -> None:
    # 10 % batch-to-batch scatter (a fresh batch of ~100 samples): the curve rises at some logged points
    assert data.detect_same_batch_every_step(overfit_run(0.1, seed)) == []
    calm = overfit_run(0.0)
    calm.metrics.pop("eval_loss")
    assert data.detect_same_batch_every_step(calm.finalize()) == []  # no held-out curve: no overfitting picture


def test_same_batch_fires_on_a_corpus_run() -> None:
    # `batch = next(iter(loader))` inside the loop, a non-shuffling loader: the first batch every step
    run = load_run([str(REALLIB / "plain_pytorch-data_pipeline_bug-s1" / "run")])
    f = data.detect_same_batch_every_step(run)
    assert f and f[0].numbers["falling_share"] >= data.SAME_BATCH_FALLS


def per_step_run(noise: float, seed: int = 0, grad: bool = True, epochs: bool = False) -> Run:
    """40 train points every 5 steps falling 2.0 -> ~0.2 (times 1 + noise x N(0,1)), a grad norm at the same steps
    (or none), a held-out loss that keeps improving; `epochs` marks an epoch boundary at every point."""
    rng = np.random.default_rng(seed)
    steps = np.arange(5, 205, 5)
    train = (1.8 * np.exp(-steps / 50) + 0.2) * (1 + noise * rng.standard_normal(steps.size))
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    if grad:
        run.add_series(Series("grad_norm", steps, 1.0 + 0.0 * steps, "run/train.log"))
    run.add_series(Series("eval_loss", np.arange(40, 240, 40), np.linspace(1.8, 1.0, 5), "run/train.log"))
    if epochs:
        run.epoch_starts = [(int(s), i) for i, s in enumerate(steps)]
    return run.finalize()


def test_same_batch_fires_in_a_per_step_log_without_overfitting() -> None:
    f = data.detect_same_batch_every_step(per_step_run(0.0))
    assert f and f[0].step == 5 and "optimizer steps" in f[0].evidence[0]
    # flax-data_pipeline_bug-s1 (CLU "[step] grad_norm=..., train_loss=..." every 5 steps, the first batch every
    # step): the loss falls at all 60 logged steps, 2.04 -> 0.23, while the held-out loss improves 1.83 -> 1.03
    run = load_run([str(REALLIB / "flax-data_pipeline_bug-s1" / "run")])
    (g,) = data.detect_same_batch_every_step(run)
    assert g.step == 1 and g.numbers["falling_share"] == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_same_batch_silent_on_fresh_batches_epoch_rows_or_no_grad_norm(seed: int) -> None:
    assert data.detect_same_batch_every_step(per_step_run(0.1, seed)) == []  # fresh batches scatter
    assert data.detect_same_batch_every_step(per_step_run(0.0, grad=False)) == []  # no sign of per-step points
    assert data.detect_same_batch_every_step(per_step_run(0.0, epochs=True)) == []  # epoch means fall smoothly


def overfit_per_step_run(noise: float, seed: int = 0, cap: int | None = None) -> Run:
    """The overfitting picture of `overfit_run` with a grad norm logged at every train point (optimizer steps), and
    optionally a stated batch of 64 beside a training-set cap of `cap` samples."""
    run = overfit_run(noise, seed)
    loss = run.series("loss")
    run.add_series(Series("grad_norm", loss.steps, 1.0 + 0.0 * loss.steps, "run/train.log"))
    if cap is not None:
        run.put_config(ConfigValue("batch_size", 64, "run/config.yaml", 1, "yaml", "64"))
        run.put_config(ConfigValue("n_train", cap, "run/config.yaml", 2, "yaml", str(cap)))
    return run.finalize()


def test_same_batch_is_named_when_a_per_step_curve_without_scatter_overfits() -> None:
    f = data.detect_same_batch_every_step(overfit_per_step_run(0.0))
    assert f and f[0].strength == pytest.approx(data.SAME_BATCH_BOTH) and f[0].step == 5
    # the corpus run: `batch = next(iter(loader))` in the loop, grad norm logged with every loss line
    run = load_run([str(REALLIB / "plain_pytorch-data_pipeline_bug-s1" / "run")])
    (g,) = data.detect_same_batch_every_step(run)
    assert g.strength == pytest.approx(data.SAME_BATCH_BOTH)


@pytest.mark.parametrize("seed", range(5))
def test_same_batch_stays_listed_for_full_batch_training_and_silent_on_fresh_batches(seed: int) -> None:
    # a batch of 64 over a training set of 48: one batch by design, the overfitting reading stays open
    (f,) = data.detect_same_batch_every_step(overfit_per_step_run(0.0, cap=48))
    assert f.strength == pytest.approx(data.SAME_BATCH) and any("full-batch" in e for e in f.evidence)
    # the same batch against 1,024 training samples is not full-batch
    (g,) = data.detect_same_batch_every_step(overfit_per_step_run(0.0, cap=1024))
    assert g.strength == pytest.approx(data.SAME_BATCH_BOTH)
    # fresh batches scatter: silent
    assert data.detect_same_batch_every_step(overfit_per_step_run(0.1, seed)) == []


def gap_per_step_run(held_end: float, noise: float = 0.0, seed: int = 0, cap: int | None = None) -> Run:
    """`per_step_run` (train 2.0 -> ~0.2, a grad norm at every point, no epoch boundary) with a held-out loss that
    keeps falling 1.8 -> `held_end` at steps 40..200 (no U), and optionally a stated batch of 64 beside a
    training-set cap of `cap` samples."""
    run = per_step_run(noise, seed)
    run.metrics.pop("eval_loss")
    run.add_series(Series("eval_loss", np.arange(40, 240, 40), np.linspace(1.8, held_end, 5), "run/train.log"))
    if cap is not None:
        run.put_config(ConfigValue("batch_size", 64, "run/config.yaml", 1, "yaml", "64"))
        run.put_config(ConfigValue("n_train", cap, "run/config.yaml", 2, "yaml", str(cap)))
    return run.finalize()


def test_same_batch_is_named_when_a_scatter_free_per_step_curve_sits_far_under_the_heldout_loss() -> None:
    # the training loss ends at ~0.22, the held-out loss at 1.0 (4.5x) and still falling: one batch memorised
    (f,) = data.detect_same_batch_every_step(gap_per_step_run(1.0))
    assert f.strength == pytest.approx(data.SAME_BATCH_BOTH) and f.step == 5
    assert any("x the training loss at step 200" in e for e in f.evidence)
    # flax-data_pipeline_bug-s1: 0.23 against 1.02 at step 300 (4.4x), the first batch every step
    run = load_run([str(REALLIB / "flax-data_pipeline_bug-s1" / "run")])
    (g,) = data.detect_same_batch_every_step(run)
    assert g.strength == pytest.approx(data.SAME_BATCH_BOTH)


@pytest.mark.parametrize("seed", range(5))
def test_same_batch_stays_listed_without_the_gap_or_for_full_batch_training(seed: int) -> None:
    # held-out 1.25x the training loss (~0.22 -> 0.28): within reach of a healthy gap, the smooth curve stays listed
    (f,) = data.detect_same_batch_every_step(gap_per_step_run(0.28))
    assert f.strength == pytest.approx(data.SAME_BATCH)
    # a batch of 64 over 48 samples: one batch by design
    (g,) = data.detect_same_batch_every_step(gap_per_step_run(1.0, cap=48))
    assert g.strength == pytest.approx(data.SAME_BATCH) and any("full-batch" in e for e in g.evidence)
    # fresh batches scatter: silent whatever the gap
    assert data.detect_same_batch_every_step(gap_per_step_run(1.0, noise=0.1, seed=seed)) == []
    # a training loss collapsed to ~0 (a train-only shortcut, label leakage's picture): the gap is no sign of one batch
    collapsed = gap_per_step_run(1.0)
    loss = collapsed.series("loss")
    collapsed.metrics["loss"] = Series("loss", loss.steps, 2.0 * np.exp(-loss.steps / 20) + 1e-3, "run/train.log")
    (h,) = data.detect_same_batch_every_step(collapsed.finalize())
    assert h.strength == pytest.approx(data.SAME_BATCH)
