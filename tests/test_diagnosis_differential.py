"""The differential diagnosis (traindoc.diagnosis.differential, table in traindoc.causes.differential): each symptom
fires at a known step and stays silent on a healthy look-alike; candidates are crossed off or ranked down by what
the log shows; they never confirm a cause, never change the verdict, and come after every cause with a finding."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from traindoc.causes import CAUSES
from traindoc.causes.differential import BY_ID, SYMPTOMS
from traindoc.diagnosis import differential
from traindoc.diagnosis.build import diagnose, validate
from traindoc.diagnosis.ranking import DIFFERENTIAL, DIFFERENTIAL_CAP, calibrate_differential
from traindoc.evidence import run_detectors, synthetic
from traindoc.ingest.model import ConfigValue, Run, Series

ROOT = Path(__file__).resolve().parents[1]


def make_run(series: dict[str, tuple[np.ndarray, np.ndarray]], config: dict[str, object] | None = None) -> Run:
    run = Run()
    for name, (steps, values) in series.items():
        run.add_series(Series(name, np.asarray(steps), np.asarray(values, dtype=np.float64), "metrics.jsonl"))
    for i, (k, v) in enumerate((config or {}).items()):
        run.put_config(ConfigValue(k, v, "run/config.json", i + 1, "json", str(v)))
    run.finalize()
    return run


def healthy_loss(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    steps = np.arange(n) * 10
    return steps, 2.3 * np.exp(-steps / 200) + 0.2


def symptoms(run: Run) -> dict[str, int | None]:
    return {e.symptom.id: e.step for e in differential.established(run)}


# ------------------------------------------------------------------------------------------------ the table


def test_the_table_names_registry_causes_once_per_row_and_the_schema_knows_its_symptoms() -> None:
    schema = json.loads((ROOT / "src/traindoc/schemas/diagnosis.schema.json").read_text())
    enum = schema["$defs"]["root_cause"]["properties"]["differential"]["enum"]
    assert enum == [s.id for s in SYMPTOMS]
    for s in SYMPTOMS:
        causes = [c.cause for c in s.candidates]
        assert len(causes) == len(set(causes)) >= 3, s.id
        assert all(c in CAUSES for c in causes), s.id
        assert all(c.telling for c in s.candidates), s.id
    # the brief's rows: a NaN's usual suspects, and a loss that does not move is never a missing zero_grad
    assert {"lr_too_high", "fp16_overflow", "nan_inf", "data_pipeline_bug", "grad_explosion"} <= {
        c.cause for c in BY_ID["nonfinite"].candidates}
    assert "zero_grad_missing" not in {c.cause for c in BY_ID["flat"].candidates}


# ------------------------------------------------------------------------------- symptoms: fire / stay silent


def test_a_healthy_curve_establishes_no_symptom() -> None:
    steps, loss = healthy_loss()
    ev_steps = steps[::10]
    run = make_run({"loss": (steps, loss), "eval_loss": (ev_steps, 1.1 * (2.3 * np.exp(-ev_steps / 200) + 0.2))})
    assert symptoms(run) == {}
    assert differential.candidates(run, []) == []


def test_nonfinite_fires_at_the_first_nan() -> None:
    steps, loss = healthy_loss()
    loss = loss.copy()
    loss[40:] = np.nan
    assert symptoms(make_run({"loss": (steps, loss)})) == {"nonfinite": 400}


def test_diverged_fires_after_the_minimum_and_a_fall_alone_does_not() -> None:
    steps = np.arange(60) * 10
    loss = np.concatenate([np.linspace(2.0, 1.0, 30), np.linspace(1.0, 1.8, 30)])
    got = symptoms(make_run({"loss": (steps, loss)}))
    assert "diverged" in got and 290 <= got["diverged"] <= 360
    assert "diverged" not in symptoms(make_run({"loss": healthy_loss()}))


def test_flat_fires_on_a_loss_that_does_not_move_not_on_one_that_falls_or_sits_at_zero() -> None:
    steps = np.arange(60) * 10
    rng = np.random.default_rng(0)
    stuck = 2.30 + 0.01 * rng.standard_normal(60)
    assert symptoms(make_run({"loss": (steps, stuck)})) == {"flat": 0}
    assert "flat" not in symptoms(make_run({"loss": healthy_loss()}))
    assert "flat" not in symptoms(make_run({"loss": (steps, np.full(60, 1e-5))}))  # nothing left to learn
    # a pasted excerpt of 4 lines within 10 % of the first
    assert symptoms(make_run({"loss": (np.arange(4), np.array([4.2, 4.1, 4.08, 4.07]))})) == {"flat": 0}


def test_heldout_rises_fires_at_the_best_evaluation() -> None:
    steps, loss = healthy_loss()
    ev_steps = np.arange(10) * 60
    ev = np.array([2.0, 1.5, 1.2, 1.0, 0.95, 1.0, 1.1, 1.2, 1.3, 1.4])
    got = symptoms(make_run({"loss": (steps, loss), "eval_loss": (ev_steps, ev)}))
    assert got["heldout_rises"] == 240 and set(got) <= {"heldout_rises", "gap"}
    flattening = np.array([2.0, 1.5, 1.2, 1.0, 0.95, 0.94, 0.945, 0.94, 0.943, 0.944])
    assert "heldout_rises" not in symptoms(make_run({"loss": (steps, loss), "eval_loss": (ev_steps, flattening)}))


def test_a_small_steady_heldout_rise_counts_only_while_the_training_loss_falls() -> None:
    ev_steps = np.array([0, 1, 2, 3])
    ev = np.array([1.556, 1.528, 1.551, 1.586])  # +3.8 %, worse at each evaluation after the best
    falling = (ev_steps, np.array([1.608, 1.531, 1.481, 1.451]))
    rising = (ev_steps, np.array([1.608, 1.531, 1.561, 1.601]))
    assert "heldout_rises" in symptoms(make_run({"loss": falling, "eval_loss": (ev_steps, ev)}))
    assert "heldout_rises" not in symptoms(make_run({"loss": rising, "eval_loss": (ev_steps, ev)}))


def test_gap_fires_on_a_held_out_loss_far_above_the_training_loss_at_the_end() -> None:
    steps, loss = healthy_loss()  # ends at ~0.2
    ev_steps = np.arange(1, 6) * 100  # in another unit than the training steps would not matter: the ends compare
    wide = np.array([0.9, 0.7, 0.6, 0.55, 0.52])  # ~2.6x the training loss at the end
    near = np.array([0.7, 0.4, 0.3, 0.25, 0.23])  # ~1.1x: an ordinary generalisation gap
    got = symptoms(make_run({"loss": (steps, loss), "eval_loss": (ev_steps, wide)}))
    assert got == {"gap": 500}
    assert symptoms(make_run({"loss": (steps, loss), "eval_loss": (ev_steps, near)})) == {}


def test_unstable_fires_on_a_3x_jump_and_not_on_minibatch_noise() -> None:
    steps = np.arange(6)
    spike = np.array([0.66, 0.80, 4.27, 0.77, 0.56, 0.82])
    assert symptoms(make_run({"loss": (steps, spike)})) == {"unstable": 2}
    rng = np.random.default_rng(1)
    s, base = healthy_loss()
    noisy = base * (1 + 0.3 * rng.uniform(-1, 1, base.size))
    assert "unstable" not in symptoms(make_run({"loss": (s, noisy)}))


def test_too_good_early_fires_on_a_collapse_in_the_first_points() -> None:
    steps = np.arange(40) * 10
    collapse = np.concatenate([[2.3, 0.5, 0.05], np.full(37, 0.01)])
    got = symptoms(make_run({"loss": (steps, collapse)}))
    assert got.get("too_good_early") == 20
    assert "too_good_early" not in symptoms(make_run({"loss": healthy_loss(40)}))


def test_memorised_fires_on_a_training_loss_near_0_with_no_held_out_loss() -> None:
    steps = np.arange(4)
    falls = (steps, np.array([6.48, 2.06, 0.628, 0.196]))  # 3 % of its first value at the last point
    assert symptoms(make_run({"loss": falls})) == {"memorised": 3}
    # with a held-out loss the log can tell (heldout_rises / gap read it); a healthy curve ends at 8 % of its first
    assert "memorised" not in symptoms(make_run({"loss": falls, "eval_loss": (steps, np.array([6.5, 2.2, 0.9, 0.8]))}))
    assert "memorised" not in symptoms(make_run({"loss": healthy_loss()}))


def test_an_objective_that_goes_below_zero_is_never_near_perfect() -> None:
    # ENMF's whole-data loss (tests/corpus/realworld/bars-enmf-tf-gowalla-whole-data-loss): 0.07 at epoch 1, then
    # negative by construction; falling past 0 is the objective working, not a collapse to a loss's floor
    steps = np.arange(1, 41)
    signed = np.concatenate([[0.0705, -678.5, -1970.1, -2527.4], -3700 + 200 * np.exp(-steps[4:] / 10)])
    assert symptoms(make_run({"loss": (steps, signed)})) == {}
    assert "too_good_early" not in symptoms(make_run({"loss": (steps, signed), "eval_loss": (steps, signed)}))
    # the same early fall on a loss that stays >= 0 is still read
    nonneg = np.concatenate([[0.0705, 0.0012, 0.0009, 0.0008], np.full(36, 0.0007)])
    assert symptoms(make_run({"loss": (steps, nonneg)})).get("too_good_early") == 2
    assert symptoms(make_run({"loss": (steps[:4], np.array([6.48, 2.06, 0.628, 0.196]))})) == {"memorised": 4}
    assert symptoms(make_run({"loss": (steps[:4], np.array([6.48, 2.06, 0.628, -0.5]))})) == {}


def test_a_non_finite_objective_under_another_name_is_a_non_finite_loss() -> None:
    steps = np.arange(1, 4)
    assert symptoms(make_run({"err": (steps, np.full(3, np.nan))})) == {"nonfinite": 1}
    # a task metric or the grad norm (a loss scaler's routine inf) is no objective
    s, loss = healthy_loss(10)
    acc = np.linspace(0.1, 0.9, 10)
    acc[5] = np.nan
    gn = np.ones(10)
    gn[3] = np.inf
    assert "nonfinite" not in symptoms(make_run({"loss": (s, loss), "error_rate_acc": (s, acc), "grad_norm": (s, gn)}))


def test_a_negative_objective_that_barely_moves_is_flat() -> None:
    steps = np.arange(0, 80, 5)
    objf = -0.974 - 0.005 * np.linspace(0, 1, 16)  # 0.5 % over 16 evaluations
    assert symptoms(make_run({"eval_loss": (steps, objf)})) == {"flat": 0}


def test_a_flat_loss_that_creeps_down_at_every_point_ranks_lr_too_low_up() -> None:
    creeps = (np.arange(1, 5), np.array([2.066, 2.001, 1.976, 1.972]))  # 4.6 %: flat, falling at every point
    wanders = (np.arange(10) * 5000, np.array([2.946, 2.949, 2.926, 2.953, 2.775, 2.823, 2.991, 2.973, 2.796, 2.955]))
    up = {f.cause: f for f in differential.candidates(make_run({"loss": creeps}), [])}
    assert up["lr_too_low"].numbers["telling"] == "seen"
    assert up["lr_too_low"].strength > up["lr_too_high"].strength
    assert any("ranked up" in e for e in up["lr_too_low"].evidence)
    flat = {f.cause: f for f in differential.candidates(make_run({"loss": wanders}), [])}
    assert flat["lr_too_low"].numbers["telling"] == "unseen"
    assert flat["lr_too_low"].strength == flat["lr_too_high"].strength <= differential.CAP


def test_a_flat_loss_whose_held_out_loss_repeats_exactly_lists_an_lr_at_0_and_frozen_weights_first() -> None:
    # a loss at chance over 8 evaluations; the held-out loss moves once, then repeats to every printed digit from
    # evaluation 3 (step 20) on: no update reaches the weights, which an LR at 0 or nothing trainable gives
    steps = np.arange(8) * 10
    train = (steps, np.array([1.79, 1.82, 1.77, 1.80, 1.78, 1.81, 1.79, 1.80]))
    still = (steps, np.array([1.7920, 1.7912, 1.7906, 1.7906, 1.7906, 1.7906, 1.7906, 1.7906]))
    run = make_run({"loss": train, "eval_loss": still}, {"optimizer": "adam", "learning_rate": 1e-3})
    assert symptoms(run) == {"flat": 0}
    got = differential.candidates(run, [])
    assert [f.cause for f in got][:2] == ["frozen_params", "scheduler_misuse"]
    for c in ("frozen_params", "scheduler_misuse"):
        f = next(f for f in got if f.cause == c)
        assert f.numbers["telling"] == "seen" and f.strength <= differential.CAP
        assert any("ranked up" in e and "5 times in 7" in e for e in f.evidence)
    # the look-alikes that still move some weights are not ranked up by it
    assert all(f.numbers["telling"] != "seen" for f in got if f.cause not in ("frozen_params", "scheduler_misuse"))


def test_a_held_out_loss_that_moves_or_repeats_once_ranks_nothing_up() -> None:
    steps = np.arange(8) * 10
    train = (steps, np.array([1.79, 1.82, 1.77, 1.80, 1.78, 1.81, 1.79, 1.80]))
    moves = (steps, np.array([1.7920, 1.7912, 1.7906, 1.7901, 1.7899, 1.7893, 1.7890, 1.7884]))
    once = (steps, np.array([1.7920, 1.7912, 1.7906, 1.7906, 1.7899, 1.7893, 1.7890, 1.7884]))
    for heldout in (moves, once):
        got = {f.cause: f for f in differential.candidates(make_run({"loss": train, "eval_loss": heldout}), [])}
        assert got["scheduler_misuse"].numbers["telling"] == got["frozen_params"].numbers["telling"] == "unseen"
        assert got["scheduler_misuse"].strength == got["lr_too_high"].strength
    # a logged LR that never falls to near 0 rules the schedule out, whatever the held-out loss does
    still = (steps, np.array([1.7920, 1.7912, 1.7906, 1.7906, 1.7906, 1.7906, 1.7906, 1.7906]))
    lr = (steps, np.full(8, 1e-3))
    got = {f.cause: f for f in differential.candidates(make_run({"loss": train, "eval_loss": still, "lr": lr}), [])}
    assert got["scheduler_misuse"].numbers["telling"] == "absent"
    assert got["frozen_params"].numbers["telling"] == "seen"
    # a healthy run repeats nothing and establishes no symptom
    ts, tv = healthy_loss()
    healthy = make_run({"loss": (ts, tv), "eval_loss": (ts[::6], 1.05 * tv[::6])})
    assert symptoms(healthy) == {} and differential.candidates(healthy, []) == []


# ---------------------------------------------------------------------------------- crossed off, ranked down


def nan_run(config: dict[str, object] | None = None) -> Run:
    steps, loss = healthy_loss()
    loss = loss.copy()
    loss[40:] = np.nan
    return make_run({"loss": (steps, loss)}, config)


def test_fp16_overflow_is_crossed_off_where_the_run_states_bfloat16() -> None:
    listed = [f.cause for f in differential.candidates(nan_run(), [])]
    assert "fp16_overflow" in listed
    assert "fp16_overflow" not in [f.cause for f in differential.candidates(nan_run({"bf16": True}), [])]


def climb_then_nan_run(grad: np.ndarray | None = None) -> Run:
    """The loss falls to 1.0 by step 290, climbs to 4.0 by step 390 and is NaN from step 400 on."""
    steps = np.arange(60) * 10
    loss = np.concatenate([np.linspace(2.0, 1.0, 30), np.linspace(1.2, 4.0, 10), np.full(20, np.nan)])
    series = {"loss": (steps, loss)}
    if grad is not None:
        series["grad_norm"] = (steps[:40], grad)
    return make_run(series)


def test_a_loss_that_climbs_into_the_nan_ranks_the_causes_of_growing_steps_up() -> None:
    run = climb_then_nan_run()
    assert symptoms(run) == {"nonfinite": 400}
    got = {f.cause: f for f in differential.candidates(run, [])}
    growth = ("lr_too_high", "grad_explosion", "zero_grad_missing", "grad_accum_bug")
    for cause in growth:
        assert got[cause].numbers["telling"] == "seen", cause
        assert any(e.startswith("ranked up: the loss climbed") and "step 400" in e for e in got[cause].evidence)
    for cause in ("fp16_overflow", "nan_inf", "data_pipeline_bug"):
        assert got[cause].numbers["telling"] == "unseen"
        assert min(got[c].strength for c in growth) > got[cause].strength
    # the row's order among the look-alikes the log cannot tell apart: grad_explosion before the code bugs
    listed = [f.cause for f in differential.candidates(run, [])]
    assert listed[:4] == list(growth)
    doc = diagnose(run, ["metrics.jsonl"])
    assert all(rc["confidence"] < 0.5 for rc in doc["root_causes"] if rc.get("differential"))


def test_a_steady_grad_norm_keeps_the_gradient_causes_down_despite_the_climb() -> None:
    steady = 1.0 + 0.05 * np.sin(np.arange(40))
    got = {f.cause: f for f in differential.candidates(climb_then_nan_run(steady), [])}
    assert got["grad_explosion"].numbers["telling"] == "absent"
    assert got["zero_grad_missing"].numbers["telling"] == "absent"
    assert got["grad_accum_bug"].numbers["telling"] == "seen"  # the grad norm does not show an undivided sum


def test_a_nan_at_once_ranks_no_cause_of_growing_steps_up() -> None:
    # the loss falls steadily and is NaN from step 400: nothing climbs before it
    got = {f.cause: f for f in differential.candidates(nan_run(), [])}
    for cause in ("lr_too_high", "grad_explosion", "zero_grad_missing", "grad_accum_bug"):
        assert got[cause].numbers["telling"] == "unseen", cause
    assert got["fp16_overflow"].strength == got["grad_explosion"].strength
    # a NaN from an unguarded op (the synthetic nan_inf run): nan_inf leads, the growth causes are not ranked up
    run = synthetic.make("nan_inf", 7)
    findings = run_detectors(run)
    doc = diagnose(run, ["synthetic"], findings)
    assert doc["root_causes"][0]["cause"] == "nan_inf"
    assert all(f.numbers["telling"] != "seen" for f in differential.candidates(run, findings))


def test_an_lr_stated_inside_its_range_ranks_lr_too_low_below_the_unseen_candidates() -> None:
    steps = np.arange(60) * 10
    stuck = (steps, np.full(60, 2.30) + 0.005 * np.sin(steps))
    unseen = {f.cause: f for f in differential.candidates(make_run({"loss": stuck}), [])}
    stated = {f.cause: f for f in differential.candidates(
        make_run({"loss": stuck}, {"optimizer": "adamw", "learning_rate": 3e-4}), [])}
    assert unseen["lr_too_low"].numbers["telling"] == "unseen"
    assert stated["lr_too_low"].numbers["telling"] == "absent"
    assert stated["lr_too_low"].strength < stated["frozen_params"].strength
    assert any("ranked down" in e for e in stated["lr_too_low"].evidence)


def test_an_lr_with_no_optimiser_named_rules_lr_too_low_out_only_at_or_above_sgds_floor() -> None:
    # the mirror of the lr_too_high rule below: 1e-5 with no optimiser named is low for SGD and Adam alike
    steps = np.arange(60) * 10
    stuck = (steps, np.full(60, 2.30) + 0.005 * np.sin(steps))
    low = {f.cause: f for f in differential.candidates(make_run({"loss": stuck}, {"learning_rate": 1e-5}), [])}
    assert low["lr_too_low"].numbers["telling"] != "absent"
    high = {f.cause: f for f in differential.candidates(make_run({"loss": stuck}, {"learning_rate": 0.1}), [])}
    assert high["lr_too_low"].numbers["telling"] == "absent"


def test_an_lr_with_no_optimiser_named_does_not_rank_lr_too_high_down_for_a_nan() -> None:
    steps, loss = healthy_loss()
    loss = loss.copy()
    loss[40:] = np.nan
    lr = (steps, np.full(steps.size, 1e-3))
    bare = {f.cause: f for f in differential.candidates(make_run({"loss": (steps, loss), "lr": lr}), [])}
    assert bare["lr_too_high"].numbers["telling"] == "unseen"
    assert bare["lr_too_high"].strength >= max(f.strength for f in bare.values())
    named = {f.cause: f for f in differential.candidates(
        make_run({"loss": (steps, loss), "lr": lr}, {"optimizer": "sgd", "learning_rate": 1e-3}), [])}
    assert named["lr_too_high"].numbers["telling"] == "absent"


def test_a_cause_on_two_symptoms_rows_outranks_one_on_a_single_row() -> None:
    steps = np.arange(60) * 10
    loss = np.concatenate([np.linspace(2.0, 1.0, 30), np.linspace(1.0, 1.8, 29), [7.0]])  # diverges, then jumps
    run = make_run({"loss": (steps, loss)})
    assert {"diverged", "unstable"} <= set(symptoms(run))
    got = {f.cause: f for f in differential.candidates(run, [])}
    assert got["lr_too_high"].strength > got["data_pipeline_bug"].strength  # on both rows vs on one
    assert got["lr_too_high"].numbers["symptoms"] == ["diverged", "unstable"]


def test_a_cause_with_a_finding_is_never_a_differential_candidate() -> None:
    from traindoc.evidence.finding import Finding

    f = Finding("detect_x", "lr_too_high", 0.3, "x", ["x"])
    assert "lr_too_high" not in [c.cause for c in differential.candidates(nan_run(), [f])]


# ------------------------------------------------------------------------------------------- in the diagnosis


def test_differential_candidates_never_change_a_healthy_verdict_and_say_what_they_are() -> None:
    steps = np.arange(60) * 10
    rng = np.random.default_rng(0)
    run = make_run({"loss": (steps, 0.35 + 0.003 * rng.standard_normal(60))})  # a converged excerpt: flat
    doc = diagnose(run, ["metrics.jsonl"])
    validate(doc)
    assert doc["verdict"] == "healthy"
    diff = [rc for rc in doc["root_causes"] if rc.get("differential")]
    assert diff and all(rc["confidence"] < 0.5 for rc in doc["root_causes"])
    for rc in diff:
        assert rc["differential"] == "flat" and rc["detectors"] == ["differential"]
        assert rc["evidence"][0].startswith("the loss stays at") and "differential:" in rc["evidence"][1]
        assert rc["expected_outcome"]


def test_the_markdown_says_a_candidate_is_a_differential_and_the_healthy_confidence_counts_it() -> None:
    from traindoc.diagnosis.render import to_markdown

    steps = np.arange(60) * 10
    doc = diagnose(make_run({"loss": (steps, np.full(60, 0.35) + 0.002 * np.sin(steps))}), ["metrics.jsonl"])
    best = max(rc["confidence"] for rc in doc["root_causes"])
    assert doc["verdict"] == "healthy" and doc["confidence"] == pytest.approx(1 - best, abs=1e-3)
    md = to_markdown(doc)
    assert "differential, a usual cause of this symptom: the loss stays at" in md


def test_differential_candidates_not_ranked_up_come_after_every_cause_with_a_finding() -> None:
    # a candidate ranked up by telling evidence the log shows competes by confidence (ranking.listed); the others
    # follow every cause with a finding of its own
    for label in ("lr_too_high", "nan_inf", "overfitting"):
        run = synthetic.make(label, 7)
        findings = run_detectors(run)
        up = {f.cause for f in differential.candidates(run, findings) if f.numbers["telling"] == "seen"}
        doc = diagnose(run, ["synthetic"], findings)
        validate(doc)
        flags = [bool(rc.get("differential")) and rc["cause"] not in up for rc in doc["root_causes"]]
        assert flags == sorted(flags), (label, doc["root_causes"])
        assert not doc["root_causes"][0].get("differential"), (label, doc["root_causes"])  # a finding comes first


def test_a_differential_confidence_is_its_share_without_a_fitted_model_and_capped_with_one() -> None:
    assert calibrate_differential(0.12, {"shared": {"a": 3.0, "b": 2.0}, "per_cause": {}}) == 0.12
    steep = {"shared": {"a": 1.0, "b": 0.0}, "per_cause": {DIFFERENTIAL: {"a": 1.0, "b": 6.0}}}
    assert calibrate_differential(0.2, steep) > 0.9  # what the model says...
    from traindoc.diagnosis.ranking import differential_ranked

    cands = differential.candidates(nan_run(), [])
    assert all(r.confidence <= DIFFERENTIAL_CAP < 0.5 for r in differential_ranked(cands, steep))  # ...is capped


def test_the_differential_model_is_fitted_apart_and_leaves_the_detectors_curves_alone() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from fit_calibration import fit

    rng = np.random.default_rng(0)
    rows = [{"cause": c, "score": float(s), "y": int(y), "weight": 2.0}
            for c in ("lr_too_high", "nan_inf") for s, y in zip(rng.uniform(0.05, 0.95, 60),
                                                                  rng.uniform(0, 1, 60) < 0.5, strict=True)]
    diff = [{"cause": DIFFERENTIAL, "score": float(s), "y": int(u < s / 2), "weight": 2.0}
            for s, u in zip(rng.uniform(0.01, 0.3, 400), rng.uniform(0, 1, 400), strict=True)]
    alone, both = fit(rows), fit(rows + diff)
    assert both["shared"] == alone["shared"]
    assert {k: v for k, v in both["per_cause"].items() if k != DIFFERENTIAL} == alone["per_cause"]
    coef = both["per_cause"][DIFFERENTIAL]
    assert 0.3 < coef["a"] < 8 and -6 < coef["b"] < 6  # a fitted curve, not a clamp


@pytest.mark.parametrize("label", ["healthy"])
def test_synthetic_healthy_runs_stay_healthy_with_the_differential(label: str) -> None:
    for seed in range(5):
        doc = diagnose(synthetic.make(label, 900 + seed), ["synthetic"])
        assert doc["verdict"] == "healthy"
        assert all(rc["confidence"] < 0.5 for rc in doc["root_causes"])


def test_a_broken_symptom_reading_leaves_the_diagnosis_standing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(run: Run) -> list:
        raise ValueError("odd input")

    monkeypatch.setattr(differential, "established", broken)
    run = nan_run()
    assert differential.candidates(run, []) == []
    assert any(w.startswith("differential failed: ValueError") for w in run.warnings)
    doc = diagnose(nan_run(), ["metrics.jsonl"])
    validate(doc)
    assert doc["verdict"] == "problems_found"  # a loss non-finite to the end is never healthy
