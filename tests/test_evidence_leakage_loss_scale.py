"""Fires / silent tests for the loss-scale test of detect_label_leakage's collapse reading (issue 8): a first logged
window above ln(1e6) nats is no per-token mean cross-entropy (a sum over gradient-accumulation micro-batches logs
~k x the mean), so its fall to ~0 is read against the held-out loss, not against a nats floor."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.context import ANY_VOCAB_NATS
from traindoc.evidence.detectors import data
from traindoc.ingest.model import Run, Series

N = 200
T = np.arange(10, 10 * N + 1, 10)  # logged every 10 steps, as the Trainer's logging_steps=10
EVAL_T = np.arange(50, 10 * N + 1, 50)


def _run(start: float) -> Run:
    """Loss from `start` to ~0.002 within the first 5 % of the run; the held-out loss falls with it."""
    rng = np.random.default_rng(0)
    curves = {"loss": (T, (start * np.exp(-np.arange(N) / 2.0) + 0.002) * np.exp(0.05 * rng.standard_normal(N))),
              "eval_loss": (EVAL_T, 0.0022 * np.exp(0.02 * rng.standard_normal(EVAL_T.size)))}
    run = Run()
    for name, (steps, values) in curves.items():
        run.add_series(Series(name, steps, values, "run/trainer_state.json"))
    return run.finalize()


def test_collapse_of_a_per_token_loss_fires() -> None:
    # 2.3 nats (ln 10) at the start: a per-token mean; below min(2 % of it, 0.05) within 5 % of the run
    f = data.detect_label_leakage(_run(2.3))
    assert f and f[0].cause == "label_leakage" and f[0].strength >= 0.5
    assert f[0].step is not None and f[0].step <= 10 * N * 0.1


def test_collapse_of_a_loss_starting_above_any_vocabulary_is_silent() -> None:
    # 19.2 then ~11.6: the window's median is under ln(1e6) but its first point is above it
    run = _run(19.2)
    head = run.series("loss").values[: N // 20]
    assert np.median(head) <= ANY_VOCAB_NATS < np.max(head)
    assert not [f for f in data.detect_label_leakage(run) if f.strength >= 0.3]
