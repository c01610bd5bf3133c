"""mode_collapse: retrain from the last healthy checkpoint, with the LR lowered.

The collapse starts at the first degenerate sample the diagnosis saw (its finding's `first_degenerate_step`, else
the cause's step). A checkpoint saved before that step holds weights that still generated healthy text. The run's
checkpoints are found in the diagnosed run folders and the project (`checkpoint-<N>` folders as HF writes them,
`*step=<N>*.ckpt` as Lightning names them, `ckpt_<N>.pt`, `step_<N>.pt`, `iter_<N>.pt`, ...; a name without a step
says nothing about when it was saved and is not used).

Automatic only where the retrain can really start from those weights with a lower LR: the entry script declares a
resume option (argparse: `--resume`, `--resume_from`, `--ckpt_path`, `--init_from_checkpoint`, ...): the retrain
command gets `--<option> <checkpoint>` (for this retrain only; the launch script is not changed) and the LR is
halved where the next run reads it. A Hugging Face Trainer or Lightning resume restores the optimizer and schedule
state, LR included, so a lowered LR would not reach it: those, and a project without a resume option, get a manual
step naming the checkpoint. With no checkpoint before the collapse, the manual step says so.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_python
from traindoc.plan.config_sites import SKIP_DIRS
from traindoc.plan.workspace import Context, rel

STEP_IN_NAME = re.compile(r"(?:^checkpoint|step|iter|global_step|ckpt)[-_=]?(\d+)(?:\D|$)", re.I)
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".safetensors")
RESUME_OPTIONS = ("resume_from_checkpoint", "resume_from", "resume", "ckpt_path", "init_from_checkpoint",
                  "load_checkpoint", "checkpoint_path", "init_checkpoint", "from_checkpoint")
MAX_DEPTH = 4  # run/checkpoints/<name>/file: deep enough for the layouts above
LR_FACTOR = 0.5  # the same halving as lr_too_high's fix: the collapse came under the old LR


def collapse_step(ctx: Context, rc: dict[str, Any]) -> int | None:
    """The first degenerate sample's step (the diagnosis's mode-collapse finding), else the cause's step."""
    for f in ctx.diagnosis.get("findings") or []:
        if isinstance(f, dict) and f.get("cause") == "mode_collapse":
            n = (f.get("numbers") or {}).get("first_degenerate_step")
            if isinstance(n, int) and not isinstance(n, bool):
                return n
    step = rc.get("step")
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def checkpoints(ctx: Context) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint whose name gives its step, under the runs and the project."""
    roots = [*(ctx.outputs.runs if ctx.outputs else []), ctx.ws.root]
    found: dict[Path, int] = {}
    for top in roots:
        for dirpath, dirnames, filenames in os.walk(top):
            d = Path(dirpath)
            depth = len(d.relative_to(top).parts)
            dirnames[:] = [n for n in dirnames if n not in SKIP_DIRS and depth < MAX_DEPTH]
            for name in dirnames:  # HF: output/checkpoint-500/
                m = re.fullmatch(r"checkpoint-(\d+)", name)
                if m:
                    found[(d / name).resolve()] = int(m.group(1))
            for name in filenames:
                m = STEP_IN_NAME.search(Path(name).stem) if name.endswith(CHECKPOINT_SUFFIXES) else None
                if m:
                    found[(d / name).resolve()] = int(m.group(1))
    return sorted(((s, p) for p, s in found.items()), key=lambda x: (x[0], str(x[1])))


def resume_option(text: str) -> str | None:
    """The resume option the entry script declares with argparse (None: it has none)."""
    tree = parse_python(text)
    if tree is None:
        return None
    declared = set()
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") ==
                 "add_argument"):
        for a in call.args:
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("--"):
                declared.add(a.value[2:])
    return next((f"--{o}" for o in RESUME_OPTIONS if o in declared or o.replace("_", "-") in declared), None)


def resume_healthy_checkpoint(ctx: Context, rc: dict[str, Any]) -> bool:
    from traindoc.plan.policy import DEFAULT_FIXERS  # the LR is lowered by lr_too_high's own fix

    onset = collapse_step(ctx, rc)
    if onset is None:
        ctx.ws.notes.append("mode_collapse: the diagnosis gives no step for the collapse, so no checkpoint can be "
                            "shown to predate it; retrain from one saved before the samples degenerated")
        return False
    ckpts = checkpoints(ctx)
    healthy = [c for c in ckpts if c[0] < onset]
    if not healthy:
        seen = ", ".join(str(s) for s, _ in ckpts) or "none found"
        ctx.ws.notes.append(f"mode_collapse: no checkpoint predates the collapse at step {onset} (checkpoints at "
                            f"steps: {seen}); fix the cause behind it and retrain from the start")
        return False
    step, path = healthy[-1]
    where = rel(ctx, str(path))
    lc = ctx.launch
    text = ctx.ws.text(str(lc.script_path)) if lc is not None and lc.script_path.is_file() else ""
    option = resume_option(text) if lc is not None and text else None
    if lc is None or option is None or "HfArgumentParser" in text or "LightningCLI" in text:
        ctx.ws.notes.append(f"mode_collapse: resume from {where} (step {step}, the last checkpoint before the collapse"
                            f" at step {onset}) with the LR halved; "
                            + ("the entry script declares no resume option, so" if option is None else
                               "the Trainer restores the optimizer's and schedule's LR on resume, so")
                            + " load those weights and lower the LR in your own launch")
        return False
    lc.extra = [option, os.path.relpath(path, lc.cwd) if path.is_relative_to(lc.cwd.resolve()) else str(path)]
    lowered = DEFAULT_FIXERS["lr_too_high"](ctx, {**rc, "cause": rc.get("cause", "mode_collapse")})
    ctx.ws.notes.append(f"mode_collapse: the retrain command resumes from {where} ({option}; step {step}, the last "
                        f"checkpoint before the collapse at step {onset})"
                        + ("; the LR is halved" if lowered else "; no LR setting was found to lower: lower it in "
                           "your launch"))
    return True
