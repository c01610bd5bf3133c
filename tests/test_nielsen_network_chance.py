"""Nielsen's network.py (the NumPy network of *Neural Networks and Deep Learning*) and a run that never leaves chance
with no loss logged (issue 8, session 30): its `Epoch j: c / n` print read as the test accuracy
(readers/_nielsen_network_print.py), its `net.SGD(training_data, epochs, mini_batch_size, eta)` launch call read as
configuration (readers/_training_call.py), an accuracy at ~1/k at every evaluation read as never learning
(not_learning._chance_accuracy), and an LR far above its range beside it read as lr_too_high
(optimisation.detect_lr_too_high). First met in the book's own chapter-1 transcripts
(tests/corpus/realworld/g3-nndl-ch1-eta-*), unreadable blind."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textlog_support import write_run_dir
from traindoc.evidence.detectors import not_learning as nl
from traindoc.evidence.detectors.optimisation import detect_lr_too_high
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series
from traindoc.ingest.readers._nielsen_network_print import parse_nielsen_network
from traindoc.ingest.readers._training_call import call_config
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
HIGH = REALWORLD / "g3-nndl-ch1-eta-100-accuracy-at-chance-lr-too-high" / "run"
LOW = REALWORLD / "g3-nndl-ch1-eta-0.001-accuracy-creeps-lr-too-low" / "run"


def test_corpus_entries_read_the_test_accuracy_by_epoch_and_the_sgd_call():
    run = load_run([HIGH])
    acc = run.series("eval_accuracy")
    assert acc is not None and [int(s) for s in acc.steps] == [0, 1, 2, 3, 27, 28, 29]
    assert list(acc.values) == [0.1009] * 4 + [0.0982] * 3
    assert run.config_value("lr").value == 100.0 and run.config_value("batch_size").value == 10
    assert run.config_value("optimizer").value == "sgd"
    low = load_run([LOW]).series("eval_accuracy")
    assert low is not None and low.values[0] == 0.1139 and low.values[-1] == 0.2142


def test_the_print_is_read_only_whole_counted_up_and_within_its_total():
    st = State()
    rec = parse_nielsen_network("Epoch 0: 9129 / 10000", st)
    assert rec is not None and rec.step == 0 and rec.eval and rec.metrics == {"test_accuracy": 0.9129}
    assert parse_nielsen_network("Epoch 0: 9129 / 10000", st) is None  # the same epoch again: another run's line
    assert parse_nielsen_network("Epoch 1: 401 / 4200, Accuracy score: 0.0954", st) is None  # more on the line
    assert parse_nielsen_network("Epoch 2: 12000 / 10000", st) is None  # more correct than the total
    assert parse_nielsen_network("Epoch 3: 5 / 0", st) is None
    assert parse_nielsen_network("Epoch 4 complete", st) is None
    rec = parse_nielsen_network("Epoch 5: 9500 / 10000", st)
    assert rec is not None and rec.step == 5


def test_the_sgd_call_is_read_by_its_shape_and_torch_sgd_is_not():
    assert call_config(">>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)") == [
        ("optimizer", "sgd"), ("epochs", "30"), ("batch_size", "10"), ("lr", "3.0")]
    # torch's SGD: the LR second and momentum third, read as torch's positional LR, never as Nielsen's epochs/batch
    assert call_config("opt = torch.optim.SGD(model.parameters(), 0.1, 0.9)") == [("optimizer", "sgd"), ("lr", "0.1")]
    assert call_config("opt = optim.SGD(model.parameters(), 1, 0, 0, 1e-4)") == [("optimizer", "sgd"), ("lr", "1")]
    assert call_config("net.SGD(data, 30, 10, lr)") is None  # the rate is not a literal
    assert call_config("torch.optim.SGD(model.parameters(), lr=0.1)") == [("optimizer", "sgd"), ("lr", "0.1")]


def _acc_run(values: list[float], lr: float | None = None) -> Run:
    run = Run()
    steps = np.arange(len(values))
    run.add_series(Series("eval_accuracy", steps, np.array(values), "run/train.log"))
    if lr is not None:
        run.put_config(ConfigValue("lr", lr, "run/command.txt", 2, "python_call", repr(lr)))
        run.put_config(ConfigValue("optimizer", "sgd", "run/command.txt", 2, "python_call", "sgd"))
    return run.finalize()


def test_an_accuracy_at_chance_throughout_never_learned_from_its_first_point():
    got = nl.never_learned(load_run([HIGH]))
    assert got is not None and got.k == 10 and got.k_source == "accuracy" and not got.constant
    assert got.first_step == 0 and got.last_step == 29
    # a two-class constant predictor that flips its class on a 52/48 split set
    got = nl.never_learned(_acc_run([0.52, 0.52, 0.48, 0.48, 0.52, 0.48]))
    assert got is not None and got.k == 2


def test_a_slow_learner_or_a_short_or_rising_accuracy_is_not_chance():
    assert nl.never_learned(load_run([LOW])) is None  # 0.114 -> 0.214: it leaves the band
    assert nl.never_learned(_acc_run([0.10, 0.101, 0.099, 0.1])) is None  # four points: too few
    assert nl.never_learned(_acc_run([0.09, 0.095, 0.10, 0.11, 0.118])) is None  # rising through the band
    assert nl.never_learned(_acc_run([0.40, 0.55, 0.71, 0.80, 0.85])) is None


def test_lr_far_above_range_with_an_accuracy_at_chance_is_lr_too_high():
    (f,) = detect_lr_too_high(load_run([HIGH]))
    assert f.cause == "lr_too_high" and f.strength >= 0.5 and f.step == 0
    assert "never left chance" in f.evidence[0]


def test_lr_in_range_or_a_learning_run_gives_no_chance_symptom():
    assert detect_lr_too_high(_acc_run([0.1009] * 3 + [0.0982] * 3, lr=0.01)) == []  # LR inside SGD's range
    got = detect_lr_too_high(_acc_run([0.40, 0.55, 0.71, 0.80, 0.85, 0.9], lr=100.0))
    assert all("never left chance" not in e for f in got for e in f.evidence)  # the LR alone is its own reading


def test_a_written_log_reads_the_same(tmp_path):
    text = "".join(f"Epoch {e}: {1009 if e < 15 else 982} / 10000\n" for e in range(30))
    run = load_run([write_run_dir(tmp_path, text)])
    assert len(run.series("eval_accuracy").values) == 30
