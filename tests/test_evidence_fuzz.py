"""Detectors and the diagnosis never crash on odd series: any length, NaN/Inf, negatives, constants, duplicates,
unsorted steps (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindoc.diagnosis.build import diagnose, validate
from traindoc.ingest.model import ConfigValue, LogEvent, ParamCounts, Run, Sample, Series

NAMES = ["loss", "grad_norm", "lr", "lr/muon", "eval_loss", "act_halt_var", "max_attn_logit", "output_logit_mean",
         "loss_scale", "loss@rank0", "loss@rank1", "grad_norm@rank0", "grad_norm@rank1", "dead_frac"]
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.sampled_from([0.0, -1.0, 1e-12, 1e30, float("nan"), float("inf")]))


@st.composite
def runs(draw) -> Run:
    run = Run()
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=6, unique=True)):
        n = draw(st.integers(0, 60))
        vals = draw(st.lists(values, min_size=n, max_size=n))
        steps = draw(st.lists(st.integers(-5, 500), min_size=n, max_size=n))
        run.add_series(Series(name, np.array(steps, dtype=np.int64), np.array(vals, dtype=np.float64), "f"))
    for key, v in draw(st.dictionaries(st.sampled_from(["optim.muon_lr", "learning_rate", "warmup_steps",
                                                        "grad_clip", "gradient_accumulation_steps", "weight_decay",
                                                        "freeze_backbone", "vocab_size", "d_model", "n_layers",
                                                        "tie_embeddings", "early_stopping_patience"]),
                                       st.one_of(st.floats(allow_nan=True), st.integers(-3, 10**6), st.booleans(),
                                                 st.text(max_size=5), st.none()), max_size=6)).items():
        run.config[key] = ConfigValue(key, v, "c.yaml", draw(st.one_of(st.none(), st.integers(0, 50))), "yaml",
                                      str(v))
    if draw(st.booleans()):
        run.params = ParamCounts(draw(st.integers(0, 10**9)), draw(st.integers(0, 10**9)), draw(st.integers(0, 9)),
                                 trainable=draw(st.one_of(st.none(), st.integers(0, 10**9))))
    for text in draw(st.lists(st.text(max_size=30), max_size=5)):
        run.samples.append(Sample(text, draw(st.one_of(st.none(), st.integers(0, 100)))))
    for msg in draw(st.lists(st.text(max_size=40), max_size=3)):
        run.events.append(LogEvent("warning", msg, draw(st.one_of(st.none(), st.integers(0, 100))),
                                   draw(st.sampled_from([None, "var_dof", "grad_overflow", "nan_loss"]))))
    run.stages = draw(st.lists(st.tuples(st.integers(0, 500), st.text(max_size=8)), max_size=3))
    run.epoch_starts = draw(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 9)), max_size=6))
    return run.finalize()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_diagnose_never_crashes_and_stays_schema_valid(run: Run) -> None:
    doc = diagnose(run)
    validate(doc)
    assert not [w for w in run.warnings if "detector" in w and "failed" in w], run.warnings
