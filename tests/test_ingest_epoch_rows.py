"""Shapes of the rasbt/deeplearning-models notebooks (tests/corpus/realworld/g20-rasbt-*) read by the generic text
rules: a bare split word with a percentage ("Train: 95.37% | Validation: 81.92%") is that split's accuracy, a "Best
Validation (Ep. 097): 82.10%" running maximum is dropped, TF1's "Minibatch: 050 | Cost: 0.693" counter is a position
that restarts every epoch, "Train/Valid ACC: a/b" holds two splits, and an epoch row after the loop's counted lines
closes the epoch at the last step. Small synthetic logs in those shapes (values made up); each shape has a reading
case and a case it must leave alone."""

from __future__ import annotations

from collections.abc import Callable

from textlog_support import load_text as _log
from textlog_support import points as _points


def _restarts(run) -> list[str]:
    return [e.message for e in run.events if e.tag == "restart"]


def _rasbt_pytorch(epochs: int = 4) -> str:
    out = []
    for e in range(1, epochs + 1):
        for b in (0, 100, 200, 300):
            out.append(f"Epoch: {e:03d}/{epochs:03d} | Batch {b:04d}/0351 | Loss: {2.3 - 0.1 * e - 0.001 * b:.4f}")
        best = max(range(1, e + 1), key=lambda k: 30 + 5 * k)
        out.append(f"Epoch: {e:03d}/{epochs:03d} | Train: {30 + 6 * e:.2f}% | Validation: {30 + 5 * e:.2f}% "
                   f"| Best Validation (Ep. {best:03d}): {30 + 5 * best:.2f}%")
        out.append(f"Time elapsed: {0.9 * e:.2f} min")
    return "\n".join(out) + "\n"


def test_bare_split_percentages_are_accuracies_at_the_epoch_end(tmp_path):
    # fires: "Train: 36.00% | Validation: 35.00%" is the epoch's accuracy per split, at the epoch's last batch
    run = _log(tmp_path, _rasbt_pytorch())
    assert _points(run, "accuracy") == [(300, 36.0), (651, 42.0), (1002, 48.0), (1353, 54.0)]
    assert _points(run, "eval_accuracy") == [(300, 35.0), (651, 40.0), (1002, 45.0), (1353, 50.0)]
    assert len(run.series("loss")) == 16
    assert not _restarts(run)  # the epoch row no longer sends the step back to its epoch number
    # the running best and its "Ep. k" are no series
    assert not [n for n in run.metrics if "best" in n.lower() or n.lower().startswith("ep")]


def test_progress_bar_percent_after_a_split_word_is_no_accuracy(tmp_path):
    # silent: tqdm's "Train: 27%|###| 95/351" and a whole percent are progress, not an accuracy
    text = "".join(f"Train: {p}%|{'#' * (p // 10)}{' ' * (10 - p // 10)}| {p * 351 // 100}/351 [00:0{p // 20}<00:10]"
                   f" loss={2.0 - p / 100:.3f}\n" for p in (10, 40, 70, 100))
    run = _log(tmp_path, text)
    assert run.series("accuracy") is None and run.series("eval_accuracy") is None


def test_best_without_its_epoch_is_left_as_it_was(tmp_path):
    # silent: a "best" with no "(Ep. k)" of where it was reached is not the dropped shape
    text = "".join(f"epoch {e} | loss: {1 / e:.3f} | best_loss: {1 / e:.3f}\n" for e in range(1, 5))
    run = _log(tmp_path, text)
    assert [n for n in run.metrics if "best_loss" in n]  # read as before this rule


def _counted_epochs(counts: list[tuple[int, ...]], line: Callable[[int, int], str],
                    row: Callable[[int], str]) -> list[str]:
    """Lines of a log that prints a counter per logging interval (`line(epoch, count)`) and closes each epoch with a
    row (`row(epoch)`); `counts[e - 1]`: the counts epoch e prints."""
    out = []
    for e, per_epoch in enumerate(counts, start=1):
        out += [line(e, b) for b in per_epoch]
        out.append(row(e))
    return out


def _minibatch(e: int, b: int) -> str:
    return f"Minibatch: {b:04d} | Cost: {2.3 - 0.2 * e - b / 10000:.3f}"


