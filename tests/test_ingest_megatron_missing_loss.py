"""Megatron iteration lines that print no loss: a NaN average is not printed (`avg > 0.0` fails), so a line without a
loss whose skipped and NaN counters are 0 (Megatron-DeepSpeed, where DeepSpeed steps the optimiser) or whose NaN
counter is set is a NaN loss; a line whose iterations were all skipped for an fp16 overflow is not."""

from __future__ import annotations

import math

import pytest

from test_ingest_text_families import read
from test_ingest_text_logs import values


def _line(it: int, loss: float | None, skipped: int = 0, nan: int = 0, scale: float = 65536.0) -> str:
    lm = "" if loss is None else f" lm loss: {loss:E} |"
    return (f" iteration {it:>8d}/  159576 | consumed samples: {it * 176:>12d}"
            f" | elapsed time per iteration (ms): 61947.6 | learning rate: 6.000E-05 | global batch size:   176 |{lm}"
            f" loss scale: {scale} | grad norm: 2.5 |"
            f" num zeros: 0.0 | number of skipped iterations: {skipped:>3d} | number of nan iterations: {nan:>3d} |\n")


def test_megatron_line_without_its_loss_reads_as_nan(tmp_path):
    # bigscience-tr8-104b-exp12-lr6e-5-diverges: iteration 9027 prints no "lm loss", both counters 0; many lines of
    # one layout first, so that the bulk reader takes them and the line without a loss alone goes to the parser
    text = "".join(_line(8000 + i, 3.0 - 0.001 * i) for i in range(200)) + _line(8200, None)
    run, src = read(tmp_path, text)
    assert src.format == "text_log:megatron"
    loss = values(run, "loss")
    assert len(loss) == 201 and loss[8000] == pytest.approx(3.0)
    assert math.isnan(loss[8200])


def test_megatron_nan_counter_marks_the_missing_loss(tmp_path):
    # Megatron stepping the optimiser itself: the NaN iteration is skipped and counted
    run, _ = read(tmp_path, _line(10, 2.5) + _line(11, 2.4) + _line(12, None, skipped=1, nan=1))
    loss = values(run, "loss")
    assert loss[10] == pytest.approx(2.5) and math.isnan(loss[12])


@pytest.mark.parametrize("lines", [
    # the fp16 loss-scale search: every iteration of the interval skipped, none NaN; the loss was finite
    [_line(10, None, skipped=10, scale=8388608.0), _line(20, 10.05), _line(30, 9.8)],
    [_line(10, 2.5), _line(20, None, skipped=10, scale=32768.0), _line(30, 2.4)],
    # an excerpt cut before its counters: nothing says the iterations were not skipped
    [_line(10, 2.5), _line(20, None).split(" | number of skipped")[0] + " |\n", _line(30, 2.4)],
])
def test_megatron_missing_loss_stays_missing(tmp_path, lines):
    run, _ = read(tmp_path, "".join(lines))
    loss = values(run, "loss") if "loss" in run.metrics else {}
    assert not any(math.isnan(v) for v in loss.values())
    assert 20 not in loss or "lm loss" in lines[1]
