"""A cause that leads a rival (ranking.leaders: the top score among two or more causes with evidence of their own)
gets one shared logit shift fitted on top of the per-cause curves (tools/fit_calibration._fit_leader,
ranking.LEADER): it rises where leading a rival separates the label from its curve and stays put on a tie; a lone
cause, an out-ranked one and a look-alike listing keep their curve exactly, whatever the order of the findings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from traindoc.diagnosis.ranking import LEADER, calibrate, leaders, rank_causes
from traindoc.evidence.finding import Finding

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from fit_calibration import fit  # noqa: E402


def _rows(hit_alone: float, hit_leading: float, seed: int) -> list[dict]:
    """lr_too_high at 0.5 in 200 runs alone (the label a share `hit_alone` of the time) and in 200 runs where it
    leads overfitting at 0.3 (the label `hit_leading` of the time; overfitting the label in the others)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, u in enumerate(rng.uniform(0, 1, 200)):
        rows.append({"run": f"alone/{i}", "cause": "lr_too_high", "score": 0.5, "y": int(u < hit_alone),
                     "weight": 1.0, "leader": False})
    for i, u in enumerate(rng.uniform(0, 1, 200)):
        y = int(u < hit_leading)
        rows.append({"run": f"lead/{i}", "cause": "lr_too_high", "score": 0.5, "y": y, "weight": 1.0, "leader": True})
        rows.append({"run": f"lead/{i}", "cause": "overfitting", "score": 0.3, "y": 1 - y, "weight": 1.0,
                     "leader": False})
    return rows


def test_leading_a_rival_that_separates_the_label_raises_the_leader_only() -> None:
    table = fit(_rows(0.2, 0.7, 0))
    d = table[LEADER]["d"]
    assert d > 0.5  # the curve averages 0.2 and 0.7 at the same score; the leaders are the label 0.7 of the time
    lone, lead = calibrate("lr_too_high", 0.5, table), calibrate("lr_too_high", 0.5, table, leader=True)
    assert lead - lone > 0.1 and abs(lead - 0.7) < abs(lone - 0.7)
    # a listing never takes the shift
    assert calibrate("lr_too_high", 0.5, table, listing=True, leader=True) == calibrate("lr_too_high", 0.5, table,
                                                                                       listing=True)


def test_a_tie_between_leading_and_standing_alone_leaves_the_confidence() -> None:
    table = fit(_rows(0.4, 0.4, 1))
    assert abs(table.get(LEADER, {}).get("d", 0.0)) < 0.25
    lone, lead = calibrate("lr_too_high", 0.5, table), calibrate("lr_too_high", 0.5, table, leader=True)
    assert abs(lead - lone) < 0.05


def _f(cause: str, strength: float, listing: bool = False) -> Finding:
    return Finding("detect_x", cause, strength, "x", [], 10, {"listing": True} if listing else {})


def test_leaders_need_a_rival_with_evidence_and_ignore_order() -> None:
    assert leaders({"lr_too_high": 0.6}, []) == set()
    assert leaders({"lr_too_high": 0.6, "dead_units": 0.4}, ["dead_units"]) == set()  # a listing is no rival
    assert leaders({"lr_too_high": 0.6, "overfitting": 0.4}, []) == {"lr_too_high"}
    assert leaders({"overfitting": 0.5, "lr_too_high": 0.5}, []) == {"lr_too_high", "overfitting"}  # a tie: both
    table = {"shared": {"a": 1.0, "b": 0.0}, "per_cause": {}, LEADER: {"d": 1.0}}
    fs = [_f("lr_too_high", 0.6), _f("overfitting", 0.4), _f("dead_units", 0.38, True), _f("frozen_params", 0.38, True)]
    ranked = [{r.cause: r for r in rank_causes(order, table=table, ruled_out={})} for order in (fs, fs[::-1])]
    conf = [{c: r.confidence for c, r in by.items()} for by in ranked]
    assert conf[0] == conf[1]
    assert conf[0]["lr_too_high"] == calibrate("lr_too_high", 0.6, table, leader=True) > calibrate("lr_too_high", 0.6,
                                                                                                     table)
    # out-ranked (and explained away by the LR here): its curve at its score
    assert conf[0]["overfitting"] == calibrate("overfitting", ranked[0]["overfitting"].score, table)
    assert conf[0]["dead_units"] == conf[0]["frozen_params"] < 0.5  # look-alike listings stay tied, below 0.5
    alone = rank_causes([_f("lr_too_high", 0.6)], table=table, ruled_out={})
    assert alone[0].confidence == calibrate("lr_too_high", 0.6, table)  # a lone cause: its curve exactly
