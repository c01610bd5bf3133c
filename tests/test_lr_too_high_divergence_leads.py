"""lr_too_high's divergence lead (issue 8): a grad norm that grows with a sustained loss rise. A fires test at a
known step and a silent one, on small synthetic runs."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import optimisation
from traindoc.ingest.model import Run, Series

STEPS = np.array([1, 55, 110, 165, 220, 275, 330, 385])
# falls from 15.5 to 1.4, then climbs back over three logged points to ~2/3 of its start, no LR and no config
LOSS = np.array([15.5, 13.0, 3.8, 2.4, 1.4, 5.8, 7.0, 10.0])


def _run(loss: np.ndarray, grad: np.ndarray | None = None) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log"))
    if grad is not None:
        run.add_series(Series("grad_norm", STEPS, grad, "run/train.log"))
    return run.finalize()


def _lr_finding(run: Run):
    out = optimisation.detect_lr_too_high(run)
    assert out, "detect_lr_too_high stayed silent"
    return out[0]


def test_grad_norm_growing_with_the_loss_rise_adds_to_the_divergence() -> None:
    plain = _lr_finding(_run(LOSS))
    grows = _lr_finding(_run(LOSS, grad=np.array([40.0, 14.0, 24.0, 7.0, 7.5, 15.0, 15.0, 70.0])))
    assert grows.numbers.get("grad_grows") and not plain.numbers.get("grad_grows")
    assert any("grad norm grew with the loss" in e for e in grows.evidence)
    assert grows.step == plain.step == 220  # the smoothed loss is 10 % above its minimum from step 220
    assert grows.strength >= plain.strength + 0.1 - 1e-9 and grows.strength >= 0.6


def test_grad_norm_silent_when_flat_or_a_lone_spike_after_a_dip() -> None:
    flat = _lr_finding(_run(LOSS, grad=np.array([40.0, 14.0, 24.0, 7.0, 7.5, 8.0, 7.0, 9.0])))
    assert not flat.numbers.get("grad_grows")
    # the last value 10x, but one point in between fell below the value at the minimum: a spike, not a growth
    spike = _lr_finding(_run(LOSS, grad=np.array([40.0, 14.0, 24.0, 7.0, 7.5, 6.0, 8.0, 70.0])))
    assert not spike.numbers.get("grad_grows")
    # a rebound that keeps most of the progress is not weighed up by the gradient either
    rebound = np.array([15.5, 13.0, 3.8, 2.4, 1.4, 2.0, 2.5, 3.0])
    f = _lr_finding(_run(rebound, grad=np.array([40.0, 14.0, 24.0, 7.0, 7.5, 15.0, 15.0, 70.0])))
    assert not f.numbers.get("grad_grows")
