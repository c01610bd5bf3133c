"""lr_too_high read from a loss or held-out accuracy that keeps falling back towards its start and recovering
(evidence/detectors/bouncing.py; docs/diagnose.md, "A loss or held-out accuracy that bounces back to its start")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import bouncing
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _loss_run(v: list[float], grad_norm: bool = False, epochs: bool = True) -> Run:
    """One row per epoch (the epoch clock starts an epoch at every row) unless `epochs` is False."""
    steps = np.arange(1, len(v) + 1)
    run = Run()
    run.add_series(Series("loss", steps, np.array(v), "run/train.log"))
    if grad_norm:
        run.add_series(Series("grad_norm", steps, np.ones(len(v)), "run/train.log"))
    if epochs:
        run.epoch_starts.extend((int(s), int(s)) for s in steps)
    return run.finalize()


# 15 rows: the loss falls 10 -> 1, then bounces to 6-8 three times and comes back each time
BOUNCING = [10.0, 6.0, 3.0, 1.2, 7.5, 1.1, 1.0, 6.8, 1.05, 0.95, 6.0, 1.0, 0.98, 0.97, 1.0]


def test_a_loss_that_bounces_half_way_back_three_times_fires_at_the_first_bounce() -> None:
    f = bouncing.detect_loss_bounces(_loss_run(BOUNCING))
    assert len(f) == 1 and f[0].cause == "lr_too_high" and f[0].step == 5 and f[0].numbers["relapses"] == 3


def test_two_bounces_or_small_ones_are_silent() -> None:
    two = BOUNCING[:10] + [1.0, 0.98, 0.97, 0.96, 0.95]
    assert bouncing.detect_loss_bounces(_loss_run(two)) == []
    # three bounces to 2.5x the best: a noisy curve, not a return towards the start
    small = [10.0, 6.0, 3.0, 1.2, 2.5, 1.1, 1.0, 2.4, 1.05, 0.95, 2.3, 1.0, 0.98, 0.97, 1.0]
    assert bouncing.detect_loss_bounces(_loss_run(small)) == []


def test_a_per_step_log_is_left_alone() -> None:
    # a single small batch's loss goes back near the start in healthy runs: only epoch histories are read
    assert bouncing.detect_loss_bounces(_loss_run(BOUNCING, grad_norm=True)) == []
    assert bouncing.detect_loss_bounces(_loss_run(BOUNCING, epochs=False)) == []


def test_the_real_nlp_tutorial_bert_at_lr_0_01() -> None:
    # graykode/nlp-tutorial#77: cost 15.2 -> 4.08, back to 12.7, 1.64 -> 10.75, 1.62 -> 8.54, ... (Adam lr 0.01)
    f = bouncing.detect_loss_bounces(load_run([REALWORLD / "g1-nlp-tutorial-77-bert-lr-0.01-oscillates" / "run"]))
    assert len(f) == 1 and f[0].step == 50 and f[0].strength == bouncing.LOSS_STRENGTH


def _acc_run(train: list[float], val_acc: list[float]) -> Run:
    steps = np.arange(1, len(train) + 1)
    run = Run()
    run.add_series(Series("loss", steps, np.array(train), "run/train.log"))
    run.add_series(Series("eval_accuracy", steps, np.array(val_acc), "run/train.log"))
    return run.finalize()


TRAIN = list(np.linspace(2.0, 0.3, 10))


def test_a_held_out_accuracy_back_at_its_start_twice_is_listed() -> None:
    acc = [0.50, 0.55, 0.62, 0.51, 0.80, 0.84, 0.52, 0.86, 0.87, 0.88]
    f = bouncing.detect_heldout_accuracy_bounces(_acc_run(TRAIN, acc))
    assert len(f) == 1 and f[0].step == 4 and f[0].strength == bouncing.ACC_STRENGTH <= 0.45


def test_a_single_drop_or_ordinary_scatter_is_silent() -> None:
    once = [0.50, 0.55, 0.62, 0.51, 0.80, 0.84, 0.83, 0.86, 0.87, 0.88]
    assert bouncing.detect_heldout_accuracy_bounces(_acc_run(TRAIN, once)) == []
    scatter = [0.50, 0.60, 0.70, 0.66, 0.75, 0.72, 0.78, 0.74, 0.80, 0.79]
    assert bouncing.detect_heldout_accuracy_bounces(_acc_run(TRAIN, scatter)) == []


def test_a_training_loss_that_did_not_fall_is_left_to_the_loss_rules() -> None:
    acc = [0.50, 0.55, 0.62, 0.51, 0.80, 0.84, 0.52, 0.86, 0.87, 0.88]
    assert bouncing.detect_heldout_accuracy_bounces(_acc_run(list(np.linspace(0.3, 2.0, 10)), acc)) == []


def test_the_real_cross_validated_question_478017() -> None:
    # val_acc 0.49 .. 0.61, back to 0.50, up to 0.86, 0.60, 0.88, back to 0.49, while the training loss falls
    f = bouncing.detect_heldout_accuracy_bounces(
        load_run([REALWORLD / "g5-statsse-478017-val-loss-jumps-lr-too-high" / "run"]))
    assert len(f) == 1 and f[0].step == 6 and f[0].numbers["relapses"] == 3
