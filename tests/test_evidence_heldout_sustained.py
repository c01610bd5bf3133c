"""A held-out loss that drifts up after its best with the scatter of a real evaluation set (no unbroken run of rises),
under a training loss that keeps falling: memorisation read by ranks (heldout_trend.sustained_climb, Mann-Kendall),
and the same surface left alone where the task metric still improves or the values only wobble around a level."""

from __future__ import annotations

import numpy as np

from traindoc.diagnosis.ranking import explain_away
from traindoc.evidence import heldout_trend
from traindoc.evidence.detectors import code_lint, data
from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run, Series

# 17 epochs: the held-out loss is best at epoch 6 (step 60), then drifts up 12 % with two dips on the way (the shape
# of Chollet's Jena GRU), while the training loss falls at every epoch
TRAIN = np.geomspace(0.32, 0.205, 17)
VAL = np.array([0.274, 0.266, 0.2655, 0.2663, 0.268, 0.2644,
                0.2658, 0.2672, 0.2728, 0.2801, 0.2750, 0.2774, 0.2810, 0.2855, 0.2941, 0.2982, 0.2973])
# the same values after the best, reordered so that they only wobble around a level
WOBBLE = np.concatenate([VAL[:6], VAL[6:][[9, 0, 8, 3, 10, 1, 7, 4, 2, 6, 5]]])


def _run(train: np.ndarray, val: np.ndarray, accuracy: np.ndarray | None = None) -> Run:
    run = Run()
    steps = np.arange(1, train.size + 1) * 10
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    if accuracy is not None:
        run.add_series(Series("eval_accuracy", steps, accuracy, "run/train.log"))
    return run.finalize()


def test_a_scattered_but_sustained_climb_is_a_trend() -> None:
    got = heldout_trend.sustained_climb(VAL, np.arange(1, 18) * 10.0, _run(TRAIN, VAL).series("loss"))
    assert got is not None and got[0] == 12 and got[1] >= heldout_trend.SUSTAINED_Z
    assert got[2] <= -heldout_trend.SUSTAINED_Z
    assert heldout_trend.rises_to_end(VAL, 5) == 0  # the last value dips: the unbroken-rises reading misses it


def test_overfitting_fires_at_the_best_evaluation_without_the_late_wobble_cap() -> None:
    f = data.detect_overfitting(_run(TRAIN, VAL))
    assert len(f) == 1 and f[0].step == 60
    # a trend, no longer the 0.3 of a late edge-up near the best; within 25 % of the best and 1.45x the training
    # loss no material gap has opened, so it is listed, not reported
    assert f[0].strength == data.SUSTAINED_STRENGTH < 0.5
    assert any("Mann-Kendall" in e for e in f[0].evidence)
    # the same trend past the late-edge-up test (the held-out loss now 1.6x the training loss): the trend reading
    # adds nothing there, the old rule decides as before (no task metric: UNJUDGED)
    f = data.detect_overfitting(_run(TRAIN * 0.85, VAL))
    assert len(f) == 1 and f[0].strength == data.UNJUDGED


def test_a_flat_task_metric_does_not_lift_the_listing() -> None:
    acc = np.concatenate([np.linspace(0.60, 0.80, 6), np.full(11, 0.80) + 0.002 * np.array(
        [1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1])])
    f = data.detect_overfitting(_run(TRAIN, VAL, acc))
    assert len(f) == 1 and f[0].strength <= data.SUSTAINED_STRENGTH


def test_the_same_values_as_a_wobble_keep_the_late_edge_up_cap() -> None:
    assert heldout_trend.sustained_climb(WOBBLE, np.arange(1, 18) * 10.0, _run(TRAIN, WOBBLE).series("loss")) is None
    assert all(f.strength <= 0.3 for f in data.detect_overfitting(_run(TRAIN, WOBBLE)))


def test_a_task_metric_that_keeps_improving_keeps_it_context() -> None:
    # the held-out loss edges up from over-confidence while the held-out accuracy improves to the end: healthy
    acc = np.linspace(0.60, 0.80, 17)
    f = data.detect_overfitting(_run(TRAIN, VAL, acc))
    assert f and all(x.strength <= 0.25 for x in f)


def test_a_training_loss_that_stops_falling_is_no_sustained_climb() -> None:
    flat = np.concatenate([TRAIN[:6], TRAIN[5] + 0.002 * np.array([1, -1, 0.5, -0.5, 1, -1, 0.3, -0.3, 0.8, -0.8, 0])])
    assert heldout_trend.sustained_climb(VAL, np.arange(1, 18) * 10.0, _run(flat, VAL).series("loss")) is None


def test_a_short_stretch_after_the_best_is_not_read() -> None:
    val = np.concatenate([VAL[:12], [VAL[5] - 0.001], VAL[13:]])  # the best moves to epoch 13: 5 points after it
    assert heldout_trend.sustained_climb(val, np.arange(1, 18) * 10.0, _run(TRAIN, val).series("loss")) is None


def test_gradients_never_cleared_explain_a_held_out_rise() -> None:
    # the code shows zero_grad once per epoch (0.5) and the held-out loss turned up (0.68): the summed gradients'
    # growing step explains the rise, so overfitting is discounted
    fs = [Finding("detect_overfitting", "overfitting", 0.68, "x", []),
          Finding("detect_code_zero_grad_missing", "zero_grad_missing", 0.5, "y", [])]
    scores, why = explain_away({"overfitting": 0.68, "zero_grad_missing": 0.5}, fs)
    assert scores["overfitting"] == 0.34 and why["overfitting"] == "zero_grad_missing"
    # below 0.5 the code reading explains nothing
    scores, why = explain_away({"overfitting": 0.68, "zero_grad_missing": 0.45}, fs)
    assert scores["overfitting"] == 0.68 and "overfitting" not in why


_NO_ZERO_GRAD = ("def train(model, opt, batches):\n    for b in batches:\n        loss = model(b)\n"
                 "        loss.backward()\n        opt.step()\n")


def _code_run(tmp_path, val: np.ndarray) -> Run:
    code = tmp_path / "train.py"
    code.write_text(_NO_ZERO_GRAD)
    train = np.array([1.59, 1.93, 1.36, 1.26, 1.31, 1.39])  # unstable, never 1.5x its minimum: no training harm
    run = Run()
    steps = np.arange(train.size, dtype=float)
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log", "val_loss"))
    run.code_files = [str(code)]
    return run.finalize()


def test_code_zero_grad_missing_confirmed_by_a_held_out_loss_that_turns_up(tmp_path) -> None:
    # the loop never clears its gradients; the held-out loss is best at step 2 (1.69) and ends 1.21x above it
    f = code_lint.detect_code_zero_grad_missing(_code_run(tmp_path, np.array([2.60, 1.74, 1.69, 1.78, 1.95, 2.04])))
    assert f and f[0].strength == code_lint.CODE_ZERO_GRAD_WITH_LOSS
    assert "reached 1.69 at step 2 and ends at 2.04 (1.21x)" in f[0].evidence[-1]


def test_code_zero_grad_missing_beside_a_held_out_loss_that_keeps_improving_stays_at_half(tmp_path) -> None:
    for val in (np.array([2.60, 1.74, 1.69, 1.60, 1.55, 1.52]),   # keeps improving
                np.array([2.60, 1.74, 1.69, 1.72, 1.70, 1.73])):  # edges up 2 %, within eval-to-eval noise
        f = code_lint.detect_code_zero_grad_missing(_code_run(tmp_path, val))
        assert f and f[0].strength == 0.5 and len(f[0].evidence) == 1, f
