"""tools/evaluate.py: the leave-one-family-out protocol's mechanics (not its accuracy figures).

- re-scoring a run from the cached detector scores gives what `diagnose` gives (verdict, causes, confidences);
- the family being scored is absent from the fit that scores it: a family whose runs alone carry a cause leaves
  that cause without per-cause coefficients when it is held out, while the fit on every run has them;
- numeric points are counted on the raw text, configs excluded.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import evaluate  # noqa: E402
import labelled_runs  # noqa: E402
from fit_calibration import fit  # noqa: E402
from traindoc.diagnosis.ranking import load_calibration  # noqa: E402


def test_rescoring_from_the_cache_reproduces_diagnose():
    entries = labelled_runs.corpus_entries()
    if not entries:
        pytest.skip("no committed corpus under tests/corpus/")
    subset = entries[:: max(1, len(entries) // 8)][:8]  # spread over the corpora, sorted by name
    runs = [labelled_runs.read_entry(e) for e in subset]
    assert any(r.scores for r in runs), "the subset should hold at least one run with a finding"
    assert evaluate.check_cache(runs, lambda m: None) == 0
    for r in runs:  # a cache file round-trips
        assert labelled_runs.LabelledRun(**json.loads(json.dumps(dataclasses.asdict(r)))) == r


def _with_stack(run: labelled_runs.LabelledRun, stack: str) -> labelled_runs.LabelledRun:
    return dataclasses.replace(run, corpus="test", family={"source": "test", "stack": stack, "model_family": "x"})


def test_held_out_family_is_absent_from_its_fit():
    synth = labelled_runs.load_synthetic(10, ["lr_too_high", "grad_explosion", "nan_inf", "healthy"])
    runs = [_with_stack(r, "only_lr" if r.label == "lr_too_high" else "others") for r in synth]
    everything = fit(evaluate.rows_for(runs))
    assert "lr_too_high" in everything["per_cause"], "with its family in the fit, the cause gets coefficients"
    folds = {f.value: f for f in evaluate.lofo(runs, "stack", extra=[])}
    assert set(folds) == {"only_lr", "others"}
    for value, fold in folds.items():
        scored = {r["id"] for r in fold.rows}
        assert scored == {r.id for r in runs if r.family["stack"] == value}
        assert not scored & fold.train_ids
    assert "lr_too_high" not in folds["only_lr"].table["per_cause"]
    # extra data joins every fit and is never scored
    extra = [dataclasses.replace(_with_stack(r, "extra"), id=f"extra/{r.id}")
             for r in labelled_runs.load_synthetic(2, ["healthy"])]
    for fold in evaluate.lofo(runs, "stack", extra=extra):
        assert {r.id for r in extra} <= fold.train_ids
        assert not {r["id"] for r in fold.rows} & {r.id for r in extra}


def test_pooled_summary_counts_each_run_once():
    synth = labelled_runs.load_synthetic(3, ["lr_too_high", "healthy"])
    runs = [_with_stack(r, f"s{i % 3}") for i, r in enumerate(synth)]
    rows = [row for f in evaluate.lofo(runs, "stack", extra=[]) for row in f.rows]
    s = evaluate.summary(rows)
    assert s["n"] == len(runs) and s["healthy"] == 3
    assert 0.0 <= s["top1"] <= 1.0 and s["confident"] <= s["top1"] <= s["top3"]


def test_shipped_calibration_is_labelled_in_sample_when_fitted_on_corpora():
    assert evaluate.shipped_is_in_sample({"corpora": {"realworld": 100}})
    assert not evaluate.shipped_is_in_sample({"corpora": {}})
    assert isinstance(evaluate.shipped_is_in_sample(load_calibration()), bool)


def test_numeric_points_count_raw_lines_not_configs(tmp_path):
    (tmp_path / "train.log").write_text("epoch 1 loss 2.31\nsaving model\nepoch 2 loss nan\nepoch 3 loss 1e-3\n")
    (tmp_path / "config.yaml").write_text("lr: 0.001\nwd: 0.1\nbeta: 0.9\n")
    (tmp_path / "events.bin").write_bytes(b"\0\x01 1.5 2.5 3.5\n")
    assert labelled_runs.numeric_lines(tmp_path) == 3
