"""A Lightning run on the CPU with 4-byte weights trains in no float16 (ingest/readers/_device_line.py,
evidence/precision.py: _lightning_cpu_full_width). Fires/silent tests on logs made of Lightning's own start-up lines
and on development corpus runs (tests/corpus/reallib, Lightning stack)."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence.detectors import numerics
from traindoc.evidence.precision import training_precision
from traindoc.ingest.loader import load_run

REALLIB = Path(__file__).parent / "corpus" / "reallib"

_METRICS = "".join(f"step {s} loss {2.0 - s / 100:.4f}\n" for s in range(1, 31))


def lightning_log(tmp_path: Path, gpu_used: str = "False", tpu_cores: int = 0, count: str = "18.9 K",
                  size: str | None = "0.076", extra: str = "") -> Path:
    lines = [f"GPU available: False, used: {gpu_used}",
             f"TPU available: False, using: {tpu_cores} TPU cores",
             extra,
             f"Trainable params: {count}",
             "Non-trainable params: 0",
             f"Total params: {count}"]
    if size is not None:
        lines.append(f"Total estimated model params size (MB): {size}")
    p = tmp_path / "train.log"
    p.write_text("\n".join(x for x in lines if x) + "\n" + _METRICS)
    return p


def test_the_device_lines_are_read(tmp_path: Path) -> None:
    run = load_run([lightning_log(tmp_path)])
    assert run.meta["lightning_devices"] == {"GPU": False, "TPU": False}
    run = load_run([lightning_log(tmp_path, gpu_used="True")])
    assert run.meta["lightning_devices"]["GPU"] is True
    p = tmp_path / "gpu.log"
    p.write_text("GPU available: True (cuda), used: True\n" + _METRICS)
    assert load_run([p]).meta["lightning_devices"] == {"GPU": True}


def test_a_cpu_run_with_4_byte_weights_is_not_float16(tmp_path: Path) -> None:
    p = training_precision(load_run([lightning_log(tmp_path)]))
    assert p.half is False and "CPU" in p.evidence
    # 1.1 K parameters at 0.004 MB: even the rounding's extremes give >= 3 bytes each
    assert training_precision(load_run([lightning_log(tmp_path, count="1.1 K", size="0.004")])).half is False


def test_silent_on_a_gpu_on_16_bit_weights_without_a_summary_or_with_a_rounding_that_allows_2_bytes(
        tmp_path: Path) -> None:
    assert training_precision(load_run([lightning_log(tmp_path, gpu_used="True")])).half is None  # AMP possible
    assert training_precision(load_run([lightning_log(tmp_path, tpu_cores=8)])).half is None
    assert training_precision(load_run([lightning_log(tmp_path, size="0.038")])).half is None  # 2 bytes: 16-true
    assert training_precision(load_run([lightning_log(tmp_path, size=None)])).half is None
    # 1.0 K parameters at 0.003 MB could be 2.4 bytes each: no reading
    assert training_precision(load_run([lightning_log(tmp_path, count="1.0 K", size="0.003")])).half is None
    # a stated precision decides before the device lines do
    p = lightning_log(tmp_path, extra="Using 16bit Automatic Mixed Precision (AMP)")
    assert training_precision(load_run([p])).half is True


def test_a_nan_at_once_in_a_lightning_cpu_run_points_at_an_op() -> None:
    run = load_run([REALLIB / "lightning-nan_inf-s1" / "run"])
    f = numerics.detect_nan_inf(run)
    assert f and f[0].strength >= 0.6  # 0.6 from the CPU run alone; 0.7 here, its config also states norm_eps 0.0
    assert numerics.detect_fp16_overflow(run) == []
    # the same stack's float16 run ("16-true", 2 bytes a parameter) keeps fp16 first
    run = load_run([REALLIB / "lightning-fp16_overflow-s0" / "run"])
    assert training_precision(run).half is not False
    f = numerics.detect_fp16_overflow(run)
    assert f and f[0].strength >= 0.45
