"""The cause registry (src/traindoc/causes/) is the one place a cause is described: what is generated from it is
up to date, and every detector, locator, template, config-key group and explain-away rule it names exists."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

from traindoc import causes
from traindoc.causes import CAUSES, IDS, VOCABULARY
from traindoc.causes.keys import KEYS
from traindoc.causes.model import MetricOutcome, NoWarning, ScaleKey, SetKey, Strategy
from traindoc.evidence import all_detectors, code_sites, run_detectors, synthetic
from traindoc.ingest import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import gen_cause_docs  # noqa: E402


def test_generated_texts_are_up_to_date():
    """docs/causes.md, the failure-mode guide and the schema enum equal a fresh generation from the registry."""
    assert gen_cause_docs.main(["--check"]) == 0, "run python tools/gen_cause_docs.py"


def test_every_cause_module_is_in_the_vocabulary_once():
    # a cause module is one that defines CAUSE; the others (model, keys, outcomes, docs) are the registry's own
    modules = {p.stem for p in Path(causes.__file__).parent.glob("*.py") if "\nCAUSE = Cause(" in p.read_text()}
    listed = [cid for ids in VOCABULARY.values() for cid in ids]
    assert len(listed) == len(set(listed))
    assert modules == set(listed) == set(IDS)
    for cid, c in CAUSES.items():
        assert c.what and c.evidence and c.typical_fix and c.remedy.issue and c.remedy.fix, cid


def test_detectors_are_registered_exactly_once():
    by_name = {d.__name__: d for d in all_detectors()}
    owners: dict[str, list[str]] = {}
    for cid, c in CAUSES.items():
        for name in c.detectors:
            owners.setdefault(name, []).append(cid)
    assert set(owners) == set(by_name), "detectors named in the registry vs detectors that run"
    assert all(len(v) == 1 for v in owners.values()), {k: v for k, v in owners.items() if len(v) > 1}


def test_detectors_report_the_cause_that_registers_them():
    """Read from the source: every Finding a detect_* function builds with a literal cause names its owner."""
    import traindoc.evidence.detectors as pkg

    owner = {name: cid for cid, c in CAUSES.items() for name in c.detectors}
    checked = 0
    for path in Path(pkg.__file__).parent.glob("*.py"):
        for fn in ast.parse(path.read_text()).body:
            if not (isinstance(fn, ast.FunctionDef) and fn.name in owner):
                continue
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                if getattr(call.func, "id", "") == "Finding" and len(call.args) > 1 \
                        and isinstance(call.args[1], ast.Constant):
                    assert call.args[1].value == owner[fn.name], (path.name, fn.name, call.args[1].value)
                    checked += 1
    assert checked >= len(owner) - 2  # nearly every detector names its cause as a literal


def test_findings_carry_the_cause_that_registers_their_detector():
    owner = {name: cid for cid, c in CAUSES.items() for name in c.detectors}
    seen = set()
    # the synthetic series, and a recorded real run for what they do not log (per-layer grad norms: tests/data)
    runs = [(label, synthetic.make(label, 1)) for label in synthetic.BUILDERS]
    data = Path(__file__).parent / "data"
    for name in ("vanishing", "frozen_at_chance", "frozen_learns_little"):
        runs.append((f"layer_grads/{name}", load_run([data / "layer_grads" / name])))
    # a real-world run whose last accumulation cycle of each epoch is divided by the full count (the corpus entry)
    corpus = Path(__file__).parent / "corpus" / "realworld" / "transformers-38872-last-ga-cycle-loss-halved"
    runs.append(("realworld transformers-38872", load_run([corpus])))
    # recorded real-library runs with the per-epoch histories that the epoch-level rules read
    for rel in ("ingest/keras_history/history.json", "ingest/sacred_run", "ingest/notebooks/keras_fit.ipynb"):
        runs.append((rel, load_run([data / rel])))
    # dev corpus runs seen as epoch histories (tools/sparse_history.py; the values of tests/test_evidence_epoch_curves)
    histories = {"climb": {"loss": [2.35, 3.023, 6.932, 16.37, 34.99, 60.62, 43.55, 61.22, 41.28, 58.43]},
                 "compound": {"loss": [1.217, 2.079e9, 1.533e16, 8.834e16, 4.002e15, 2.444e14, 1.867e13]},
                 "first row": {"loss": [1635.0, 2.38, 1.943, 2.227, 1.814, 1.808, 1.81, 1.806, 1.788, 1.79],
                               "eval_loss": [2.538, 2.115, 2.93, 1.798, 1.811, 1.811, 1.814, 1.798, 1.797, 1.799]},
                 "spike": {"loss": [0.7218, 26.7, 39.6, 2.797, 0.7046, 0.5852, 0.4582, 0.4102, 0.3125, 0.3935]},
                 # graykode/nlp-tutorial#77's cost per epoch (tests/test_evidence_bouncing)
                 "bounce": {"loss": [15.2, 4.08, 12.7, 1.64, 10.75, 1.62, 8.54, 1.6]},
                 # a loss that moved, then printed identically to six digits (evidence/detectors/unchanged_loss.py)
                 "frozen": {"loss": [0.693147, 0.512345, 0.498765, 0.498765, 0.498765, 0.498765, 0.498765,
                                     0.498765]},
                 # a held-out loss rising at each of the last four evaluations after a minimum
                 "climb by steps": {"loss": [2.0, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                                    "eval_loss": [2.0, 1.6, 1.40, 1.30, 1.31, 1.33, 1.35, 1.36, 1.38, 1.40]},
                 # a tiny LM on shuffled targets learns the token prior, then nothing (flax-data_pipeline_bug-s0)
                 "label prior": {"loss": [3.0679, 2.6431, 2.5786, 2.5675, 2.5632, 2.562, 2.5618, 2.5615, 2.5613,
                                          2.5611, 2.5611, 2.5611, 2.5592],
                                 "eval_loss": [2.7327, 2.5848, 2.5657, 2.559, 2.5567, 2.5566, 2.5564, 2.556, 2.5559,
                                               2.5558, 2.5558, 2.5558, 2.5558]},
                 # a ~0 loss beside a training accuracy at chance (keras#4032's float16 MNIST: the loss stopped
                 # measuring the model, evidence/unmeasured_loss.py)
                 "unmeasured": {"loss": [0.0049, 0.0, 0.0, 0.0, 0.0, 0.0],
                                "accuracy": [0.0987, 0.0987, 0.0987, 0.0987, 0.0987, 0.0987]},
                 # a loss off every initial scale at its first point, then NaN (OSVOS#24's 0-255 mask as the label;
                 # detectors/data.py, detect_huge_loss_before_nan)
                 "huge start": {"loss": [2.3e11, np.nan, np.nan, np.nan, np.nan]},
                 # a loss pinned at ln 10 with no LR stated (keras PR 4652's CIFAR-10 run): the constant-output tie
                 "pinned at chance": {"loss": [2.3037, 2.3034, 2.3032, 2.3034, 2.3033, 2.3034],
                                      "accuracy": [0.0978, 0.0995, 0.0999, 0.0975, 0.0995, 0.0976]}}
    for label, cols in histories.items():
        run = Run()
        for name, vals in cols.items():
            run.add_series(Series(name, np.arange(len(vals)), np.asarray(vals, dtype=np.float64), "training.csv"))
        if label == "bounce":  # one row per epoch, as the log's epoch clock says
            run.epoch_starts.extend((i, i) for i in range(len(cols["loss"])))
        runs.append((f"epoch history: {label}", run.finalize()))
    for label, run in runs:
        for f in run_detectors(run):
            assert owner[f.detector] == f.cause, (label, f.detector, f.cause)
            seen.add(f.detector)
    assert {"detect_steady_climb", "detect_epoch_compounding", "detect_first_epoch_above_heldout",
            "detect_epoch_spike", "detect_loss_bounces", "detect_loss_froze_after_moving",
            "detect_label_prior_plateau", "detect_unmeasured_loss", "detect_unmeasured_loss_fp16",
            "detect_constant_output_lr", "detect_huge_loss_before_nan"} <= seen
    # a rule that reads a synthetic picture under a setting no synthetic run configures: the blow-up (nan_inf's)
    # with gradient accumulation 8 (detect_blow_up_under_accumulation)
    run = synthetic.make("nan_inf", 1)
    run.config["gradient_accumulation_steps"] = ConfigValue("gradient_accumulation_steps", 8, "run/config.yaml", 1,
                                                            "yaml", "8")
    for f in run_detectors(run):
        assert owner[f.detector] == f.cause, ("nan_inf + accumulation", f.detector, f.cause)
        seen.add(f.detector)
    assert "detect_blow_up_under_accumulation" in seen
    assert len(seen) >= len(owner) // 2  # the check really ran over most detectors


def _locator_emits() -> dict[str, set[tuple[str, str]]]:
    """locate_* function -> the (cause, template) pairs its CodeSites are built with, read from the source."""
    tree = ast.parse(inspect.getsource(code_sites))
    out: dict[str, set[tuple[str, str]]] = {}
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("locate_")):
        pairs = set()
        for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            args = call.args[1:3] if name == "site" else call.args[0:2] if name == "CodeSite" else []
            if len(args) == 2 and all(isinstance(a, ast.Constant) for a in args):
                pairs.add((args[0].value, args[1].value))
        if pairs:
            out[fn.name] = pairs
    return out


def test_locators_and_templates_match_the_registry():
    rules = {r.__name__ for r in [*code_sites._LOCAL, *code_sites._GLOBAL]}
    named = {name for c in CAUSES.values() for name in c.locators}
    assert named == rules, "locators named in the registry vs locators code_sites runs"
    emits = _locator_emits()
    assert set(emits) == rules
    template_dir = ROOT / "src" / "traindoc" / "templates" / "fixes"
    for cid, c in CAUSES.items():
        for t in c.templates:
            assert (template_dir / f"{t}.py.j2").is_file(), (cid, t)
        for rule in c.locators:
            for cause, template in emits[rule]:
                assert cause == cid, (rule, cause, cid)
                assert template in c.templates, (rule, template, cid)


def test_code_lint_fix_sites_use_templates_that_exist(tmp_path):
    code = tmp_path / "model.py"
    code.write_text(
        "import torch\nimport torch.nn.functional as F\n\n"
        "def attn(q, k, v):\n    return F.scaled_dot_product_attention(q, k, v, is_causal=False)\n\n"
        "def generate(m):\n    pass\n\n"
        "def filt(grad, ema, lamb):\n    grad.add_(grad - ema, alpha=lamb)\n\n"
        "def set_lr(optimizer, factor):\n    for group in optimizer.param_groups:\n"
        "        group[\"scheduled_lr\"] = group[\"initial_lr\"] * factor\n\n"
        "def nll(p):\n    return -torch.log(p).mean()\n\n"
        "def train(model, opt, batches):\n    for b in batches:\n        loss = model(b)\n"
        "        loss.backward()\n        opt.step()\n")
    run = Run()
    run.code_files = [str(code)]
    from traindoc.evidence.detectors import code_lint

    template_dir = ROOT / "src" / "traindoc" / "templates" / "fixes"
    fired = [f for det in code_lint.DETECTORS for f in det(run)]
    assert {f.cause for f in fired} == {"label_leakage", "optimizer_misconfig", "scheduler_misuse",
                                        "zero_grad_missing", "nan_inf"}
    for f in fired:
        for site in f.fix_sites:
            assert (template_dir / f"{site['template']}.py.j2").is_file(), (f.detector, site["template"])
            assert site["template"] in CAUSES[f.cause].templates


def test_plan_policies_and_alias_groups_resolve():
    from traindoc.plan import policy, strategies

    for cid, c in CAUSES.items():
        assert cid in policy.DEFAULT_FIXERS
        for step in (*c.plan.steps, *c.plan.complete):
            if isinstance(step, SetKey | ScaleKey):
                assert step.keys in KEYS, (cid, step.keys)
            if isinstance(step, SetKey) and step.computed:
                assert step.value in strategies.COMPUTED, (cid, step.value)
            if isinstance(step, Strategy):
                assert step.name in strategies.STRATEGIES, (cid, step.name)
        for group, rule in c.plan.at_least:
            assert group in KEYS and rule in strategies.COMPUTED, (cid, group, rule)
        if c.plan.fix_all_sites:
            assert c.locators, f"{cid}: fix_all_sites without a locator"
    for group, names in KEYS.items():
        assert names and len(names) == len(set(names)), group


def test_explain_away_rules_and_outcomes_name_real_things():
    from traindoc.ingest.catalogue import TAGS

    for cid, c in CAUSES.items():
        for rule in c.explained_by:
            assert rule.by in CAUSES and rule.by != cid and 0 < rule.factor < 1, (cid, rule)
        for o in c.outcomes:
            if isinstance(o, NoWarning):
                assert o.tag in TAGS, (cid, o.tag)
            else:
                assert isinstance(o, MetricOutcome)


def test_synthetic_builders_cover_every_cause():
    assert set(synthetic.BUILDERS) == {"healthy", *IDS}


@pytest.mark.parametrize("folder", ["src", "tests", "tools", "docs", "skills", "bench"])
def test_nothing_cites_a_path_outside_the_repository(folder):
    """The vocabulary and references live in docs/; no committed file points at the workspace beside the clone."""
    outside = ("shared" + "/spec", "shared" + "/reference", "../" + "shared")
    bad = []
    for path in (ROOT / folder).rglob("*"):
        if path.suffix not in {".py", ".md", ".j2", ".json", ".yaml", ".toml", ".sh"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        bad += [f"{path.relative_to(ROOT)}: {o}" for o in outside if o in text]
    assert not bad


def test_probe_findings_name_registered_causes():
    """Probes (src/traindoc/probe/) report evidence-format findings too: every cause they name is in the registry."""
    named = set()
    for path in (ROOT / "src" / "traindoc" / "probe").glob("*.py"):
        for call in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)):
            if getattr(call.func, "id", "") == "Finding" and len(call.args) > 1 \
                    and isinstance(call.args[1], ast.Constant):
                named.add(call.args[1].value)
    assert named <= set(IDS), named - set(IDS)
