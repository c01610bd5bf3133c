"""Per-batch lines that print only their epoch ("BMN training loss(epoch 0): tem_loss: 1.18, ..."; corpus:
tests/corpus/realworld/g7-bmn-22-pem-loss-nan-no-positive-in-batch). Read at the epoch, every batch of an epoch would
land on one step and only the last survive; two training lines of one epoch with the same metrics and other values
make them successive steps. Each case where the rule must not fire keeps the epoch as the step."""

from __future__ import annotations

import math
from pathlib import Path

from traindoc.ingest.loader import load_run

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _run(tmp_path: Path, text: str):
    (tmp_path / "train.log").write_text(text)
    return load_run([tmp_path])


def test_bmn_batches_of_one_epoch_are_successive_steps() -> None:
    run = load_run([REALWORLD / "g7-bmn-22-pem-loss-nan-no-positive-in-batch" / "run"])
    loss, reg = run.series("loss"), run.series("pem reg_loss")
    assert loss is not None and reg is not None
    assert loss.steps.tolist() == [0, 1, 2, 3]
    assert [math.isfinite(v) for v in loss.values] == [True, True, False, False]
    assert all(math.isfinite(v) for v in reg.values)


def test_batches_over_epochs_count_on_and_keep_the_epoch_clock(tmp_path: Path) -> None:
    lines = [f"train loss(epoch {e}): loss: {2.0 - 0.1 * (3 * e + b):.2f}" for e in range(3) for b in range(3)]
    run = _run(tmp_path, "\n".join([*lines, "epoch 2: val_loss: 1.5"]) + "\n")
    loss, val = run.series("loss"), run.series("eval_loss")
    assert loss is not None and loss.steps.tolist() == list(range(9))
    assert run.epoch_starts == [(0, 0), (3, 1), (6, 2)]
    assert val is not None and val.steps.tolist() == [8]  # the held-out line at the last training step


def test_one_line_per_epoch_stays_at_the_epoch(tmp_path: Path) -> None:
    run = _run(tmp_path, "".join(f"epoch {e}: loss: {1.0 / (e + 1):.3f}\n" for e in range(5)))
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == [0, 1, 2, 3, 4]


def test_a_line_printed_twice_is_no_second_batch(tmp_path: Path) -> None:
    text = "".join(f"epoch {e}: loss: {1.0 / (e + 1):.3f}\n" * 2 for e in range(4))
    loss = _run(tmp_path, text).series("loss")
    assert loss is not None and loss.steps.tolist() == [0, 1, 2, 3]


def test_other_metrics_of_the_same_epoch_join_its_step(tmp_path: Path) -> None:
    text = "".join(f"epoch {e}: loss: {1.0 / (e + 1):.3f}\nepoch {e}: acc: {0.5 + 0.1 * e:.2f}\n" for e in range(4))
    run = _run(tmp_path, text)
    assert run.series("loss").steps.tolist() == [0, 1, 2, 3]
    assert run.series("accuracy").steps.tolist() == [0, 1, 2, 3]


def test_a_log_with_a_counter_of_its_own_keeps_its_steps(tmp_path: Path) -> None:
    text = "".join(f"step {10 * (e + 1)}: loss: {1.0 / (e + 1):.3f}\nepoch {e}: lr: 0.1\nepoch {e}: lr: 0.05\n"
                   for e in range(3))
    loss = _run(tmp_path, text).series("loss")
    assert loss is not None and loss.steps.tolist() == [10, 20, 30]
