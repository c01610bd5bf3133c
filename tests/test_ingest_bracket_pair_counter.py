"""Text-log reader: the "[a, b] loss: x" print (the PyTorch CIFAR tutorial's `[epoch, batch]`), whose second number is
either a batch counter that starts over every epoch or a global step that keeps rising. Constructed lines in the
format, not a transcribed log."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text


def _steps(tmp_path: Path, text: str, name: str = "loss") -> list[int]:
    run = read_text(tmp_path, text)
    s = run.series(name)
    assert s is not None, sorted(run.metrics)
    return s.steps.tolist()


def test_a_batch_counter_that_starts_over_each_epoch_keeps_rising(tmp_path: Path) -> None:
    # the tutorial's own shape: prints every 2000 mini-batches, the counter restarts at epoch 2
    text = "".join(f"[{e}, {b:5d}] loss: {2.3 - 0.1 * e - b / 1e5:.3f}\n" for e in (1, 2) for b in (2000, 4000, 6000))
    steps = _steps(tmp_path, text)
    assert steps[:3] == [2000, 4000, 6000]
    assert steps[3:] == [8000, 10000, 12000]  # epoch 2 continues after epoch 1's largest count


def test_a_counter_that_never_starts_over_is_the_global_step(tmp_path: Path) -> None:
    # "[5, 10]", "[10, 20]", ...: epoch and update count printed together; the second number rises across every change
    # of epoch, so it is the step itself and lines up with an evaluation printed at the same step
    lines = []
    for i in range(1, 7):
        lines.append(f"[{5 * i}, {10 * i:5d}] loss: {1.0 - 0.1 * i:.3f}\n")
        if i % 3 == 0:
            lines.append(f"Epoch {5 * i} step {10 * i}: val loss {1.1 - 0.05 * i:.4f}\n")
    run = read_text(tmp_path, "".join(lines))
    assert run.series("loss").steps.tolist() == [10, 20, 30, 40, 50, 60]
    assert run.series("eval_loss").steps.tolist() == [30, 60]