def _tf1(epochs: int = 3) -> str:
    out = _counted_epochs([(200, 400, 600)] * epochs, _minibatch, lambda e: (
        f"Epoch: {e:03d} | AvgCost: {2.2 - 0.2 * e:.3f} | Train/Valid ACC: {0.1 * e:.3f}/{0.09 * e:.3f}"))
    out.append("Test ACC: 0.250")
    return "\n".join(out) + "\n"


def test_tf1_minibatch_counter_is_a_restarting_position(tmp_path):
    # fires: "Minibatch: 0200" is the position inside the epoch, no metric; the epochs follow one another
    run = _log(tmp_path, _tf1())
    assert run.series("Minibatch") is None and run.series("minibatch") is None
    # each epoch goes on from the previous one's largest count plus one logging interval (200)
    assert [s for s, _ in _points(run, "loss")] == [200, 400, 600, 1000, 1200, 1400, 1800, 2000, 2200]
    assert not _restarts(run)
    # "Train/Valid ACC: 0.100/0.090": the training value and the held-out value, at the epoch's last step
    assert _points(run, "accuracy") == [(600, 0.1), (1400, 0.2), (2200, 0.3)]
    assert _points(run, "eval_accuracy") == [(600, 0.09), (1400, 0.18), (2200, 0.27)]


def test_global_minibatch_counter_stays_global(tmp_path):
    # silent: a counter that never goes back is the global step, unchanged, even with epoch rows between
    text = "".join(f"Minibatch: {b} | Cost: {1 / b:.4f}\n" + (f"Epoch: {b // 300} | AvgCost: {1 / b:.4f}\n"
                                                              if b % 300 == 0 else "")
                   for b in range(100, 1300, 100))
    run = _log(tmp_path, text)
    assert [s for s, _ in _points(run, "loss")] == list(range(100, 1300, 100))
    assert not _restarts(run)


def test_per_epoch_rows_alone_keep_their_epoch(tmp_path):
    # silent: a log of epoch rows only, no counted lines: each row stays at its epoch
    text = "".join(f"Epoch: {e:03d} | Train: {50 + e:.2f}% | Validation: {45 + e:.2f}%\n" for e in range(1, 6))
    run = _log(tmp_path, text)
    assert [s for s, _ in _points(run, "accuracy")] == [1, 2, 3, 4, 5]
    assert [s for s, _ in _points(run, "eval_accuracy")] == [1, 2, 3, 4, 5]



def _appended_runs(epochs: int = 3, per_epoch: int = 4, runs: int = 2) -> str:
    # a script that logs a global "Step N, Loss: x" every 100 steps and an epoch row, run twice into one file
    counts = [tuple(range(100 * per_epoch * e + 100, 100 * per_epoch * (e + 1) + 1, 100)) for e in range(epochs)]
    out: list[str] = []
    for _ in range(runs):
        out += _counted_epochs(counts, lambda e, step: f"Step {step}, Loss: {6.0 / (1 + step / 400):.4f}",
                               lambda e: f"Epoch {e} completed. Average loss: {6.0 / (1 + e):.4f}")
        out.append("Training completed!")
    return "\n".join(out) + "\n"


def test_second_appended_run_goes_on_counting_after_its_restart(tmp_path):
    # fires: the counter goes back once (the second run), then rises again across that run's epoch rows: the second
    # run follows the first at one logging interval, and its later epochs are no longer pushed a whole epoch further
    run = _log(tmp_path, _appended_runs())
    steps = [s for s, _ in _points(run, "loss")]
    assert steps == list(range(100, 1300, 100)) + list(range(1400, 2600, 100))


def test_counter_that_restarts_every_epoch_still_restarts_at_an_equal_count(tmp_path):
    # silent: after the counter has gone back, an epoch whose count only comes back to the previous epoch's largest
    # (one print at its end) restarted as well, and goes after the previous epoch
    lines = _counted_epochs([(200, 400, 600), (200, 400, 600), (600,)], _minibatch,
                            lambda e: f"Epoch: {e:03d} | AvgCost: {2.2 - 0.2 * e:.3f}")
    run = _log(tmp_path, "\n".join(lines) + "\n")
    assert [s for s, _ in _points(run, "loss")] == [200, 400, 600, 1000, 1200, 1400, 2200]
