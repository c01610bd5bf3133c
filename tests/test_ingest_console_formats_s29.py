"""Three consoles first met in real-world healthy logs (issue 8, session 29), each read by its own module: R's nnet
trace (_r_nnet_trace.py), syncognite's epoch lines (_syncognite_console.py) and Knet.jl's progress tuples
(_julia_symbol_tuple.py). Blind, the nnet and Knet logs were unreadable and the syncognite log had no held-out curve.
The "reads" cases load the corpus entries; the silent cases call the parsers on lines of other formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._julia_symbol_tuple import parse_julia_symbol_tuple
from traindoc.ingest.readers._r_nnet_trace import parse_r_nnet
from traindoc.ingest.readers._syncognite_console import parse_syncognite
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _points(entry: str, name: str) -> list[tuple[int, float]]:
    s = load_run([REALWORLD / entry / "run"]).series(name)
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def test_r_nnet_knitted_trace_reads_initial_and_iterations_as_the_loss():
    loss = _points("r-nnet-cc21fall2-tutorial-maxit200", "loss")
    assert loss[0] == (0, 74.6935) and loss[1] == (10, 0.4585) and loss[-1] == (200, 0.0017) and len(loss) == 21


def test_r_nnet_plain_trace_and_a_repeated_iteration():
    st = State()
    assert parse_r_nnet("# weights:  21", st) is None
    rec = parse_r_nnet("initial  value 149.099012 ", st)
    assert rec is not None and rec.step == 0 and rec.metrics == {"loss": 149.099012}
    rec = parse_r_nnet("iter  20 value 7.572288", st)
    assert rec is not None and rec.step == 20 and rec.metrics == {"loss": 7.572288}
    assert parse_r_nnet("iter  20 value 7.570662", st) is None  # printed twice: the first reading stays
    assert parse_r_nnet("final  value 7.434628 ", st) is None  # the last iterate again, at no printed iteration


@pytest.mark.parametrize("line", [
    "converged",
    "stopped after 100 iterations",
    "iter 10 loss 0.3",
    "Iteration 10, loss = 0.3",
    "value 0.3",
])
def test_r_nnet_parser_silent_on_other_lines(line: str):
    assert parse_r_nnet(line, State()) is None


def test_syncognite_reads_loss_and_validation_columns_per_epoch():
    entry = "syncognite-cpmnist-readme-40-epochs"
    loss = _points(entry, "loss")
    assert loss[0] == (1, 0.1003) and loss[-1] == (40, 0.0005) and len(loss) == 40
    acc = _points(entry, "eval_accuracy")
    assert acc[0] == (1, 0.9803) and acc[-1] == (40, 0.9941) and len(acc) == 40  # the final block adds no point
    assert _points(entry, "val_error")[0] == (1, 0.0197)


@pytest.mark.parametrize("line", [
    "Training net: data-size: 50000, chunks: 1000, batch_size: 50, threads: 8 (bz*ch): 50000",
    "       Test-error: 0.0066  test-acc: 0.9934",
    "Ep 1, loss:0.1",
    "Epoch: 1, Time: 155s, loss: 0.1",
])
def test_syncognite_parser_silent_on_other_lines(line: str):
    assert parse_syncognite(line, State()) is None


def test_knet_tuples_read_as_losses_once_the_training_value_falls():
    entry = "knet-vae-mnist-demo-100-epochs"
    loss = _points(entry, "loss")
    assert loss[0] == (10, 0.135) and loss[-1] == (100, 0.1281) and len(loss) == 10  # epoch 100 printed twice
    assert _points(entry, "eval_loss")[-1] == (100, 0.1286)


def test_knet_tuples_read_as_accuracy_when_the_training_value_rises():
    st = State()
    first = parse_julia_symbol_tuple("(:epoch, 0, :trn, 0.0993f0, :tst, 0.0971f0)", st)
    assert first is not None and first.metrics == {"trn": 0.0993, "tst": 0.0971}  # no direction yet: as printed
    rec = parse_julia_symbol_tuple("(:epoch, 1, :trn, 0.9205f0, :tst, 0.9187f0)", st)
    assert rec is not None and rec.step == 1 and rec.metrics == {"accuracy": 0.9205, "test_accuracy": 0.9187}


def test_knet_tuples_above_one_are_losses_and_named_metrics_keep_their_names():
    rec = parse_julia_symbol_tuple("(:epoch, 0, :trn, 23.43f0, :tst, 25.1f0)", State())
    assert rec is not None and rec.metrics == {"loss": 23.43, "test_loss": 25.1}
    rec = parse_julia_symbol_tuple("(:iter, 100, :loss, 3.1e-2)", State())
    assert rec is not None and rec.step == 100 and rec.metrics == {"loss": 0.031}


@pytest.mark.parametrize("line", [
    "(:epoch, 10)",  # a counter with no metric
    "(:model, 3, :trn, 0.1f0)",  # the first symbol is no counter
    "(:epoch, 1, :name, \"vae\")",
    "(i, loss(x, y)) = (1, 0.2960)",  # Julia's @show: parse_julia_show's
    "  1.119653 seconds (3.10 M allocations: 316.993 MiB, 2.83% gc time)",
])
def test_knet_parser_silent_on_other_lines(line: str):
    assert parse_julia_symbol_tuple(line, State()) is None
