"""Look-alike listings (a symptom several causes share, listed for each because the log cannot tell them apart) are
calibrated by a model fitted on listings alone (ranking.LISTING), not by each cause's own curve: equal listings stay
equal, a cause with evidence of its own keeps its curve, a cause listed often enough gets its listings' hit rate on
the shared slope, and a listing is never reported."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from traindoc.diagnosis.ranking import LISTING, calibrate, listing_causes, listing_key, rank_causes
from traindoc.evidence.finding import Finding

ROOT = Path(__file__).resolve().parents[1]

# per-cause curves as different as the shipped ones that broke the not-learning ties (docs: ranking.py's header)
TABLE = {"shared": {"a": 2.5, "b": 0.0},
         "per_cause": {"data_pipeline_bug": {"a": 3.51, "b": 0.0}, "vanishing_gradients": {"a": 2.91, "b": 0.77},
                       LISTING: {"a": 2.0, "b": -0.2}}}


def listing(cause: str, strength: float) -> Finding:
    return Finding("detect_x", cause, strength, "the run does not learn; the log cannot say why", ["loss at ln 10"],
                   10, {"ambiguous": True, "listing": True})


def test_a_tie_between_look_alike_listings_stays_a_tie() -> None:
    fs = [listing("data_pipeline_bug", 0.39), listing("vanishing_gradients", 0.39)]
    for table in (TABLE, {k: v for k, v in TABLE.items() if k != "per_cause"} | {"per_cause": {}}):
        conf = {r.cause: r.confidence for r in rank_causes(fs, table=table)}
        assert conf["data_pipeline_bug"] == conf["vanishing_gradients"] < 0.5
    # the causes' own curves would have split them by their intercepts (0.17 against 0.34)
    assert calibrate("vanishing_gradients", 0.39, TABLE) - calibrate("data_pipeline_bug", 0.39, TABLE) > 0.1


def test_listings_keep_the_detectors_stated_order() -> None:
    fs = [listing("vanishing_gradients", 0.38), listing("data_pipeline_bug", 0.39), listing("dead_units", 0.42)]
    assert [r.cause for r in rank_causes(fs, table=TABLE)] == ["dead_units", "data_pipeline_bug",
                                                               "vanishing_gradients"]


def test_a_cause_with_evidence_of_its_own_keeps_its_curve() -> None:
    own = Finding("detect_y", "vanishing_gradients", 0.3, "grad norm under 1e-7", ["step 10"], 10, {})
    fs = [listing("data_pipeline_bug", 0.39), listing("vanishing_gradients", 0.38), own]
    assert listing_causes(fs) == {"data_pipeline_bug"}
    by = {r.cause: r for r in rank_causes(fs, table=TABLE)}
    assert by["vanishing_gradients"].confidence == calibrate("vanishing_gradients", by["vanishing_gradients"].score,
                                                             TABLE)
    assert by["data_pipeline_bug"].confidence == calibrate("data_pipeline_bug", 0.39, TABLE, listing=True)


def test_a_listing_is_never_reported_whatever_its_model_says() -> None:
    steep = {"shared": {"a": 1.0, "b": 0.0}, "per_cause": {LISTING: {"a": 1.0, "b": 6.0}}}
    assert calibrate(LISTING, 0.42, steep) > 0.9  # what the model says...
    assert calibrate("dead_units", 0.42, steep, listing=True) < 0.5  # ...a listing stays below the threshold
    assert max(r.confidence for r in rank_causes([listing("dead_units", 0.42)], table=steep)) < 0.5


def test_the_listing_model_is_fitted_on_listings_alone() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from fit_calibration import MIN_PER_CLASS, fit

    rng = np.random.default_rng(0)
    rows = [{"cause": c, "score": float(s), "y": int(y), "weight": 2.0}
            for c in ("dead_units", "lr_too_low") for s, y in zip(rng.uniform(0.05, 0.95, 60),
                                                                  rng.uniform(0, 1, 60) < 0.5, strict=True)]
    # look-alikes listed at chance: dead_units right 1 time in 5, frozen_params 1 in 2, lr_too_low too rarely
    # listed to get an intercept of its own
    lst = [{"cause": listing_key(c), "score": s, "y": int(u < hit), "weight": 2.0}
           for c, s, hit, n in (("dead_units", 0.42, 0.2, 200), ("frozen_params", 0.4, 0.5, 200),
                                ("lr_too_low", 0.36, 0.2, MIN_PER_CLASS))
           for u in rng.uniform(0, 1, n)]
    alone, both = fit(rows), fit(rows + lst)
    assert both["shared"] == alone["shared"]
    assert {k: v for k, v in both["per_cause"].items() if not k.startswith(LISTING)} == alone["per_cause"]
    shared, du, fp = (both["per_cause"][k] for k in (LISTING, listing_key("dead_units"), listing_key("frozen_params")))
    assert du["a"] == fp["a"] == shared["a"] and listing_key("lr_too_low") not in both["per_cause"]
    assert 0.12 < calibrate("dead_units", 0.42, both, listing=True) < 0.3  # near its listings' hit rate, 0.2...
    assert calibrate("frozen_params", 0.4, both, listing=True) > 0.35  # ...and frozen_params' 0.5, capped below 0.5
    assert calibrate("lr_too_low", 0.36, both, listing=True) == calibrate("x", 0.36, {"per_cause": {LISTING: shared}},
                                                                          listing=True)
