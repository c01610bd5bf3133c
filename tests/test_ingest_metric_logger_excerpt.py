"""The torchvision-reference `MetricLogger` console as people paste it: header and meters kept, clock meters cut."""

from __future__ import annotations

import math

import pytest

from test_ingest_text_families import read
from test_ingest_text_logs import values


def test_metric_logger_excerpt_without_eta_is_stepped(tmp_path):
    # sdcombo-internimage-adamw-lr1e-2-nan-epoch1: the report keeps "Epoch: [e]  [i/N]" and the loss meter only; the
    # step is e * N + i as for the full line, not the line order
    run, src = read(tmp_path, (
        "Epoch: [1]  [7500/9465]  loss: 0.9978 (1.1933)\n"
        "Epoch: [1]  [8000/9465]  loss: nan (nan)\n"
    ))
    assert src.format == "text_log:metric_logger"
    loss = values(run, "loss")
    assert set(loss) == {9465 + 7500, 9465 + 8000}
    assert loss[9465 + 7500] == pytest.approx(0.9978) and math.isnan(loss[9465 + 8000])
    assert values(run, "loss_avg")[9465 + 7500] == pytest.approx(1.1933)


def test_metric_logger_full_line_reads_as_before(tmp_path):
    # the clock meters of a full line (eta included) stay out of the metrics now that "eta:" is a meter piece
    run, _ = read(tmp_path, (
        "Epoch: [0]  [  10/500]  eta: 0:10:00  lr: 0.1  loss: 2.2000 (2.2500)  time: 1.0  data: 0.1  max mem: 100\n"
        "Epoch: [0]  [  20/500]  eta: 1 day, 0:09:00  lr: 0.1  loss: 2.1000 (2.2000)  time: 1.0  data: 0.1\n"
    ))
    assert set(run.metrics) == {"lr", "loss", "loss_avg"}
    assert values(run, "loss") == {10: pytest.approx(2.2), 20: pytest.approx(2.1)}


@pytest.mark.parametrize("line", [
    # meters without the colon, or run together with single spaces: not the MetricLogger layout
    "Epoch: [3]  [ 12/40]  loss 0.5",
    "Epoch: [3] [12/40] loss: 0.5 acc: 0.9",
])
def test_metric_logger_excerpt_silent_on_look_alikes(tmp_path, line):
    _, src = read(tmp_path, line + "\n")
    assert src.format != "text_log:metric_logger"
