"""A NaN with no lead whose candidates the detectors read at one strength (diagnosis/unexplained_nan.py:
level_readings): the summary says their order is the calibration's (the labelled runs' mix of causes), not this
log's; candidates read at different strengths (a stated precision, a NaN that recovers) are no such group."""

from __future__ import annotations

import numpy as np

from traindoc.diagnosis import unexplained_nan
from traindoc.diagnosis.build import diagnose
from traindoc.evidence import run_detectors
from traindoc.ingest.model import ConfigValue, Run, Series


def nan_run(finite: int, config: dict[str, object] | None = None) -> Run:
    """A loss logged every 10 steps: `finite` slowly falling points, then NaN for good (30 points)."""
    loss = 2.5 * np.exp(-np.arange(30) / 40.0)
    loss[finite:] = np.nan
    run = Run()
    run.add_series(Series("loss", 10 + 10 * np.arange(30), loss, "run/train.log"))
    for i, (k, v) in enumerate((config or {}).items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


def confidences(doc: dict) -> dict[str, float]:
    return {rc["cause"]: rc["confidence"] for rc in doc["root_causes"]}


def test_level_nan_readings_are_named_as_read_alike_in_the_summary() -> None:
    # 12 steady points then NaN, nothing stated: the op and fp16 overflow are both read at 0.35 (detect_nan_inf)
    run = nan_run(12)
    findings = run_detectors(run)
    assert unexplained_nan.level_readings(findings) == ["fp16_overflow", "nan_inf"]
    doc = diagnose(run, [], findings)
    conf = confidences(doc)
    assert max(conf["fp16_overflow"], conf["nan_inf"]) < 0.5
    assert "read alike from this log, their order is how often each caused such a NaN" in doc["summary"]


def test_readings_at_different_strengths_are_no_level_group() -> None:
    # float16 stated: overflow first (0.65) over the op (0.3); bf16 stated: the op at 0.6 is evidence, no tie
    for precision in ("16-mixed", "bf16-mixed"):
        run = nan_run(12, {"precision": precision})
        findings = run_detectors(run)
        assert unexplained_nan.level_readings(findings) == [], precision
        doc = diagnose(run, [], findings)
        assert "read alike" not in doc["summary"], precision
    # a NaN that recovers (skipped updates) is no open NaN: nothing is pooled
    run = nan_run(30)
    run.series("loss").values[[5, 9]] = np.nan
    assert unexplained_nan.level_readings(run_detectors(run.finalize())) == []
