"""float16 shown by a dynamic loss scaler at work, and a skipped-NaN loss in a float16 run (evidence/precision.py:
_scaler_at_work; detectors/numerics.py: detect_fp16_overflow).

Only float16 training runs a dynamic loss scaler (Micikevicius et al. 2018 §3.2; bf16 and fp32 have fp32's range,
Kalamkar et al. 2019), so its overflow lines or a logged scale that falls say the run is float16. Fires: scaler lines
(the scale driven under 2^8 at a known step), a falling logged scale, a loss NaN on some batches in a stated float16
run. Silent: the routine scale search of a healthy run stays context (issue 8's first false-alarm class), as do the
skipped steps HF's fp16 Trainer logs as a NaN grad norm beside a finite loss; a constant logged scale (Megatron's 1.0
in bf16), numpy's "overflow encountered in" and a stated bf16 show no float16."""

from __future__ import annotations

import numpy as np
import pytest

from traindoc.evidence.detectors import numerics
from traindoc.evidence.precision import training_precision
from traindoc.ingest.model import ConfigValue, LogEvent, Run, Series

STEPS = np.arange(10, 1010, 10)


def falling_loss(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 2.5 * np.exp(-STEPS / 400.0) + 0.3 + 0.02 * rng.standard_normal(STEPS.size)


def make_run(loss: np.ndarray | None = None, events: list[LogEvent] | None = None,
             config: dict[str, object] | None = None, **series: np.ndarray) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, falling_loss() if loss is None else loss, "run/train.log", "loss"))
    for name, v in series.items():
        run.add_series(Series(name, STEPS, v, "run/train.log", name))
    for i, (k, v) in enumerate((config or {}).items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    run.events.extend(events or [])
    return run.finalize()


def deepspeed_overflows(scales: list[float], first_step: int = 10) -> list[LogEvent]:
    """DeepSpeed's fp16 optimizer lines, one per overflow, halving the scale each time (catalogued grad_overflow)."""
    return [LogEvent("info", f"[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: {s:g}, reducing to "
                             f"{s / 2:g}", first_step + 10 * i, "grad_overflow", "run/train.log", 2 + i)
            for i, s in enumerate(scales)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scaler_lines_show_float16_and_the_low_scale_reads_as_the_overflow(seed: int) -> None:
    # the scale driven from 2^16 to 2 by 15 overflows from step 300: gradient elements beyond 65504/2 ~ 32752
    run = make_run(falling_loss(seed), deepspeed_overflows([2.0 ** k for k in range(16, 1, -1)], first_step=300))
    p = training_precision(run)
    assert p.half is True and "loss scaler" in p.evidence and "[run/train.log:2]" in p.evidence
    f = numerics.detect_fp16_overflow(run)[0]
    assert f.step == 300 and f.strength == pytest.approx(0.75)  # 0.65 for the scale under 2^8, +0.1 for float16
    assert any(e.startswith("the run is float16: its dynamic loss scaler") for e in f.evidence)


def test_a_logged_loss_scale_that_falls_shows_float16() -> None:
    scale = np.full(STEPS.size, 65536.0)
    scale[40:] = 32768.0  # one overflow at step 410: a dynamic scaler at work
    p = training_precision(make_run(loss_scale=scale))
    assert p.half is True and "falls from 65536 to 32768 at step 410" in p.evidence


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_routine_scale_search_stays_context_now_that_the_run_reads_as_float16(seed: int) -> None:
    # a healthy fp16 start: 2^32 halved six times in the first steps, then the loss falls; float16 is now known,
    # and the search must stay what it is (issue 8's first false-alarm class): context, far below 0.5
    run = make_run(falling_loss(seed), deepspeed_overflows([2.0 ** k for k in range(32, 26, -1)]))
    assert training_precision(run).half is True
    f = numerics.detect_fp16_overflow(run)[0]
    assert f.strength <= 0.2 and f.numbers["routine_search"]
    assert numerics.detect_nan_inf(run) == []


def test_no_falling_scale_no_tagged_line_no_float16() -> None:
    megatron_bf16 = make_run(loss_scale=np.ones(STEPS.size))  # a constant scale is no scaler
    assert training_precision(megatron_bf16).half is None
    numpy_warning = [LogEvent("warning", "RuntimeWarning: overflow encountered in matmul", 50, None,
                              "run/train.log", 7)]
    assert training_precision(make_run(events=numpy_warning)).half is None
    # a stated bf16 outranks the lines (the config is what the trainer ran; the reading stays the stated one)
    stated = make_run(events=deepspeed_overflows([65536.0]), config={"args.bf16": True})
    assert training_precision(stated).half is False


def skipped_nan_loss() -> np.ndarray:
    loss = falling_loss()
    loss[[30, 47, 61]] = np.nan  # NaN on three batches, finite after each: those updates were skipped
    return loss


def test_a_skipped_nan_loss_in_a_stated_float16_run_is_the_overflow() -> None:
    f = numerics.detect_fp16_overflow(make_run(skipped_nan_loss(), config={"args.fp16": True}))[0]
    assert f.step == 310 and f.strength == pytest.approx(0.65)
    assert any(e.startswith("the run is float16: args.fp16=True") for e in f.evidence)
    # precision not stated: the skipping alone, as before (0.55)
    assert numerics.detect_fp16_overflow(make_run(skipped_nan_loss()))[0].strength == pytest.approx(0.55)


def test_a_skipped_nan_loss_in_a_stated_bf16_run_is_not_float16() -> None:
    assert numerics.detect_fp16_overflow(make_run(skipped_nan_loss(), config={"args.bf16": True})) == []


def test_hf_fp16_skipped_steps_with_a_finite_loss_stay_silent() -> None:
    # HF's fp16 Trainer logs a skipped update as a NaN grad norm beside a finite loss: the scaler's search
    g = np.full(STEPS.size, 1.2)
    g[[0, 1, 3]] = np.nan
    assert numerics.detect_fp16_overflow(make_run(grad_norm=g, config={"args.fp16": True})) == []
