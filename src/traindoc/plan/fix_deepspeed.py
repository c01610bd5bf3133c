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

scheduler_misuse where the JSON holds a scheduler that does not fit the run or overrides the Trainer's own
(deepspeed_schedule, below).
"""

from __future__ import annotations

import json
import re
from typing import Any

from traindoc.plan.add_setting import add_setting
from traindoc.plan.config_edit import ConfigEditError, edit_value
from traindoc.plan.config_sites import apply_config, current_value, first_value
from traindoc.plan.fix_schedule import run_length, warmup_for, warmup_steps
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
    return _first_found(ctx, [f for f in [*loaded, *ctx.config_files] if not _run_wrote(ctx, f)], read)


def _run_wrote(ctx: Context, f: str) -> bool:
    return ctx.outputs is not None and ctx.outputs.contains(f)


def _first_found(ctx: Context, files: list[str], read: Any) -> tuple[str, Any] | None:
    """(path, what `read` finds) of the first of `files` it finds something in; unreadable files are skipped."""
    for f in files:
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


# ------------------------------------------------------------------------------------ scheduler_misuse (DeepSpeed)
# DeepSpeed's schedulers that decay to `total_num_steps` (WarmupLR only warms up, then holds the LR)
DS_DECAYING = ("WarmupDecayLR", "WarmupCosineLR")
# the Trainer schedule each DeepSpeed scheduler stands for (the Trainer's DeepSpeed guide maps WarmupLR to
# `constant_with_warmup`, WarmupDecayLR to `linear`; WarmupCosineLR is the cosine); a Trainer `lr_scheduler_type`
# outside its scheduler's entry is a schedule the user asked for and never got (below)
DS_AS_HF = {"WarmupLR": ("constant_with_warmup", "constant"), "WarmupDecayLR": ("linear",),
            "WarmupCosineLR": ("cosine", "cosine_with_min_lr")}
SCHEDULER_KEY = re.compile(r'"scheduler"\s*:\s*')


def _steps(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _ds_schedule(path: str, text: str) -> dict[str, Any] | None:
    """The `scheduler` block of a DeepSpeed JSON config with its params (None: the JSON has no such block)."""
    cfg = _json(path, text)
    sched = cfg.get("scheduler") if cfg else None
    if not isinstance(sched, dict) or not isinstance(sched.get("params"), dict) or \
            not ({"warmup_num_steps", "total_num_steps"} & set(sched["params"])):
        return None
    return sched


def _trainer_warmup(ctx: Context, rc: dict[str, Any], n: int, why: str) -> bool:
    """The Trainer's warmup set to `n` where the next run reads it, else added beside its training arguments."""
    for key in HF_WARMUP_KEYS:
        cur = current_value(ctx, key)
        if cur is not None:
            return apply_config(ctx, rc, key, n, why=f"{cur[1]}: {cur[0]!r} -> {n}: {why}")
    return add_setting(ctx, rc, "warmup_steps", n, f"warmup_steps = {n}: {why}")


def _drop_scheduler_block(ctx: Context, rc: dict[str, Any], path: str, why: str) -> bool:
    """The JSON's top-level `"scheduler": {...}` removed with its comma, every other byte kept; the result is
    re-read and must be the old config less that block."""
    text = ctx.ws.text(path)
    cfg = _json(path, text) or {}
    for m in SCHEDULER_KEY.finditer(text):
        try:
            obj, stop = json.JSONDecoder().raw_decode(text, m.end())
        except ValueError:
            continue
        if obj != cfg.get("scheduler"):
            continue
        start = m.start()
        after = re.match(r"\s*,", text[stop:])
        if after:  # `"scheduler": {...},` and what follows it on its line: the next key keeps its own indentation
            end = stop + after.end()
            line_start = text.rfind("\n", 0, start) + 1
            if not text[line_start:start].strip() and text[end:].lstrip(" \t").startswith(("\n", "\r\n")):
                start, end = line_start, end + len(text[end:]) - len(text[end:].lstrip(" \t"))
                end += 2 if text.startswith("\r\n", end) else 1
        else:  # the last key: its preceding comma goes with it
            before = re.search(r",\s*$", text[:start])
            if before is None:
                return False
            start, end = before.start(), stop
        new = text[:start] + text[end:]
        rest = {k: v for k, v in cfg.items() if k != "scheduler"}
        if _json(path, new) != rest:
            return False  # not an edit that reads back
        old_lines = text.splitlines()
        line = text.count("\n", 0, m.start())
        ctx.ws.set_text(path, new, Edit(path, rc["cause"], "config", f"{why} (in {rel(ctx, path)}: DeepSpeed reads "
                                        "it there)", level(rc, "impact", "high"), level(rc, "effort", "low"),
                                        level(rc, "risk", "low"), [], [old_lines[line]],
                                        setting=None))  # a removed block: nothing to read back but its absence
        return True
    return False


