"""A held-out loss in bits per byte (`val_bpb`, nanochat's and parameter-golf's validation metric; `bpc` per
character) is lower-better (evidence/heldout.LOWER_BETTER): the held-out task metrics read it with that direction,
where before its name said none and no detector read it at all. Not taken for the held-out loss itself, whose scale
(nats per token) it does not share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence import heldout
from traindoc.evidence.detectors.transfer import METRIC_STEADY_STRENGTH, detect_heldout_metric_degrades
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

STEPS = np.arange(0, 2000, 100)  # 20 evaluations
NANOCHAT = Path(__file__).parent / "corpus" / "realworld" / "nanochat-d24-4gpu-speedrun-log-base-sft" / "run"


def build(series: dict[str, np.ndarray]) -> Run:
    run = Run()
    for name, v in series.items():
        run.add_series(Series(name, STEPS, np.asarray(v, dtype=float), "run/train.log"))
    return run.finalize()


def train_loss() -> np.ndarray:
    return 2.0 + 8.0 * np.exp(-STEPS / 300)  # 10 -> ~2 nats: the training set fitted ever better


def test_real_val_bpb_is_a_lower_better_task_metric() -> None:
    (m,) = [m for m in heldout.task_metrics(load_run([NANOCHAT])) if m.name == "val_bpb"]
    assert m.top is None  # lower is better: the error is the value itself
    assert m.error[-1] < m.error[0]  # the real run's bpb falls


def test_val_bpb_that_rises_after_its_best_fires() -> None:
    # bpb best at the second evaluation (1.10), then higher at every one after it (1.10 -> 1.40)
    bpb = np.concatenate([[1.30], np.linspace(1.10, 1.40, STEPS.size - 1)])
    (f,) = detect_heldout_metric_degrades(build({"loss": train_loss(), "val_bpb": bpb}))
    assert f.cause == "overfitting" and f.step == int(STEPS[1]) and f.strength == METRIC_STEADY_STRENGTH


def test_val_bpb_that_falls_is_silent() -> None:
    bpb = 0.8 + 0.6 * np.exp(-STEPS / 400)  # 1.4 -> 0.8 bits per byte
    assert detect_heldout_metric_degrades(build({"loss": train_loss(), "val_bpb": bpb})) == []


def test_val_bpb_restates_the_heldout_loss() -> None:
    # parameter-golf logs val_loss and val_bpb from the same evaluation: one cross-entropy, no second witness
    bpb = 0.8 + 0.6 * np.exp(-STEPS / 400)
    (m,) = [m for m in heldout.task_metrics(build({"loss": train_loss(), "val_bpb": bpb})) if m.name == "val_bpb"]
    assert heldout.restates_loss(m)
    (acc,) = heldout.task_metrics(build({"loss": train_loss(), "val_accuracy": 1.0 - bpb / 2}))
    assert not heldout.restates_loss(acc)
