"""Fixes where a DeepSpeed JSON config holds the setting the next run trains with.

no_warmup where a DeepSpeed JSON config holds the LR scheduler (`"scheduler": {"type": "WarmupDecayLR", "params":
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

fp16_overflow where the JSON turns DeepSpeed's fp16 on (`"fp16": {"enabled": true}`): DeepSpeed's own precision,
which no Trainer flag or accelerate setting changes. Under the HF Trainer the same check ties `fp16.enabled` and
`bf16.enabled` to the Trainer's `fp16` / `bf16`, which the rest of the fp16 fix turns to bf16 (plan/fix_precision.py):
the JSON's literal becomes `"auto"` (a `"bf16": {"enabled": "auto"}` block added after the fp16 one where the JSON has
none), so the Trainer's bf16 reaches DeepSpeed. Without the HF Trainer: `fp16.enabled` false and `bf16.enabled` true
where the JSON has that block, else the block added.
"""

from __future__ import annotations

import json
import re
from typing import Any

from traindoc.plan.add_setting import add_setting
from traindoc.plan.config_edit import ConfigEditError, edit_value
from traindoc.plan.config_sites import apply_config, current_value
from traindoc.plan.fix_schedule import warmup_steps
from traindoc.plan.launch import launch_config_files
from traindoc.plan.workspace import Context, Edit, code_texts, level, rel

DS_KEY = "scheduler.params.warmup_num_steps"
# the Trainer's own reading of its arguments: a project that trains through it has its warmup checked against the JSON
HF_TRAINER = re.compile(r"\b(TrainingArguments|HfArgumentParser|Seq2SeqTrainingArguments)\b")
HF_WARMUP_KEYS = ("warmup_steps",)  # the Trainer's field (warmup_ratio is gone in transformers 5)
FP16_KEY = re.compile(r'"fp16"\s*:\s*')  # where a JSON's fp16 block starts (its end: the JSON decoder's)


def _json(path: str, text: str) -> dict[str, Any] | None:
    if not path.endswith(".json"):
        return None
    try:
        cfg = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return cfg if isinstance(cfg, dict) else None


