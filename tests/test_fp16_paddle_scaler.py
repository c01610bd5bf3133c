"""Paddle's AMP GradScaler line, "Found inf or nan, current scale is: s, decrease to: s*0.5" (PaddleOCR, PaddleClas,
PaddleDetection under `use_amp`), read as the fp16 overflow message it is (ingest/catalogue.py grad_overflow; the
scale it states read by detectors/numerics.py _SCALE_RE).

Fires: the scale halved at every step from 2^-9 down to ~1e-7 (the shape of the PaddleClas and PaddleOCR threads in
the real-world corpus, here on a synthetic log): far below 1, so float16 overflows whatever the scaler does. Silent:
the routine search of a healthy run (2^15 halved three times at the start, then the loss falls) stays context."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.detectors import numerics
from traindoc.ingest.loader import load_run


def ppocr_line(step: int, loss: float) -> str:
    return (f"[2022/07/11 09:17:{step % 60:02d}] ppocr INFO: epoch: [{step // 100 + 1}/50], global_step: {step}, "
            f"lr: 0.001000, loss: {loss:.6f}, avg_reader_cost: 0.00449 s, avg_batch_cost: 0.41196 s, "
            "avg_samples: 16.0, ips: 38.83882 samples/s, eta: 1:00:00")


def paddle_found(scale: float) -> str:
    return f"Found inf or nan, current scale is: {scale!r}, decrease to: {scale!r}*0.5"


def write_log(tmp_path: Path, lines: list[str]) -> Path:
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paddle_scale_collapsing_below_one_is_the_fp16_overflow(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines: list[str] = []
    scale = 2.0 ** -9
    for step in range(10, 210, 10):  # a loss that does not fall: the skipped steps update nothing
        lines.append(ppocr_line(step, 5.2 + 0.05 * rng.standard_normal()))
        for _ in range(3):
            lines.append(paddle_found(scale))
            scale /= 2
    run = load_run([str(write_log(tmp_path, lines))])
    assert any(e.tag == "grad_overflow" for e in run.events)
    f = numerics.detect_fp16_overflow(run)[0]
    # the scale read from the lines is under the floor of 1 (the value read is the one at the overflow)
    assert f.numbers["lowest_loss_scale"] < 1e-6
    assert f.strength >= 0.65


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paddle_routine_scale_search_stays_context(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines = [paddle_found(32768.0), paddle_found(16384.0), paddle_found(8192.0)]
    for step in range(10, 1010, 10):  # then a loss that falls: a healthy float16 run
        lines.append(ppocr_line(step, 2.5 * np.exp(-step / 400.0) + 0.3 + 0.02 * rng.standard_normal()))
    run = load_run([str(write_log(tmp_path, lines))])
    found = numerics.detect_fp16_overflow(run)
    assert not found or found[0].strength <= 0.2
    assert numerics.detect_nan_inf(run) == []
