"""A log that starts late in a run (its first HF row many logging intervals past epoch 0) misses the early
descent: a flat stretch in it is no evidence of an LR too low (evidence/context.py: late_window; docs/diagnose.md,
"A window that starts late")."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.context import late_window
from traindoc.evidence.detectors import not_learning
from traindoc.ingest.model import Run, Series

SRC = "run/train.log"


def _run(first_epoch: float) -> Run:
    # an HF fine-tune logged every 10 steps: per-row epoch spacing 0.006, AdamW LR 1.4e-5 decaying linearly, and a
    # loss that only wanders around 1.55 (flat) over the 40 logged rows
    n = 40
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1)
    run = Run()
    run.add_series(Series("loss", steps, 1.55 + 0.04 * rng.standard_normal(n), SRC))
    run.add_series(Series("lr", steps, np.linspace(1.4e-5, 1.2e-5, n), SRC))
    run.add_series(Series("epoch", steps, np.round(first_epoch + 0.006 * np.arange(n), 2), SRC))
    run.meta["optimizer"] = "adamw"
    return run.finalize()


def test_flat_window_late_in_the_run_is_not_a_low_lr() -> None:
    run = _run(0.38)
    assert late_window(run) is not None
    (f,) = not_learning.detect_lr_too_low(run)
    assert f.strength < 0.5
    assert any("early descent is not in the log" in e for e in f.evidence)


def test_flat_log_from_the_start_still_reads_as_a_low_lr() -> None:
    run = _run(0.01)
    assert late_window(run) is None
    (f,) = not_learning.detect_lr_too_low(run)
    assert f.strength >= 0.6
