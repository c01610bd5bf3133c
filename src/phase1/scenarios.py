"""The fault zoo: failing (and one healthy) Phase 1 runs reproduced on demand, each with a known cause and fix.

    phase1-train --scenario seed_divergence --out WS          # normal form (CPU, about a minute or less)
    phase1-train --scenario seed_divergence --out WS --test   # reduced form, for tests (seconds)
    phase1-train --list-scenarios

A scenario materialises a self-contained workspace WS (layout pinned in the project brief):

    WS/config.yaml   the full effective config, one dotted key per line: config faults live here
    WS/phase1/       a copy of the trainer package; code faults are injected into this copy only
    WS/train.py      retrains from WS's own files (`python WS/train.py [--out DIR]`)
    WS/tests/        quick pytest tests of the workspace trainer that a correct fix keeps passing
    WS/run/          the artifacts of the first training (metrics.jsonl, config.yaml, checkpoints/)

Nothing in WS names the scenario or its cause: a diagnosis must find the cause from the artifacts. The metadata
(cause id, where the fault lives, the known fix, how to measure the symptom) lives here only. The known fix is data
for the zoo's own tests (tests/test_zoo_*.py): traindoc never reads it.

Code faults are exact text edits of pinned healthy constructs (see the project brief). If the healthy text is not
found exactly the expected number of times, materialisation fails loudly: a trainer change can never silently
turn a fault off.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# How a run is judged (figures, thresholds) lives in zoo_symptoms.py; re-exported for the zoo's users.
from .zoo_symptoms import SYMPTOMS, judge, measure, read_records  # noqa: F401

PACKAGE_DIR = Path(__file__).resolve().parent
# Files of the package that know about faults: never copied into a workspace (they would leak the label).
ZOO_ONLY = {"scenarios.py", "zoo_symptoms.py"}


class ScenarioError(RuntimeError):
    """A scenario cannot be built (unknown name, healthy text of a code fault not found, ...): one line."""


# ---- scenario description ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeEdit:
    """Replace `healthy` by `faulty` in phase1/<file> of the workspace. `count` occurrences must exist."""

    file: str
    healthy: str
    faulty: str
    count: int = 1


@dataclass(frozen=True)
class Scenario:
    name: str
    cause: str  # cause id (docs/causes.md)
    summary: str  # one line: what goes wrong
    where: str  # where the fault lives: config key(s) or file/construct
    config: dict[str, Any] = field(default_factory=dict)  # config overrides on top of the zoo base (normal form)
    reduced: dict[str, Any] = field(default_factory=dict)  # extra overrides for the reduced (--test) form
    edits: tuple[CodeEdit, ...] = ()
    fix_config: dict[str, Any] = field(default_factory=dict)  # the known fix: config values ...
    fix_code: bool = True  # ... and, for code faults, the healthy text restored
    fix_summary: str = ""


# The zoo's base: the trainer's --test size (d_model 96, 3 layers, seq 64, batch 16), three curriculum stages,
# single-threaded so that a run is bit-for-bit reproducible on any CPU. Normal form: 6 epochs x 60 steps, two
# epochs per stage (switches at epochs 3 and 5); reduced form: 3 epochs x 40 steps, one epoch per stage.
BASE: dict[str, Any] = {
    "train.threads": 1,
    "train.device": "cpu",
    "train.epochs": 6,
    "train.steps_per_epoch": 60,
    "data.reasoning_epoch": 3,
    "data.advanced_epoch": 5,
}
BASE_REDUCED: dict[str, Any] = {
    "train.epochs": 3,
    "train.steps_per_epoch": 40,
    "data.reasoning_epoch": 2,
    "data.advanced_epoch": 3,
}

# The reduced form of the two scenarios whose symptom needs the normal form's 360 steps (seed_divergence,
# future_leak): those steps at half the batch, 8 rows, which halves the forward/backward work of each step (the
# per-step Muon orthogonalisation and the evaluations stay). Both symptoms hold on every seed measured at this size
# (docs/fault-zoo.md, "Margins"; worst seed: seed_divergence's grad-norm ratio 15.7 against "> 10", its final loss
# 1.82 vs <= 1.00 fixed; future_leak's train loss <= 0.032 against "< 0.3", val - train >= 4.6 against "> 1"); the
# two fixed runs are one training (the same files), which the zoo's tests share, as they did at the full batch.
REDUCED_LONG: dict[str, Any] = {
    "train.epochs": 6,
    "train.steps_per_epoch": 60,
    "data.reasoning_epoch": 3,
    "data.advanced_epoch": 5,
    "train.batch_size": 8,
}

# The reduced form of the scenarios whose symptom is a property of the code or config, not of the trajectory: a
# parameter count (frozen_params), the logged LR schedule (scheduler_key: warmup 10 from 0.1x, so max/min is 10 as
# soon as step 10 runs), the Grokfast filter's turn at every step after the first (grokfast_sign) and the ACT halting
# head that gets no gradient (act_variance_collapse: halt_var 0 and the var() warning from the first step). 20 steps
# in one epoch and one curriculum stage show each of them exactly as 120 do (docs/fault-zoo.md, "Margins", 5 seeds)
# at a sixth of the training; two of them (act_variance_collapse, frozen_params) fix to the same files (the healthy
# config at this size), one shared training; scheduler_key runs 30 steps (why: at its entry). One epoch, not two: a
# model 20 steps in writes degenerate samples ('A: A: 1', as the healthy run does at its first epoch's end), which
# two epochs' four samples made traindoc read as mode_collapse in every run, faulty and fixed (measured, seed 1337);
# one epoch's two samples are too few for that reading (detect_mode_collapse needs 3).
REDUCED_SHORT: dict[str, Any] = {
    "train.epochs": 1,
    "train.steps_per_epoch": 20,
    "data.reasoning_epoch": 100,
    "data.advanced_epoch": 100,
}

_ACT_LOSS_FAULTY = '''def compute_act_loss(act: ActState, cfg: ModelConfig) -> torch.Tensor:
    """ACT loss: ponder cost on the number of refinement steps each token used, with a halting-variance check."""
    halting_steps = act.n_updates.float()  # (B, T) steps per token
    per_sequence = halting_steps.mean(dim=1, keepdim=True)  # (B, 1) mean steps of each sequence
    halting_variance = torch.nan_to_num(per_sequence.var(dim=1)).mean()  # spread of halting (0 = no spread)
    return cfg.act_ponder_weight * halting_steps.mean() - cfg.act_diversity_weight * halting_variance
'''

SCENARIO_LIST: list[Scenario] = [
    Scenario(
        name="healthy",
        cause="healthy",
        summary="the baseline: no fault; the loss falls through all three curriculum stages",
        where="-",
        fix_summary="nothing to fix",
    ),
    Scenario(
        name="seed_divergence",
        cause="lr_too_high",
        summary="Muon LR far above its stable range (the seed's failing run): grad-norm spikes that grow into the "
        "Advanced stage, the loss stuck far above a healthy run's, samples degenerating to 'A: A: A:'",
        where="config.yaml: optim.muon_lr",
        # The seed's value was 1e-2 against a broken orthogonalisation whose update size tracked the gradient norm.
        # This trainer's Muon is the real one (Newton-Schulz, RMS matched to AdamW), which is stable at 1e-2 and
        # even 3e-2 at this size (measured), so the scenario uses 1e-1 (20x the default) to reproduce the seed's
        # symptoms. The spikes build up over ~200 steps, so the reduced form keeps the full 360 steps, at half the
        # batch (REDUCED_LONG): the symptom is as clear on every seed (docs/fault-zoo.md, "Margins").
        config={"optim.muon_lr": 1e-1},
        reduced=REDUCED_LONG,
        fix_config={"optim.muon_lr": 5e-3},
        fix_summary="optim.muon_lr 1e-1 -> 5e-3 (the default)",
    ),
    Scenario(
        name="act_variance_collapse",
        cause="act_variance_collapse",
        summary="the ACT halting head gets no gradient (loss on the integer step count, output not p-weighted, "
        "head initialised to a constant): every token runs every step, halting variance 0, var() warning",
        where="phase1/model.py: compute_act_loss(), Phase1Model.refine() output mix, halt_head init",
        edits=(
            CodeEdit("model.py", "__ACT_LOSS__", _ACT_LOSS_FAULTY),
            CodeEdit("model.py", "            out = out + w.unsqueeze(-1).to(h.dtype) * h\n",
                     "            out = h  # the output is the last refined state\n"),
            CodeEdit("model.py", "        nn.init.constant_(self.halt_head.bias, cfg.act_init_bias)\n",
                     "        nn.init.zeros_(self.halt_head.weight)\n"
                     "        nn.init.constant_(self.halt_head.bias, cfg.act_init_bias)\n"),
        ),
        reduced=REDUCED_SHORT,
        fix_summary="restore the differentiable ACT loss (ponder N+R plus the KL diversity term), the p-weighted "
        "output mix and the random halting-head init",
    ),
    Scenario(
        name="embedding_heavy",
        cause="param_imbalance",
        summary="GPT-2 vocabulary (50257) at d_model 320, 8 layers, untied: over 75% of the parameters sit in "
        "the two embedding tables (and the byte data uses 260 of the 50257 rows)",
        where="config.yaml: model.vocab_size, model.d_model, model.n_layers, model.tie_embeddings",
        config={"model.vocab_size": 50257, "model.d_model": 320, "model.n_layers": 8, "model.n_heads": 5,
                "model.tie_embeddings": False, "train.epochs": 1, "train.steps_per_epoch": 8,
                "train.batch_size": 4, "data.seq_len": 32, "train.sample_tokens": 8},
        reduced={"train.epochs": 1, "train.steps_per_epoch": 3, "train.batch_size": 2},
        fix_config={"model.vocab_size": 260, "model.tie_embeddings": True},
        fix_summary="model.vocab_size 50257 -> 260 (the byte tokenizer's size) and model.tie_embeddings true",
    ),
    Scenario(
        name="future_leak",
        cause="label_leakage",
        summary="non-causal attention: every position also sees the tokens after it, which lets the model "
        "memorise its training rows (train loss ~0.01) while validation scored from prefixes rises to ~5.8",
        where="phase1/model.py: CausalSelfAttention.forward, is_causal=False",
        # The memorisation that the leak enables takes ~170 steps to set in: the reduced form keeps the full 360
        # steps, at half the batch (REDUCED_LONG; at 120 steps, even at no_warmup's higher LRs, seeds 0 and 1 still
        # had a train loss of 0.64, measured 2026-12-06).
        reduced=REDUCED_LONG,
        edits=(CodeEdit("model.py", "F.scaled_dot_product_attention(q, k, v, is_causal=True)",
                        "F.scaled_dot_product_attention(q, k, v, is_causal=False)"),),
        fix_summary="is_causal=False -> is_causal=True",
    ),
    Scenario(
        name="grokfast_sign",
        cause="optimizer_misconfig",
        summary="inverted Grokfast filter g + lambda*(g - ema) (the original code's high-pass form) amplifies "
        "the fast, noisy gradient components instead of the slow ones",
        where="phase1/optim.py: grokfast_ema_(), grad.add_(grad - ema, alpha=lamb)",
        # lambda 2 is Grokfast's own default (ironjr/grokfast): at the trainer's 0.5 the sign barely shows.
        config={"optim.grokfast_lambda": 2.0},
        edits=(CodeEdit("optim.py", "grad.add_(ema, alpha=lamb)", "grad.add_(grad - ema, alpha=lamb)"),),
        reduced=REDUCED_SHORT,
        fix_summary="grad.add_(grad - ema, alpha=lamb) -> grad.add_(ema, alpha=lamb)",
    ),
    Scenario(
        name="scheduler_key",
        cause="scheduler_misuse",
        summary="the LR schedule writes group['scheduled_lr'], a key the optimiser never reads: no warmup, no "
        "decay, the logged LR is constant although a warmup + cosine schedule is configured",
        where="phase1/optim.py: set_lr()",
        edits=(CodeEdit("optim.py", 'group["lr"] = group["initial_lr"] * factor',
                        'group["scheduled_lr"] = group["initial_lr"] * factor'),),
        # 30 steps, not REDUCED_SHORT's 20: the fix loop's verify asks that the logged LR decays over the run
        # (traindoc's scheduler_misuse outcome: the median of the last 10% of steps below that of the first 10%).
        # The fixed run's warmup (0.1x-1x over steps 1-10) and cosine (back to 0.1x) leave steps 1-2 and 19-20 of 20
        # runs at the same LR (+3%, measured: verify failed); steps 1-3 and 28-30 of 30 runs are at 0.2x and 0.12x.
        reduced={**REDUCED_SHORT, "train.steps_per_epoch": 30},
        fix_summary='group["scheduled_lr"] = ... -> group["lr"] = ...',
    ),
    Scenario(
        name="no_warmup",
        cause="no_warmup",
        summary="full learning rate from step 0 at LRs that need a warmup: the grad norm doubles right after the "
        "first update, then recovers",
        where="config.yaml: optim.warmup_steps",
        # LRs at the top of the range this model trains well at (with warmup it reaches a lower loss than the
        # defaults); without warmup the very first full-size Muon/Adam steps kick the grad norm up.
        config={"optim.warmup_steps": 0, "optim.muon_lr": 2e-2, "optim.adam_lr": 1e-2},
        fix_config={"optim.warmup_steps": 50},
        fix_summary="optim.warmup_steps 0 -> 50",
    ),
    Scenario(
        name="lr_too_low",
        cause="lr_too_low",
        summary="learning rates 1000x below the defaults: the loss barely moves while grad norms are healthy",
        where="config.yaml: optim.muon_lr, optim.adam_lr",
        config={"optim.muon_lr": 5e-6, "optim.adam_lr": 3e-6},
        fix_config={"optim.muon_lr": 5e-3, "optim.adam_lr": 3e-3},
        fix_summary="optim.muon_lr 5e-6 -> 5e-3, optim.adam_lr 3e-6 -> 3e-3",
    ),
    Scenario(
        name="frozen_params",
        cause="frozen_params",
        summary="train.freeze_backbone true: embeddings and all blocks but the refinement block never train",
        where="config.yaml: train.freeze_backbone",
        config={"train.freeze_backbone": True},
        fix_config={"train.freeze_backbone": False},
        reduced=REDUCED_SHORT,
        fix_summary="train.freeze_backbone true -> false",
    ),
    Scenario(
        name="zero_grad_missing",
        cause="zero_grad_missing",
        summary="optimizer.zero_grad() removed from the loop: gradients accumulate step after step",
        where="phase1/train_phase1.py: the training loop, optimizer.zero_grad(set_to_none=True) removed",
        # Without clipping, so that the accumulation shows in the logged (pre-clip) norm: clipping rescales the
        # accumulated .grad in place every step and would bound it. The fix keeps grad_clip 0 (a healthy run does
        # not need clipping: Muon and AdamW updates do not scale with the gradient norm).
        config={"optim.grad_clip": 0.0},
        # Reduced form: 40 steps in one epoch and one stage (REDUCED_SHORT's shape), not 120 in three: the summed
        # buffer compounds from the first step, so 40 steps show it on every seed (last/first grad norm 46.5-48.0
        # against "> 10"; fixed 0.21-0.26 against "< 3"; traindoc names zero_grad_missing at 0.96 on every faulty
        # seed and nothing >= 0.5 on the fixed ones: docs/fault-zoo.md, "Margins", 2026-12-06). 20 steps were too
        # few (last/first 15.5, and the fixed run's early transient read as a possible grad_explosion).
        reduced={**REDUCED_SHORT, "train.steps_per_epoch": 40},
        edits=(CodeEdit("train_phase1.py",
                        " " * 20 + "optimizer.zero_grad(set_to_none=True)\n" + " " * 20 + "with autocast():",
                        " " * 20 + "with autocast():"),),
        fix_summary="put optimizer.zero_grad(set_to_none=True) back before the forward pass",
    ),
    Scenario(
        name="grad_explosion",
        cause="grad_explosion",
        summary="plain SGD (momentum 0.95) at LR 0.5 without grad-norm clipping: within ~10 steps of the end of "
        "the warmup the grad norm grows by orders of magnitude, the loss turns NaN and the run stops as diverged",
        where="config.yaml: optim.grad_clip",
        # SGD, not MuGrokfast: Muon and AdamW normalise their updates, so clipping cannot change those runs. SGD's
        # step is lr * gradient, so one large gradient makes a large step, which makes a larger gradient; clipped
        # at 1.0 every step is at most lr * 1 and the run trains. LR 0.5 is the top of SGD's usual range (a higher
        # one would rightly be diagnosed lr_too_high). The short warmup (the trainer's own 10 steps) is what makes
        # the blow-up structural, not chaotic: the LR peaks while the freshly initialised model is still sharp, so
        # every seed overflows within ~15 steps of the peak. With a 100-step warmup the model has calmed down by the
        # time the LR peaks and the same LR sits on the stability edge: whether a seed explodes then depends on the
        # CPU's float details (issue 12; docs/fault-zoo.md). torch's default momentum form (not Nesterov): under
        # Nesterov the oscillation before the blow-up ramps and resets like a never-cleared gradient.
        config={"optim.name": "sgd", "optim.adam_lr": 0.5, "optim.nesterov": False, "optim.grad_clip": 0.0,
                "optim.warmup_steps": 10},
        fix_config={"optim.grad_clip": 1.0},
        fix_summary="optim.grad_clip 0 -> 1.0 (the default; same LR)",
    ),
    Scenario(
        name="nan_log",
        cause="nan_inf",
        summary="an unguarded torch.log in the ACT diversity term: log(0) as soon as a token halts early, so the "
        "loss becomes NaN and the run stops as diverged",
        where="phase1/model.py: compute_act_loss(), torch.log(q)",
        edits=(CodeEdit("model.py", "torch.log(q.clamp_min(LOG_EPS))", "torch.log(q)"),),
        fix_summary="torch.log(q) -> torch.log(q.clamp_min(LOG_EPS))",
    ),
    Scenario(
        name="overfitting",
        cause="overfitting",
        summary="8 training rows and many epochs without early stopping: the model memorises them (train loss "
        "~0.003) while the validation loss turns up after epoch 2 and keeps rising",
        where="config.yaml: data.train_size, train.epochs, train.early_stopping_patience",
        config={"data.train_size": 8, "train.epochs": 20, "train.steps_per_epoch": 15,
                "data.reasoning_epoch": 100, "data.advanced_epoch": 100, "train.early_stopping_patience": 0},
        reduced={"train.epochs": 8, "train.steps_per_epoch": 12},
        fix_config={"data.train_size": 2048},
        fix_summary="data.train_size 8 -> 2048 (more data; early stopping would also stop at the best epoch)",
    ),
]
SCENARIOS: dict[str, Scenario] = {s.name: s for s in SCENARIO_LIST}


def get(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


# ---- workspace materialisation ---------------------------------------------------------------------------------
def effective_config(scenario: Scenario, reduced: bool = False, extra: dict[str, Any] | None = None):
    """The scenario's full Config: trainer defaults -> --test size -> zoo base -> scenario (-> reduced)."""
    from .config import apply_overrides, build_config, validate

    cfg = build_config("reasoning", test=True)
    apply_overrides(cfg, BASE)
    if reduced:
        apply_overrides(cfg, BASE_REDUCED)
    apply_overrides(cfg, scenario.config)
    if reduced:
        apply_overrides(cfg, scenario.reduced)
    if extra:
        apply_overrides(cfg, extra)
    validate(cfg)
    return cfg


