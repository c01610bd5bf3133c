"""A differential candidate's own intercept (ranking.differential_key, tools/fit_calibration.py): a cause with
enough candidate examples of its own in the logs people posted is calibrated on the differential model's slope with
its own hit rate, so that a symptom's equal shares are ordered by how often each cause was the fault, not by the
row's order; causes with too few examples, or examples from a generated corpus only, keep the shared model, and
every candidate stays below the report threshold."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from traindoc.diagnosis.ranking import (
    DIFFERENTIAL,
    DIFFERENTIAL_CAP,
    calibrate_differential,
    differential_key,
    differential_ranked,
)
from traindoc.evidence.finding import Finding

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from fit_calibration import MIN_PER_CLASS, fit  # noqa: E402

SHARE = 1 / 7  # a row of six candidates left standing, none told apart: 1 / (n + 1) each


def rows(cause: str, hits: int, misses: int, corpus: str = "realworld") -> list[dict]:
    return [{"run": f"{corpus}/{cause}-{i}", "cause": differential_key(cause), "score": SHARE, "y": int(i < hits),
             "weight": 1.0, "corpus": corpus} for i in range(hits + misses)]


def candidate(cause: str) -> Finding:
    return Finding(detector="differential", cause=cause, strength=SHARE, summary="the loss does not fall",
                   numbers={"differential": "flat"})


def test_a_cause_that_is_often_the_fault_gets_its_own_intercept_and_leads_a_tie() -> None:
    table = fit(rows("frozen_params", 30, 40) + rows("lr_too_high", 10, 90) + rows("dead_units", 10, 90))
    per = table["per_cause"]
    assert DIFFERENTIAL in per
    assert per[differential_key("frozen_params")]["b"] > per[differential_key("lr_too_high")]["b"]
    assert per[differential_key("frozen_params")]["a"] == per[DIFFERENTIAL]["a"]  # the slope stays shared
    # the row's order put lr_too_high and dead_units first; the hit rates put frozen_params first
    ranked = differential_ranked([candidate("lr_too_high"), candidate("dead_units"), candidate("frozen_params")], table)
    assert [r.cause for r in ranked][0] == "frozen_params"
    assert all(r.confidence <= DIFFERENTIAL_CAP < 0.5 for r in ranked)


def test_a_cause_with_too_few_examples_keeps_the_shared_model_and_the_rows_order() -> None:
    few = MIN_PER_CLASS - 1
    table = fit(rows("lr_too_high", 20, 100) + rows("frozen_params", few, 20) + rows("dead_units", few, 20))
    per = table["per_cause"]
    assert differential_key("frozen_params") not in per and differential_key("dead_units") not in per
    shared = calibrate_differential(SHARE, table)
    assert calibrate_differential(SHARE, table, "frozen_params") == shared
    ranked = differential_ranked([candidate("dead_units"), candidate("frozen_params")], table)
    assert [r.cause for r in ranked] == ["dead_units", "frozen_params"]  # a tie stays in candidates()' order


def test_a_generated_corpus_gives_no_own_intercept() -> None:
    # the generated runs hold every fault equally often by design: their hit rates are the generator's balance
    table = fit(rows("lr_too_high", 20, 100) + rows("label_leakage", 30, 30, corpus="reallib"))
    assert DIFFERENTIAL in table["per_cause"]
    assert differential_key("label_leakage") not in table["per_cause"]


def test_a_steep_own_intercept_is_still_capped_below_the_report_threshold() -> None:
    table = {"shared": {"a": 1.0, "b": 0.0},
             "per_cause": {DIFFERENTIAL: {"a": 1.0, "b": 0.0}, differential_key("nan_inf"): {"a": 1.0, "b": 6.0}}}
    assert calibrate_differential(0.2, table, "nan_inf") > 0.9  # what the model says...
    assert differential_ranked([candidate("nan_inf")], table)[0].confidence <= DIFFERENTIAL_CAP  # ...is capped
    assert np.isclose(calibrate_differential(0.2, table, "lr_too_high"), 0.2)  # no own key: the shared model
