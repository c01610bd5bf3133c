"""diagnose stays linear in the number of logged points (issue 12): every detector, every predicate statistic and
the whole diagnosis document on a run of n points and of 4n points, timed in the same process.

Not a timed test: no absolute limit, only the ratio time(4n) / time(n). Linear work gives ~4x, O(n log n) a little
more; 6x leaves room for a loaded machine. A quadratic step gives ~16x: the moving mean over 10 % of the points in
`final_over_min` (np.convolve) took 0.17 s at 100k points and 6.5 s at 400k before it became a cumulative sum.
n = 50k keeps the test to a few seconds while the per-point work (~0.25 s) outweighs fixed costs.
Each size is timed best-of-3, interleaved with the other size, so a burst of load hits both.

The run has what makes detectors work hard: every metric they read, a loss that falls and then diverges, a grad
spike, NaNs at the end (and a variant without them: a finite loss is what the rules for a still or recurring loss
read; their lag search was quadratic until a 1M-step benchmark log did not finish), curriculum stages, one epoch per
100 steps (per-epoch means), per-rank series, samples.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from traindoc.diagnosis.build import diagnose
from traindoc.evidence import run_detectors
from traindoc.evidence.predicates import evaluate
from traindoc.ingest.model import ConfigValue, LogEvent, Run, Sample, Series

SRC = "run/metrics.jsonl"
STATS = ["max", "min", "mean", "median", "last", "first", "max_over_median", "final_over_min", "rel_change",
         "epoch_mean_increase", "count_nonfinite"]


def big_run(n: int, seed: int = 0, nan_tail: bool = True) -> Run:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1, dtype=np.int64)
    x = t / n
    loss = 3 * np.exp(-x * 10) + 0.2 + 0.4 * np.maximum(x - 0.7, 0) + 0.01 * rng.standard_normal(n)
    if nan_tail:
        loss[-20:] = np.nan
    else:  # a finite loss printed to 4 decimals: the rules that read a still or recurring loss run in full
        loss = np.round(loss, 4)
    grad = 2 + 0.1 * rng.standard_normal(n)
    grad[int(n * 0.7) + 3] = 45.2
    lr = 1e-2 * np.minimum(1.0, t / 100)
    run = Run()
    series = {"loss": loss, "grad_norm": grad, "lr/muon": lr, "lr/adam": 0.3 * lr,
              "act_halt_var": 0.02 + 0.001 * rng.standard_normal(n), "loss_scale": np.full(n, 65536.0),
              "max_attn_logit": 10 + rng.standard_normal(n), "output_logit_mean": rng.standard_normal(n)}
    for rank in range(4):
        series[f"loss@rank{rank}"] = loss * (1 + 0.01 * rank)
        series[f"grad_norm@rank{rank}"] = grad
    for name, v in series.items():
        run.add_series(Series(name, t, v, SRC, name))
    every = max(1, n // 50)
    run.add_series(Series("eval_loss", t[every - 1::every], 1.05 * loss[every - 1::every], SRC, "val_loss"))
    run.stages = [(1, "Foundation"), (int(n * 0.7), "Advanced"), (int(n * 0.9), "Expert")]
    run.epoch_starts = [(int(s), e) for e, s in enumerate(range(1, n + 1, 100))]
    run.samples = [Sample("the sum of two and three is five", int(s), "Q:", "run/samples.jsonl")
                   for s in np.linspace(1, n, 40)]
    run.events = [LogEvent("warning", "Gradient overflow. Skipping step", int(n * 0.95), "grad_overflow", SRC, 7)]
    for i, (k, v) in enumerate({"optim.muon_lr": 1e-2, "optim.adam_lr": 3e-3, "optim.warmup_steps": 100,
                                "optim.grad_clip": 1.0, "optim.gradient_accumulation_steps": 4}.items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    run.meta["optimizer"] = "mugrokfast"
    return run.finalize()


def work(run: Run) -> None:
    """Everything diagnose does per point: all detectors, every predicate statistic, the whole document."""
    run_detectors(run)
    for stat in STATS:
        for metric in ("loss", "grad_norm", "eval_loss"):
            evaluate({"kind": "metric", "metric": metric, "stat": stat, "op": "<", "value": 1.0}, run)
            evaluate({"kind": "metric", "metric": metric, "stat": stat, "op": "<", "value": 1.0,
                      "window": {"start_frac": 0.5}}, run)
    diagnose(run, [SRC])


def timed(n: int, nan_tail: bool) -> float:
    # built outside the timing; a fresh run each time, so no memoised statistic is reused
    run = big_run(n, nan_tail=nan_tail)
    t0 = time.perf_counter()
    work(run)
    return time.perf_counter() - t0


@pytest.mark.parametrize("nan_tail", [True, False], ids=["nan-at-end", "finite"])
def test_diagnose_is_linear_in_the_number_of_points(nan_tail: bool) -> None:
    n = 50_000
    work(big_run(2_000))  # imports, schema loading: one-off costs that would flatter the small size
    small, large = [], []
    for _ in range(3):
        small.append(timed(n, nan_tail))
        large.append(timed(4 * n, nan_tail))
    ratio = min(large) / min(small)
    assert ratio <= 6.0, f"4x the points took {ratio:.1f}x the time ({min(small):.3f}s -> {min(large):.3f}s)"