def _yaml_scalar(value: Any) -> str:
    """One YAML scalar (or flow list) that yaml.safe_load reads back to the same value and type."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1000)
    return text.replace("\n...\n", "\n").strip()  # a bare scalar document ends with "..."


def render_config_yaml(cfg) -> str:
    """Flat dotted keys, one per line, so that a fix can cite config.yaml:LINE for a key."""
    from .config import _flatten

    lines = ["# Effective config of this run: one dotted key per line. Edit it, then retrain: python train.py"]
    lines += [f"{key}: {_yaml_scalar(value)}" for key, value in _flatten(cfg.to_dict()).items()]
    return "\n".join(lines) + "\n"


def trainer_sources() -> list[Path]:
    """The trainer package files copied into a workspace (the zoo's own files are left out)."""
    files = []
    for p in sorted(PACKAGE_DIR.iterdir()):
        if p.is_file() and p.suffix in (".py", ".yaml") and p.name not in ZOO_ONLY:
            files.append(p)
    configs = PACKAGE_DIR / "configs"
    if configs.is_dir():
        files += sorted(p for p in configs.glob("*.yaml") if p.is_file())
    return files


def _act_loss_source(text: str) -> str:
    """The exact source of the healthy `def compute_act_loss(...)` function, found with ast (fails loudly)."""
    import ast

    tree = ast.parse(text)
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "compute_act_loss"]
    if len(found) != 1:
        raise ScenarioError(f"expected one top-level def compute_act_loss in model.py, found {len(found)}")
    lines = text.splitlines(keepends=True)
    return "".join(lines[found[0].lineno - 1 : found[0].end_lineno])


