"""no_warmup where a DeepSpeed JSON config holds the LR scheduler (`"scheduler": {"type": "WarmupDecayLR", "params":
{"warmup_num_steps": 1, ...}}`).

DeepSpeed builds the scheduler from that JSON, so its `warmup_num_steps` is the warmup the next run trains with; a
`warmup_steps` set anywhere else does not change it. Under the Hugging Face Trainer (`--deepspeed ds.json`, or
accelerate's `deepspeed_config_file`) the two must also agree: transformers' HfTrainerDeepSpeedConfig fills an
`"auto"` `warmup_num_steps` from the Trainer's warmup and refuses to start when a number there differs from it
("Please correct the following DeepSpeed config values that mismatch TrainingArguments values ... The easiest method
is to set these DeepSpeed config values to 'auto'", transformers/integrations/deepspeed.py, trainer_config_finalize).
So a plan that only added `--warmup_steps 10` to the launch command, as it did before, gave a next run that does not
start. Here:
- HF Trainer project: the Trainer's warmup is set to the new length where the next run reads it (the same places the
  rest of the no_warmup policy uses: the launch flag, its config, the code default, else added beside the training
  arguments), and the JSON's number becomes `"auto"`, so one place holds the value, as transformers advises;
- a project without the HF Trainer (DeepSpeed or accelerate driving the model itself): the number itself, in the
  JSON, keeping the file's formatting.
An existing warmup at least as long as the new one is never shortened: the JSON is left alone and the plan says so.
"""

from __future__ import annotations

import json
import re
from typing import Any

from traindoc.plan.add_setting import add_setting
from traindoc.plan.config_sites import apply_config, current_value
from traindoc.plan.fix_schedule import warmup_steps
from traindoc.plan.launch import launch_config_files
from traindoc.plan.workspace import Context, code_texts, rel

DS_KEY = "scheduler.params.warmup_num_steps"
# the Trainer's own reading of its arguments: a project that trains through it has its warmup checked against the JSON
HF_TRAINER = re.compile(r"\b(TrainingArguments|HfArgumentParser|Seq2SeqTrainingArguments)\b")
HF_WARMUP_KEYS = ("warmup_steps",)  # the Trainer's field (warmup_ratio is gone in transformers 5)


def _ds_warmup(path: str, text: str) -> int | None:
    """The numeric `scheduler.params.warmup_num_steps` of a DeepSpeed JSON config (None: not one, or `"auto"`)."""
    if not path.endswith(".json"):
        return None
    try:
        cfg = json.loads(text)
    except ValueError:
        return None
    sched = cfg.get("scheduler") if isinstance(cfg, dict) else None
    params = sched.get("params") if isinstance(sched, dict) else None
    n = params.get("warmup_num_steps") if isinstance(params, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def deepspeed_config(ctx: Context) -> tuple[str, int] | None:
    """(path, warmup_num_steps) of the DeepSpeed JSON the next run loads: one the launch command names first, else
    the project's; never a file a run wrote."""
    loaded = launch_config_files(ctx.launch) if ctx.launch else []
    for f in [*loaded, *ctx.config_files]:
        if ctx.outputs is not None and ctx.outputs.contains(f):
            continue
        try:
            n = _ds_warmup(f, ctx.ws.text(f))
        except (OSError, UnicodeDecodeError):
            continue
        if n is not None:
            return f, n
    return None


def _uses_hf_trainer(ctx: Context) -> bool:
    return any(HF_TRAINER.search(t) for t in code_texts(ctx).values())


def deepspeed_warmup(ctx: Context, rc: dict[str, Any]) -> bool:
    found = deepspeed_config(ctx)
    if found is None:
        return False
    path, old = found
    n = warmup_steps(ctx, old)
    name = rel(ctx, path)
    if n <= old:
        ctx.ws.notes.append(f"no_warmup: {name} already warms DeepSpeed's scheduler up over {old} steps "
                            f"(warmup_num_steps); left as it is")
        return True  # nothing else may set a warmup the JSON would then contradict
    why = f"a linear warmup over ~5% of the steps (DeepSpeed's scheduler in {name} warmed up over {old})"
    if not _uses_hf_trainer(ctx):
        return apply_config(ctx, rc, DS_KEY, n, path, why=f"warmup_num_steps: {old} -> {n}: {why}")
    # the Trainer's warmup first: the JSON's "auto" takes it, so without it the JSON must keep its number
    done = False
    for key in HF_WARMUP_KEYS:
        cur = current_value(ctx, key)
        if cur is not None:
            done = apply_config(ctx, rc, key, n, why=f"{cur[1]}: {cur[0]!r} -> {n}: {why}")
            break
    else:
        done = add_setting(ctx, rc, "warmup_steps", n, f"warmup_steps = {n}: {why}")
    if not done:
        ctx.ws.notes.append(f"no_warmup: set warmup_num_steps in {name} and the Trainer's warmup_steps to {n} together "
                            "(transformers refuses a DeepSpeed number that differs from the Trainer's), or set the "
                            f"JSON's to \"auto\" and warmup_steps {n} where training is launched")
        return False
    return apply_config(ctx, rc, DS_KEY, "auto", path,
                        why=f'warmup_num_steps: {old} -> "auto": the Trainer fills it with its warmup_steps ({n}); '
                            "a number that differs stops the run at start") or done

