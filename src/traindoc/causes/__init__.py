"""The cause registry: one module per root cause (`causes/<id>.py`, a `CAUSE = Cause(...)` record) holding its id,
group, description, detectors, code locators, fix templates, remedy, plan policy, expected outcomes and what tells
it apart from its look-alikes. Config-key synonyms live in one table (causes/keys.py).

Everything else is derived from here: the schema's cause enum, docs/causes.md and the skill's failure-mode guide
are generated (tools/gen_cause_docs.py; tests/test_causes_registry.py fails when they drift), diagnosis reads
remedies and explain-away rules, code_sites reads which locators serve which cause, plan reads the fix policy.

This package imports no stage (it sits before ingest), so every stage may import it. Adding a cause = writing its
module and appending its id at the end of its group in VOCABULARY (ids are stable: never rename or reorder).
"""

from __future__ import annotations

import importlib

from traindoc.causes.model import Cause

# The vocabulary, in order: group heading -> cause ids. This order is the schema enum's and the docs'.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "Optimisation dynamics": ("lr_too_high", "lr_too_low", "no_warmup", "scheduler_misuse", "grad_explosion",
                              "vanishing_gradients", "optimizer_misconfig", "zero_grad_missing", "grad_accum_bug",
                              "frozen_params", "dead_units"),
    "Numerics": ("nan_inf", "fp16_overflow"),
    "Data and labels": ("label_leakage", "data_pipeline_bug", "curriculum_shock", "overfitting"),
    "Architecture and model behaviour": ("param_imbalance", "act_variance_collapse", "attention_logit_growth",
                                         "output_logit_divergence", "mode_collapse"),
    "Systems": ("distributed_desync",),
}
VERDICTS = ("healthy", "problems_found", "insufficient_data")
REPORT_THRESHOLD = 0.5  # a cause is reported (and the run is not healthy) at confidence >= 0.5 (docs/causes.md)


def _load() -> dict[str, Cause]:
    out: dict[str, Cause] = {}
    for group, ids in VOCABULARY.items():
        for cid in ids:
            cause = importlib.import_module(f"traindoc.causes.{cid}").CAUSE
            if cause.id != cid or cause.group != group:
                raise ImportError(f"traindoc.causes.{cid} declares id {cause.id!r} in group {cause.group!r}")
            out[cid] = cause
    return out


CAUSES: dict[str, Cause] = _load()
IDS: tuple[str, ...] = tuple(CAUSES)


def get(cause_id: str) -> Cause:
    return CAUSES[cause_id]


__all__ = ["CAUSES", "IDS", "REPORT_THRESHOLD", "VERDICTS", "VOCABULARY", "Cause", "get"]