def inject(pkg_dir: Path, edits: tuple[CodeEdit, ...], reverse: bool = False) -> None:
    """Apply (or, with reverse=True, undo) exact text edits in a copy of the package. Fails loudly when the text
    to replace does not occur exactly `count` times."""
    for edit in edits:
        path = pkg_dir / edit.file
        text = path.read_text(encoding="utf-8")
        healthy = _act_loss_source(text) if edit.healthy == "__ACT_LOSS__" and not reverse else edit.healthy
        old, new = (edit.faulty, edit.healthy) if reverse else (healthy, edit.faulty)
        if reverse and edit.healthy == "__ACT_LOSS__":
            new = _act_loss_source((PACKAGE_DIR / edit.file).read_text(encoding="utf-8"))
        n = text.count(old)
        if n != edit.count:
            raise ScenarioError(f"{edit.file}: expected {edit.count} occurrence(s) of {old.strip()[:70]!r}, found {n}"
                                " (the trainer changed: update phase1/scenarios.py)")
        path.write_text(text.replace(old, new), encoding="utf-8")


TRAIN_PY = '''#!/usr/bin/env python3
"""Retrain this workspace from its own files: config.yaml and the trainer copy in phase1/.

    python train.py               # writes the next free run folder: run/, then run-2/, run-3/, ...
    python train.py --out DIR     # or a folder of your choice
    python train.py --set optim.muon_lr=5e-3   # any phase1-train option is passed through
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # this workspace's phase1/ wins over any installed copy


def next_run_dir() -> Path:
    if not (HERE / "run").exists():
        return HERE / "run"
    n = 2
    while (HERE / f"run-{n}").exists():
        n += 1
    return HERE / f"run-{n}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Retrain this workspace from its own config.yaml and phase1/ code.")
    ap.add_argument("--out", type=Path, help="run folder (default: the next free run/, run-2/, ...)")
    ap.add_argument("--config", type=Path, default=HERE / "config.yaml", help="config file (default: config.yaml)")
    args, rest = ap.parse_known_args(argv)
    import phase1
    from phase1 import train_phase1

    if Path(phase1.__file__).resolve().parent != HERE / "phase1":
        print(f"train.py: imported phase1 from {phase1.__file__}, not from this workspace", file=sys.stderr)
        return 2
    out = args.out if args.out is not None else next_run_dir()
    print(f"train.py: training with {args.config} into {out}", flush=True)
    return train_phase1.main(["--config", str(args.config), "--out", str(out), *rest])


if __name__ == "__main__":
    sys.exit(main())
'''