def _manual_for_run_copy(ctx: Context) -> None:
    """Only a copy a run wrote holds DeepSpeed's scheduler (the JSON its launch loaded is not in the project): that
    copy is never edited, and the plan says what to change where training is launched."""
    found = _first_found(ctx, [f for f in ctx.config_files if _run_wrote(ctx, f)], _ds_schedule)
    if found is not None:
        f, sched = found
        ctx.ws.notes.append(
            f"scheduler_misuse: DeepSpeed's {sched.get('type') or 'LR'} scheduler is recorded only in "
            f"{rel(ctx, f)}, a file the run wrote (not edited); in the DeepSpeed JSON you launch with, set "
            "scheduler.params.warmup_num_steps to ~5% of the run and total_num_steps to its length (\"auto\" "
            "for both under the HF Trainer, with its warmup_steps set where training is launched)")


def deepspeed_schedule(ctx: Context, rc: dict[str, Any]) -> bool:
    """scheduler_misuse where a DeepSpeed JSON holds the LR scheduler the next run trains with (WarmupLR,
    WarmupDecayLR, WarmupCosineLR): DeepSpeed builds it from the JSON, so no warmup or schedule set elsewhere changes
    it. Fixed there, as no_warmup is (deepspeed_warmup): a warmup as long as the run is cut to ~5% of it; a decay
    whose `total_num_steps` ends before the run does (the LR at 0 for the rest: DeepSpeed's decay factor is clipped
    at 0) is stretched to the run's length, and one that ends after a configured length is fitted to it. Under the
    HF Trainer a literal that differs from the Trainer's own value stops the run at start (HfTrainerDeepSpeedConfig),
    so the JSON's number becomes "auto" (the Trainer fills `total_num_steps` with the run's steps and
    `warmup_num_steps` with its `warmup_steps`, which is set where the next run reads it); a Trainer
    `lr_scheduler_type` that names another schedule than the JSON's is silently overridden by DeepSpeed's
    (transformers' deepspeed_optim_sched uses the JSON's scheduler whenever it has one), so the JSON's block is
    removed and the schedule the user configured runs."""
    found = deepspeed_config(ctx, _ds_schedule)
    if found is None:
        _manual_for_run_copy(ctx)
        return False
    path, sched = found
    name, kind, params = rel(ctx, path), str(sched.get("type", "")), sched["params"]
    configured = first_value(ctx, "max_steps")
    length = run_length(ctx)
    if not length:
        ctx.ws.notes.append(f"scheduler_misuse: {name} holds DeepSpeed's {kind or 'LR'} scheduler, which the next "
                            "run trains with; the run's length is unknown, so its warmup_num_steps / total_num_steps "
                            "were not checked against it")
        return False
    hf = _uses_hf_trainer(ctx)
    if hf:
        lst = current_value(ctx, "lr_scheduler_type")
        if lst is not None and kind in DS_AS_HF and str(lst[0]) not in DS_AS_HF[kind]:
            return _drop_scheduler_block(
                ctx, rc, path, f"the scheduler block ({kind}) removed: DeepSpeed's scheduler replaces the Trainer's, "
                               f"so {lst[1]}={lst[0]!r} was never applied; without the block the Trainer builds "
                               f"its {lst[0]} schedule (with its warmup_steps)")
    done = False
    warm, total = _steps(params.get("warmup_num_steps")), _steps(params.get("total_num_steps"))
    if warm is not None and warm >= length:
        new = min(warmup_for(length), max(1, length // 2))
        why = f"a {warm}-step warmup never ends in a {length}-step run, so the LR never reaches its peak"
        if not hf:
            done |= _set_json(ctx, rc, path, "scheduler.params.warmup_num_steps", new,
                              f"warmup_num_steps: {warm} -> {new}: {why}")
        elif _trainer_warmup(ctx, rc, new, why):
            done |= _set_json(ctx, rc, path, "scheduler.params.warmup_num_steps", "auto",
                              f'warmup_num_steps: {warm} -> "auto": the Trainer fills it with its warmup_steps '
                              f"({new}); a number that differs stops the run at start") or True
        else:
            ctx.ws.notes.append(f"scheduler_misuse: set warmup_num_steps in {name} to \"auto\" and the Trainer's "
                                f"warmup_steps to {new} where training is launched ({why})")
    if total is not None and kind in DS_DECAYING and total != length:
        # a decay that ends early is proven by the run itself; one that ends late only against a configured length
        # (the diagnosed run may have been stopped before its end)
        if hf:
            done |= _set_json(ctx, rc, path, "scheduler.params.total_num_steps", "auto",
                              f'total_num_steps: {total} -> "auto": the Trainer fills it with the run\'s steps '
                              f"({length}); {kind} decays over it")
        elif total < length or configured is not None:
            why = (f"the decay ended at step {total} and left the LR at 0 for the last {length - total} steps"
                   if total < length else f"the decay was set for {total} steps and the run stops at {length}")
            done |= _set_json(ctx, rc, path, "scheduler.params.total_num_steps", length,
                              f"total_num_steps: {total} -> {length}: {why}")
    return done
