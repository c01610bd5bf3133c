"""The calibration fit weighs a committed corpus by the square root of its number of runs
(tools/fit_calibration.balance_corpora): a big corpus of generated runs must not set the curves alone for a small one
whose runs come from another population."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from traindoc.diagnosis.ranking import calibrate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from fit_calibration import CORPUS_SIZE_EXPONENT, balance_corpora, fit  # noqa: E402


def _runs(corpus: str, n: int, hit: float, score: float, rng: np.random.Generator, start: int) -> list[dict]:
    """n runs of `corpus`, each with one finding of lr_too_high at `score`, the label a share `hit` of the time."""
    return [{"run": f"{corpus}/{start + i}", "corpus": corpus, "cause": "lr_too_high", "score": score,
             "y": int(u < hit), "weight": 2.0} for i, u in enumerate(rng.uniform(0, 1, n))]


def test_a_corpus_weighs_by_the_root_of_its_size_and_the_total_is_kept() -> None:
    rng = np.random.default_rng(0)
    rows = _runs("big", 90, 0.1, 0.5, rng, 0) + _runs("small", 10, 0.9, 0.5, rng, 0)
    # a second row for some runs: weights are per run, not per row
    rows += [dict(r, cause="overfitting") for r in rows[:30]]
    synth = [{"run": "synthetic/x/0", "cause": "lr_too_high", "score": 0.9, "y": 1, "weight": 1.0}]
    out = balance_corpora(rows + synth)
    per_run = {r["run"]: r["weight"] for r in out if r.get("corpus")}
    big = sum(w for k, w in per_run.items() if k.startswith("big/"))
    small = sum(w for k, w in per_run.items() if k.startswith("small/"))
    assert CORPUS_SIZE_EXPONENT == 0.5
    assert abs(big / small - (90 / 10) ** 0.5) < 1e-9 and abs(big + small - 2.0 * 100) < 1e-9
    assert out[-1] == synth[0]  # a row of no committed corpus keeps its weight
    # one corpus alone: nothing to balance
    assert balance_corpora(rows[:90]) == rows[:90]


def test_a_small_corpus_is_not_outvoted_by_a_big_one() -> None:
    rng = np.random.default_rng(1)
    # the same score is the fault 1 time in 10 in the big corpus and 9 in 10 in the small one; enough negatives and
    # positives on both sides for lr_too_high's own curve
    rows = _runs("big", 180, 0.1, 0.5, rng, 0) + _runs("small", 20, 0.9, 0.5, rng, 0)
    rows += _runs("big", 20, 1.0, 0.95, rng, 1000) + _runs("small", 20, 1.0, 0.95, rng, 1000)
    table = fit(rows)
    p = calibrate("lr_too_high", 0.5, table)
    # 200 runs against 40: per run, the 180 and 20 runs at 0.5 mix to a hit rate of 0.18; by the root of the
    # sizes each big run weighs 1/sqrt(200) and each small one 1/sqrt(40), a mix of 0.8 x 0.1 + 0.2 x 0.9 = 0.26
    assert 0.2 < p < 0.32
    unbalanced = calibrate("lr_too_high", 0.5, fit([{k: v for k, v in r.items() if k != "corpus"} for r in rows]))
    assert unbalanced < 0.17 and p - unbalanced > 0.05