TESTS_CONFTEST = '''"""Make this workspace's phase1/ copy the one that is imported (never an installed phase1)."""

import sys
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1]
for name in [m for m in sys.modules if m == "phase1" or m.startswith("phase1.")]:
    del sys.modules[name]
sys.path.insert(0, str(WORKSPACE))
'''

TESTS_WORKSPACE = '''"""Quick checks of this workspace's trainer that any correct fix keeps passing (seconds, CPU)."""

from pathlib import Path

import torch

WORKSPACE = Path(__file__).resolve().parents[1]


def small_config():
    """The workspace config at a small size, so the checks stay fast whatever the model size is: the vocabulary
    capped at 512 and the depth at 3 blocks (the trainer's --test depth; the last block is still the refinement
    block), the width and heads as configured: every block adds Newton-Schulz work to the optimiser check (an
    8-block, 320-wide model's checks took 8.5 CPU-s, 6.1 at 3 blocks, single-threaded)."""
    from phase1.config import apply_overrides, build_config

    cfg = build_config(yaml_path=WORKSPACE / "config.yaml")
    cfg.model.vocab_size = min(cfg.model.vocab_size, 512)
    cfg.model.n_layers = min(cfg.model.n_layers, 3)
    apply_overrides(cfg, {"train.device": "cpu"})
    return cfg


def test_phase1_is_the_workspace_copy():
    import phase1

    assert Path(phase1.__file__).resolve().parent == WORKSPACE / "phase1"


def test_config_loads_and_validates():
    from phase1.config import build_config

    cfg = build_config(yaml_path=WORKSPACE / "config.yaml")
    assert cfg.model.d_model % cfg.model.n_heads == 0
    assert cfg.train.epochs >= 1


def test_forward_shapes_and_finite_loss():
    from phase1.model import Phase1Model

    cfg = small_config()
    torch.manual_seed(0)
    model = Phase1Model(cfg.model)
    x = torch.randint(0, 256, (2, 16))
    out = model(x, x)
    assert out.logits.shape == (2, 16, cfg.model.vocab_size)
    assert torch.isfinite(out.loss)


def test_one_optimiser_step_changes_the_weights():
    from phase1.model import Phase1Model
    from phase1.optim import build_optimizer

    cfg = small_config()
    torch.manual_seed(0)
    model = Phase1Model(cfg.model)
    opt = build_optimizer(model, cfg.optim)
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.randint(0, 256, (2, 16))
    model(x, x).loss.backward()
    opt.step()
    assert any(not torch.equal(a, p.detach()) for a, p in zip(before, model.parameters()))
'''

