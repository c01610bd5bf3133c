"""A held-out loss that climbs as a trend under a falling training loss, with a held-out task metric that got worse
at each of its last >= 4 evaluations after the loss's minimum (detect_overfitting's CORROBORATED_STRENGTH): two
independent trends agree, so memorisation is confirmed; a metric that only wobbles, a perplexity (exp of the same
loss) or a training loss that does not fall leave the finding where it was."""

from __future__ import annotations

import numpy as np

from traindoc.evidence import heldout
from traindoc.evidence.detectors import data
from traindoc.ingest.model import Run, Series

# ten validations (Marian's shape): the held-out cross-entropy is best at the 5th, then rises ~4 % at each of the
# last five while the training cost keeps falling
TRAIN = np.array([3.0, 2.5, 2.3, 2.2, 2.15, 2.1, 2.05, 2.0, 1.97, 1.95])
VAL = np.array([1.9, 1.63, 1.55, 1.526, 1.524, 1.534, 1.547, 1.564, 1.580, 1.596])
BLEU_FALLS = np.array([20.0, 25.0, 27.5, 28.9, 29.31, 29.23, 29.03, 28.92, 28.83, 28.74])
# the same late values reordered: a level with scatter, not a trend
BLEU_WOBBLES = np.array([20.0, 25.0, 27.5, 28.9, 29.31, 28.83, 29.23, 28.74, 29.03, 28.92])


def _run(train: np.ndarray, val: np.ndarray, name: str | None = None, metric: np.ndarray | None = None) -> Run:
    run = Run()
    steps = np.arange(1, train.size + 1) * 5000
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    if name is not None and metric is not None:
        run.add_series(Series(name, steps, metric, "run/train.log"))
    return run.finalize()


def _strength(run: Run) -> float:
    found = data.detect_overfitting(run)
    assert len(found) == 1
    return found[0].strength


def test_a_task_metric_worsening_with_the_heldout_loss_confirms_memorisation() -> None:
    f = data.detect_overfitting(_run(TRAIN, VAL, "eval_translation", BLEU_FALLS))
    assert f and f[0].strength >= data.CORROBORATED_STRENGTH
    assert any("got worse at each of its last 5 evaluations" in e for e in f[0].evidence)
    assert _strength(_run(TRAIN, VAL, "eval_bleu", BLEU_FALLS)) >= data.CORROBORATED_STRENGTH


def test_no_metric_a_wobbling_metric_or_a_perplexity_leave_it_unconfirmed() -> None:
    assert _strength(_run(TRAIN, VAL)) < data.CORROBORATED_STRENGTH
    assert _strength(_run(TRAIN, VAL, "eval_bleu", BLEU_WOBBLES)) < data.CORROBORATED_STRENGTH
    assert _strength(_run(TRAIN, VAL, "eval_ppl", np.exp(VAL))) < data.CORROBORATED_STRENGTH


def test_a_training_loss_that_rises_with_it_is_not_corroborated() -> None:
    rising = TRAIN.copy()
    rising[5:] = [2.6, 2.9, 3.2, 3.5, 3.8]  # both losses climb: instability, not memorisation
    found = data.detect_overfitting(_run(rising, VAL, "eval_bleu", BLEU_FALLS))
    assert all(f.strength < data.CORROBORATED_STRENGTH for f in found)


def test_marian_translation_is_a_higher_is_better_task_metric() -> None:
    run = _run(TRAIN, VAL, "eval_translation", BLEU_FALLS)
    (m,) = [m for m in heldout.task_metrics(run) if m.name == "eval_translation"]
    assert m.top == 100.0 and heldout.worsens_to_end(m, 25000) == 5
