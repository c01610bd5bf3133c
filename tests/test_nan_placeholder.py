"""A lone leading non-finite record (the first logged value NaN, every later one finite) is a placeholder written
before the first measurement, not a value that went non-finite (evidence/context.py: first_nonfinite). The real case:
the tail of an H2O score history (tests/corpus/realworld/h2o-tutorials-deeplearning-covtype-score-history, its last
column block, as tools/excerpt_eval.py cuts it), whose row 0 is NaN before the first scoring: read as a NaN that
recovers, fp16_overflow 0.82 on a healthy run. Silent there; a NaN after finite values still counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.diagnosis.build import diagnose
from traindoc.evidence.context import first_nonfinite
from traindoc.evidence.detectors import numerics
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

H2O = Path(__file__).parent / "corpus" / "realworld" / "h2o-tutorials-deeplearning-covtype-score-history" / "run"


def loss_run(values: list[float]) -> Run:
    run = Run()
    run.add_series(Series("loss", np.arange(len(values)), np.array(values), "run/train.log", "loss"))
    return run.finalize()


def test_first_nonfinite_skips_a_lone_leading_placeholder_only() -> None:
    nan = float("nan")
    assert first_nonfinite(loss_run([nan, 0.27, 0.21, 0.19]).series("loss")) is None
    assert first_nonfinite(loss_run([0.3, nan, 0.21, 0.19]).series("loss")) == 1  # went non-finite after a value
    assert first_nonfinite(loss_run([nan, nan, 0.21, 0.19]).series("loss")) == 0  # two: not one placeholder
    assert first_nonfinite(loss_run([nan, 0.21, nan, 0.19]).series("loss")) == 0  # it recurs
    assert first_nonfinite(loss_run([nan, 0.21]).series("loss")) == 0  # too short to tell


def test_a_nan_that_recovers_after_finite_values_still_reads_as_skipped_updates() -> None:
    losses = [2.0, 1.8, 1.7, float("nan"), 1.6, 1.5, 1.45, float("nan"), 1.4, 1.35, 1.3, 1.28]
    f = numerics.detect_fp16_overflow(loss_run(losses))
    assert f and f[0].strength >= 0.55 and f[0].step == 3
    leading = [float("nan")] + losses[:3] + losses[4:7] + losses[8:]
    assert numerics.detect_fp16_overflow(loss_run(leading)) == []


def test_the_h2o_score_history_tail_reads_healthy(tmp_path: Path) -> None:
    lines = (H2O / "score_history.txt").read_text().splitlines(keepends=True)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "score_history.txt").write_text("".join(lines[-17:]))
    run = load_run([tmp_path / "run"])
    s = run.series("loss")
    assert s is not None and not np.isfinite(s.values[0]) and np.isfinite(s.values[1:]).all()
    d = diagnose(run, [str(tmp_path / "run")])
    assert d["verdict"] == "healthy" and not d["root_causes"]