def _ds_warmup(path: str, text: str) -> int | None:
    """The numeric `scheduler.params.warmup_num_steps` of a DeepSpeed JSON config (None: not one, or `"auto"`)."""
    cfg = _json(path, text)
    sched = cfg.get("scheduler") if cfg else None
    params = sched.get("params") if isinstance(sched, dict) else None
    n = params.get("warmup_num_steps") if isinstance(params, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def _ds_fp16(path: str, text: str) -> bool | None:
    """True where the JSON turns DeepSpeed's fp16 on with a literal (`"fp16": {"enabled": true}`)."""
    cfg = _json(path, text)
    fp16 = cfg.get("fp16") if cfg else None
    return True if isinstance(fp16, dict) and fp16.get("enabled") is True else None


def deepspeed_config(ctx: Context, read: Any = _ds_warmup) -> tuple[str, Any] | None:
    """(path, what `read` finds) of the DeepSpeed JSON the next run loads: one the launch command names first, else
    the project's; never a file a run wrote."""
    loaded = launch_config_files(ctx.launch) if ctx.launch else []
    for f in [*loaded, *ctx.config_files]:
        if ctx.outputs is not None and ctx.outputs.contains(f):
            continue
        try:
            n = read(f, ctx.ws.text(f))
        except (OSError, UnicodeDecodeError):
            continue
        if n is not None:
            return f, n
    return None


def _uses_hf_trainer(ctx: Context) -> bool:
    return any(HF_TRAINER.search(t) for t in code_texts(ctx).values())


def deepspeed_warmup(ctx: Context, rc: dict[str, Any]) -> bool:
    """no_warmup in the DeepSpeed JSON the next run loads (module docstring); False where it holds no scheduler."""
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


def _set_json(ctx: Context, rc: dict[str, Any], path: str, key: str, value: Any, why: str) -> bool:
    """`key` (dotted) of the JSON at `path` set to `value`, the rest of the file byte for byte (config_edit)."""
    text = ctx.ws.text(path)
    try:
        new, span = edit_value(path, text, key, value)
    except ConfigEditError as e:
        ctx.ws.notes.append(str(e))
        return False
    return _record(ctx, rc, path, text, new, span.line, f"{why} (in {rel(ctx, path)}: DeepSpeed reads it there)",
                   {"key": key, "value": value})


def _record(ctx: Context, rc: dict[str, Any], path: str, text: str, new: str, line: int, why: str,
            setting: dict[str, Any] | None) -> bool:
    if new == text:
        return False
    old_lines, new_lines = text.splitlines(), new.splitlines()
    added = len(new_lines) - len(old_lines)
    ctx.ws.set_text(path, new, Edit(path, rc["cause"], "config", why, level(rc, "impact", "high"),
                                    level(rc, "effort", "low"), level(rc, "risk", "low"),
                                    new_lines[line - 1:line + added], [old_lines[line - 1]], setting=setting))
    return True


def _add_bf16_block(ctx: Context, rc: dict[str, Any], path: str, enabled: Any) -> bool:
    """`"bf16": {"enabled": ...}` added right after the JSON's fp16 block, at its indentation."""
    text = ctx.ws.text(path)
    cfg = _json(path, text) or {}
    end = None
    for m in FP16_KEY.finditer(text):  # the top-level block: the one whose object is the parsed config's fp16
        try:
            obj, stop = json.JSONDecoder().raw_decode(text, m.end())
        except ValueError:
            continue
        if obj == cfg.get("fp16"):
            end, start = stop, m.start()
            break
    if end is None:
        return False
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start] if not text[line_start:start].strip() else "  "
    block = json.dumps({"enabled": enabled})
    new = text[:end] + f',\n{indent}"bf16": {block}' + text[end:]
    cfg = _json(path, new)
    if cfg is None or cfg.get("bf16") != {"enabled": enabled}:
        return False  # not an edit that reads back
    return _record(ctx, rc, path, text, new, text.count("\n", 0, end) + 1,
                   f'"bf16": {block} added after the fp16 block (in {rel(ctx, path)}): DeepSpeed trains in bfloat16, '
                   "fp32's exponent range", {"key": "bf16.enabled", "value": enabled})


def deepspeed_half_to_bf16(ctx: Context, rc: dict[str, Any]) -> bool:
    """fp16_overflow in the DeepSpeed JSON the next run loads (module docstring); False where its fp16 is not on."""
    found = deepspeed_config(ctx, _ds_fp16)
    if found is None:
        return False
    path = found[0]
    cfg = _json(path, ctx.ws.text(path)) or {}
    bf16 = cfg.get("bf16") if isinstance(cfg.get("bf16"), dict) else None
    if _uses_hf_trainer(ctx):
        # the Trainer's fp16 -> bf16 (plan/fix_precision.py) fills both; a literal left here contradicts it
        done = _set_json(ctx, rc, path, "fp16.enabled", "auto",
                         'fp16.enabled: true -> "auto": the Trainer fills it (false once its fp16 is off); a literal '
                         "that differs stops the run at start")
        if bf16 is None:
            return _add_bf16_block(ctx, rc, path, "auto") or done
        if bf16.get("enabled") not in ("auto", True):
            done |= _set_json(ctx, rc, path, "bf16.enabled", "auto", 'bf16.enabled -> "auto": the Trainer fills it')
        return done
    done = _set_json(ctx, rc, path, "fp16.enabled", False, "fp16.enabled: true -> false: float16 overflows above "
                                                           "65504")
    if bf16 is None:
        return _add_bf16_block(ctx, rc, path, True) or done
    if bf16.get("enabled") is not True:
        done |= _set_json(ctx, rc, path, "bf16.enabled", True, "bf16.enabled -> true: fp32's exponent range")
    return done
