"""A NaN loss beside a grad norm logged finite at the same steps (evidence/nan_grads.py): the weights are finite, so no
step size made the NaN and the LR is no reading; an op and float16 overflow stay level, below the report threshold.
Fires on a constructed run (known step) and on a real log (tests/corpus/realworld/marian-dev-699-*); silent where the
grad norm goes non-finite with the loss, where it blew up first, where the NaN lasts one point, and where it
recovers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.diagnosis.unexplained_nan import candidates
from traindoc.evidence.detectors import numerics, optimisation
from traindoc.evidence.nan_grads import finite_grads
from traindoc.evidence.nan_prior import lr_first
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def grads_run(loss: np.ndarray, grad: np.ndarray) -> Run:
    run = Run()
    steps = np.arange(1, len(loss) + 1) * 100
    run.add_series(Series("loss", steps, loss, "run/train.log", "loss"))
    run.add_series(Series("grad_norm", steps, grad, "run/train.log", "grad_norm"))
    return run.finalize()


def nan_run(nan_from: int = 3, grad_after: float = 4.0, grad_nan: bool = False) -> Run:
    n = 6
    loss = np.linspace(3.0, 2.5, n)
    loss[nan_from:] = np.nan
    grad = np.full(n, 2.0)
    grad[nan_from:] = np.nan if grad_nan else grad_after
    return grads_run(loss, grad)


def test_a_nan_loss_beside_a_finite_grad_norm_takes_the_lr_out() -> None:
    run = nan_run()
    fg = finite_grads(run)
    assert fg is not None and fg.step == 400 and fg.points == 3
    assert not lr_first(run)
    f = numerics.detect_nan_inf(run)[0]
    assert f.numbers["finite_grads"] and f.strength == 0.35
    assert "lr_too_high" not in candidates(f)
    assert not [x for x in optimisation.detect_lr_too_high(run) if x.strength >= 0.5]


def test_the_real_marian_log_reads_finite_grads() -> None:
    # Marian's `Cost nan ... gNorm 41172.8250` at updates 300 and 400 (marian-dev#699, an fp16 run)
    run = load_run([REALWORLD / "marian-dev-699-fp16-cost-nan-gnorm-2080ti" / "run"])
    fg = finite_grads(run)
    assert fg is not None and fg.step == 300 and fg.points == 2
    assert not lr_first(run)


def test_silent_when_the_grad_norm_goes_non_finite_with_the_loss() -> None:
    run = nan_run(grad_nan=True)  # NaN weights: every gradient follows
    assert finite_grads(run) is None
    assert not numerics.detect_nan_inf(run)[0].numbers["finite_grads"]


def test_silent_when_the_gradients_blew_up_first() -> None:
    # an order of magnitude over their earlier median: a divergence under way, the LR's lead stays
    assert finite_grads(nan_run(grad_after=25.0)) is None
    assert finite_grads(nan_run(grad_after=15.0)) is not None  # 7.5x: under the 10x factor


def test_silent_for_one_nan_point_or_a_recovering_nan() -> None:
    assert finite_grads(nan_run(nan_from=5)) is None  # one point: could be a one-off
    loss = np.linspace(3.0, 2.5, 8)
    loss[3:5] = np.nan  # finite again after: a skipped update, the recovering reading
    assert finite_grads(grads_run(loss, np.full(8, 2.0))) is None
