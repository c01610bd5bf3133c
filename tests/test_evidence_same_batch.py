"""A train loss with no batch-to-batch scatter beside an overfitting held-out curve lists a loop that trains on one
batch (evidence/detectors/data.py: detect_same_batch_every_step). Fires/silent tests on constructed runs and on a
development corpus run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

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
