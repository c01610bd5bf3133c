"""An LR logged at 0 inside a configured warmup in a float16 run: every optimizer step was skipped by the loss scaler
(evidence/skipped_warmup.py), read as fp16_overflow with the schedule below 0.5 (detectors/numerics.py,
detectors/not_learning.py).

Fires: fp16 with warmup_steps=100 and the LR 0 at steps 5, 10 and 15 (LlamaFactory#964's shape, the corpus entry
g26-llamafactory-964). Silent: the same zeros in a bf16 run or with no warmup stay the schedule's own; an LR that
rises in warmup is not a skip."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import not_learning, numerics
from traindoc.evidence.skipped_warmup import skipped_warmup
from traindoc.ingest.model import ConfigValue, Run, Series

STEPS = np.array([5, 10, 15])  # an excerpt shorter than 20 steps: no "warmup longer than the run" reading


def make_run(lr: np.ndarray, **config: object) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, np.array([9.1, 8.7, 8.9]), "run/train.log", "loss"))
    run.add_series(Series("lr", STEPS, lr, "run/train.log", "learning_rate"))
    for i, (k, v) in enumerate(config.items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


def test_zero_lr_in_a_float16_warmup_reads_as_every_step_skipped() -> None:
    run = make_run(np.zeros(3), fp16=True, warmup_steps=100, learning_rate=3e-5)
    sk = skipped_warmup(run)
    assert sk is not None and sk.step == 5
    f = numerics.detect_fp16_overflow(run)[0]
    assert f.strength >= 0.65 and f.step == 5
    assert any("every step overflowed" in e for e in f.evidence)
    sm = not_learning.detect_scheduler_misuse(run)[0]
    assert sm.strength < 0.5


def test_the_same_zeros_without_float16_or_warmup_stay_the_schedules() -> None:
    for config in ({"bf16": True, "warmup_steps": 100}, {"fp16": True}, {"warmup_steps": 100}):
        run = make_run(np.zeros(3), learning_rate=3e-5, **config)
        assert skipped_warmup(run) is None
        assert not any("every step overflowed" in e for f in numerics.detect_fp16_overflow(run) for e in f.evidence)
        assert not_learning.detect_scheduler_misuse(run)[0].strength >= 0.5


def test_a_warmup_that_rises_is_no_skip() -> None:
    run = make_run(np.array([3e-6, 6e-6, 9e-6]), fp16=True, warmup_steps=100, learning_rate=3e-5)
    assert skipped_warmup(run) is None