PYTEST_INI = "[pytest]\naddopts = -q -p no:cacheprovider\ntestpaths = tests\n"


def materialise(name: str, out: str | Path, reduced: bool = False, fixed: bool = False,
                extra: dict[str, Any] | None = None) -> Path:
    """Write the scenario's workspace (no training). fixed=True applies the known fix (zoo tests only)."""
    scenario = get(name)
    ws = Path(out)
    if ws.exists() and any(ws.iterdir()):
        raise ScenarioError(f"{ws} exists and is not empty: choose a new --out folder")
    cfg_extra = dict(extra or {})
    if fixed:
        cfg_extra = {**scenario.fix_config, **cfg_extra}
    cfg = effective_config(scenario, reduced=reduced, extra=cfg_extra)
    pkg = ws / "phase1"
    pkg.mkdir(parents=True, exist_ok=True)
    for src in trainer_sources():
        dest = pkg / src.relative_to(PACKAGE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    inject(pkg, scenario.edits)
    if fixed and scenario.fix_code:
        inject(pkg, scenario.edits, reverse=True)
    (ws / "config.yaml").write_text(render_config_yaml(cfg), encoding="utf-8")
    (ws / "train.py").write_text(TRAIN_PY, encoding="utf-8")
    (ws / "tests").mkdir()
    (ws / "tests" / "conftest.py").write_text(TESTS_CONFTEST, encoding="utf-8")
    (ws / "tests" / "test_workspace.py").write_text(TESTS_WORKSPACE, encoding="utf-8")
    (ws / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    return ws


def apply_known_fix(ws: str | Path, name: str) -> None:
    """Edit an existing workspace's files as the known fix says (for the zoo's tests; traindoc never calls this)."""
    scenario = get(name)
    ws = Path(ws)
    if scenario.fix_config:
        lines = (ws / "config.yaml").read_text(encoding="utf-8").splitlines()
        for key, value in scenario.fix_config.items():
            hits = [i for i, line in enumerate(lines) if line.split(":", 1)[0].strip() == key]
            if len(hits) != 1:
                raise ScenarioError(f"config.yaml: expected one line for {key}, found {len(hits)}")
            lines[hits[0]] = f"{key}: {_yaml_scalar(value)}"
        (ws / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if scenario.fix_code and scenario.edits:
        inject(ws / "phase1", scenario.edits, reverse=True)


def train_workspace(ws: str | Path, out: str | Path | None = None, timeout: float | None = None,
                    quiet: bool = False) -> int:
    """Run WS/train.py in a fresh interpreter (single-threaded BLAS: deterministic), the way a user retrains."""
    ws = Path(ws)
    cmd = [sys.executable, str(ws / "train.py")]
    if out is not None:
        cmd += ["--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)  # nothing may shadow the workspace's own phase1/
    kwargs: dict[str, Any] = {"cwd": ws, "env": env, "timeout": timeout}
    if quiet:
        kwargs.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, check=False, **kwargs).returncode


# ---- command line (reached through `phase1-train --scenario NAME --out DIR [--test]`) --------------------------
def main(args: argparse.Namespace) -> int:
    """Entry point called by train_phase1.main with its parsed arguments."""
    if getattr(args, "list_scenarios", False):
        for s in SCENARIO_LIST:
            print(f"{s.name:24s} {s.cause:24s} {s.summary}")
        return 0
    if not args.out:
        print("phase1-train: --scenario needs --out DIR (a new folder for the workspace)", file=sys.stderr)
        return 2
    try:
        from .config import parse_set

        extra = parse_set(getattr(args, "set", []) or [])
        ws = materialise(args.scenario, args.out, reduced=bool(getattr(args, "test", False)), extra=extra)
    except (ScenarioError, ValueError) as exc:
        print(f"phase1-train: {exc}", file=sys.stderr)
        return 2
    print(f"phase1-train: workspace {ws} (config.yaml, phase1/, train.py, tests/); training into {ws / 'run'}",
          flush=True)
    rc = train_workspace(ws, out=ws / "run")
    # A failing run (diverged, NaN) is the expected outcome of most scenarios: the workspace is still good.
    if not (ws / "run" / "metrics.jsonl").exists():
        print(f"phase1-train: the scenario's training wrote no metrics (exit {rc})", file=sys.stderr)
        return 1
    return 0
