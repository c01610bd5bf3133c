"""A training loss that falls towards minus infinity: the objective has no lower bound (detectors/data.py,
detect_loss_unbounded_below)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
NAN = float("nan")


def loss_run(values: list[float], accuracy: list[float] | None = None, name: str = "loss") -> Run:
    run = Run()
    steps = 50 * np.arange(len(values))
    run.add_series(Series(name, steps, np.array(values, dtype=float), "run/train.log"))
    if accuracy is not None:
        run.add_series(Series("accuracy", steps, np.array(accuracy, dtype=float), "run/train.log"))
    return run.finalize()


def test_fires_at_the_start_of_the_run_out_to_minus_infinity() -> None:
    # a binary cross-entropy fed raw 0-16 pixel values as targets: negative, then ~3-10x per interval
    out = data.detect_loss_unbounded_below(loss_run([1.7e7, 19.6, -13.4, -145.2, -683.1, -2291.4, -6880.8]))
    assert len(out) == 1
    f = out[0]
    assert f.cause == "data_pipeline_bug" and f.step == 150 and f.strength < 0.5
    assert "minus infinity" in f.evidence[0]


def test_fires_when_nan_follows_the_run_out() -> None:
    out = data.detect_loss_unbounded_below(loss_run([0.7, -2.0, -5.0, -12.0, -40.0, NAN, NAN]))
    assert len(out) == 1 and out[0].step == 50


def test_silent_on_a_negative_loss_that_settles() -> None:
    # a density's NLL goes below zero by design and approaches its floor with shrinking steps
    assert data.detect_loss_unbounded_below(loss_run([1.2, -0.5, -1.4, -1.9, -2.1, -2.2, -2.25])) == []
    # noise around a negative level (an RL policy loss) does not double three times in a row
    assert data.detect_loss_unbounded_below(loss_run([-0.3, -0.6, -0.2, -0.9, -0.4, -1.5, -1.1])) == []


def test_silent_on_a_short_or_shallow_run_out() -> None:
    assert data.detect_loss_unbounded_below(loss_run([2.0, 1.0, -2.0, -4.0, -8.0])) == []  # two doublings only
    assert data.detect_loss_unbounded_below(loss_run([2.0, -0.01, -0.02, -0.04, -0.08])) == []  # above -1
    assert data.detect_loss_unbounded_below(loss_run([2.3, 1.1, 0.6, 0.4, 0.3, 0.25])) == []  # an ordinary loss


def test_left_to_the_classifier_rule_where_an_accuracy_is_logged() -> None:
    run = loss_run([0.7, -2.0, -5.0, -12.0, -40.0], accuracy=[0.5, 0.5, 0.5, 0.5, 0.5])
    assert data.detect_loss_unbounded_below(run) == []
    assert [f.detector for f in data.detect_data_pipeline_bug(run)] == ["detect_data_pipeline_bug"]


def test_corpus_vae_with_unnormalised_bce_targets_reads_data_pipeline_bug_first() -> None:
    run = load_run([REALWORLD / "s30-g8-jax-ai-stack-digits-vae-unnormalised-bce-targets-loss-to-minus-inf" / "run"])
    (f,) = data.detect_loss_unbounded_below(run)
    assert f.step == 150
