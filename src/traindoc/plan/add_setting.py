"""Add a setting the framework reads when no file of the project sets it (the framework's default is the fault).

Editing a value needs a place that holds it (plan/config_sites.py). A Hugging Face run that never mentions
`warmup_steps` trains with the library's default 0, and the fix is to add the setting where the next run reads
its other training arguments, in the framework's own precedence (plan/targets.py):
1. the launch command, when its script parses `TrainingArguments` from flags (`HfArgumentParser`) and the command
   passes flags: `--key value` is appended to the command in its launch script or Makefile (or to the retrain
   command, when the command was only recorded);
2. the JSON file the command loads (HfArgumentParser's `parse_json_file`): the key is added to its top-level
   object;
3. a `TrainingArguments(...)` call in the project's code: the keyword is added to it.

Only settings that are fields of `TrainingArguments` (HF_TRAINING_ARGS) are ever added, so the parser accepts them;
the edited file must re-parse and read the new value back.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_python
from traindoc.plan.config_edit import format_like, read_key
from traindoc.plan.launch import Launch, command_at, flag_span, launch_config_files
from traindoc.plan.workspace import Context, Edit, code_texts, level, rel

# TrainingArguments fields a fix may add: present in every transformers release since v4 (warmup_ratio is not:
# v5 removed it, warmup_steps < 1 is a ratio there)
HF_TRAINING_ARGS = frozenset({"warmup_steps", "bf16", "fp16", "lr_scheduler_type", "max_grad_norm"})
HF_ARGS_CALL = "TrainingArguments"


def _reads_hf_args(text: str) -> bool:
    return HF_ARGS_CALL in text and "HfArgumentParser" in text


def _args_json(lc: Launch, root: Path) -> list[str]:
    """The JSON file HfArgumentParser reads: a positional `.json` argument of the script (not the value of a flag
    such as `--deepspeed ds.json`, which configures another library), inside the project."""
    out = []
    for j in range(lc.script + 1, len(lc.argv)):
        w, prev = lc.argv[j], lc.argv[j - 1]
        if w.endswith(".json") and not w.startswith("-") and (j == lc.script + 1 or not prev.startswith("-")):
            p = (lc.cwd / w).resolve()
            if p.is_file() and p.is_relative_to(root.resolve()) and str(p) in launch_config_files(lc):
                out.append(str(p))
    return out


def add_setting(ctx: Context, rc: dict[str, Any], key: str, value: Any, why: str) -> bool:
    """Add `key` = `value` where the next run reads its training arguments (module docstring); False if the
    project offers no such place."""
    if key not in HF_TRAINING_ARGS:
        return False
    lc = ctx.launch
    texts = code_texts(ctx)  # the project's own Python files, readable as text
    if lc is not None and _reads_hf_args(texts.get(str(lc.script_path), "")):
        for f in _args_json(lc, ctx.ws.root):
            if not (ctx.outputs and ctx.outputs.contains(f)):
                return _add_json_key(ctx, rc, f, key, value, why)
        if any(w.startswith("--") for w in lc.argv[lc.script + 1:]):
            return _add_flag(ctx, rc, key, value, why)
    return any(HF_ARGS_CALL in text and _add_kwarg(ctx, rc, f, key, value, why) for f, text in texts.items())


def _record(ctx: Context, rc: dict[str, Any], path: str, old: str, new: str, why: str, where: str,
            setting: dict[str, Any]) -> bool:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    added = [ln for ln in new_lines if ln not in old_lines] or new_lines[:1]
    ctx.ws.set_text(path, new, Edit(path, rc["cause"], "config", f"{why} (added to {rel(ctx, path)}: {where})",
                                    level(rc, "impact", "high"), level(rc, "effort", "low"), level(rc, "risk", "low"),
                                    added, [], setting=setting))
    return True


def flag_text(value: Any) -> str:
    """A value as HfArgumentParser reads it from the command line."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _add_flag(ctx: Context, rc: dict[str, Any], key: str, value: Any, why: str) -> bool:
    lc = ctx.launch
    assert lc is not None
    if flag_span(lc.argv, key) is not None:
        return False  # already passed: an edit of its value, not an addition
    if lc.file is None:  # recorded only: the retrain command carries it
        lc.overrides[key] = value
        ctx.ws.notes.append(f"--{key} {flag_text(value)} added to the retrain command ({why}; no project file holds "
                            "the launch command)")
        return True
    text = ctx.ws.text(lc.file)
    words = command_at(text, lc.line or 1)
    if not words:
        return False
    end = words[-1][1]
    new = text[:end] + f" --{key} {flag_text(value)}" + text[end:]
    return _record(ctx, rc, lc.file, text, new, why, f"the launch command ({lc.source}), which HfArgumentParser "
                                                     "reads into TrainingArguments", {"key": key, "value": value})


def _add_json_key(ctx: Context, rc: dict[str, Any], path: str, key: str, value: Any, why: str) -> bool:
    text = ctx.ws.text(path)
    try:
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict) or key in data:
        return False
    close = text.rstrip().rfind("}")
    last = len(text[:close].rstrip())  # just after the last value
    line_start = text.rfind("\n", 0, last) + 1
    indent = re.match(r"[ \t]*", text[line_start:]).group(0)
    entry = f"{json.dumps(key)}: {json.dumps(value)}"
    if "\n" in text[:close].strip() and indent:
        new = text[:last] + f",\n{indent}{entry}" + text[last:]
    else:
        new = text[:last] + (", " if data else "") + entry + text[last:]
    if read_key(path, new, key) != value:
        return False
    return _record(ctx, rc, path, text, new, why, "the JSON file the launch command loads into TrainingArguments",
                   {"key": key, "value": value})


def _add_kwarg(ctx: Context, rc: dict[str, Any], path: str, key: str, value: Any, why: str) -> bool:
    text = ctx.ws.text(path)
    tree = parse_python(text)
    if tree is None:
        return False
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and HF_ARGS_CALL in (getattr(n.func, "id", None), getattr(n.func, "attr", None))]
    if len(calls) != 1 or any(k.arg == key or k.arg is None for k in calls[0].keywords) or not calls[0].keywords:
        return False  # none, several (which one trains?), already set, or **kwargs we cannot see into
    call = calls[0]
    lines = text.splitlines(keepends=True)
    last = call.keywords[-1]
    value_text = format_like("", value, "python")
    end_line = last.value.end_lineno or last.lineno
    line_text = lines[end_line - 1]
    multiline = call.lineno != last.lineno and line_text.strip().startswith(f"{last.arg}=")
    if multiline and line_text.rstrip().endswith(","):
        indent = re.match(r"[ \t]*", lines[last.lineno - 1]).group(0)
        nl = "\n" if line_text.endswith("\n") else ""
        new = "".join(lines[:end_line]) + f"{indent}{key}={value_text},{nl}" + "".join(lines[end_line:])
    else:
        offset = sum(len(x) for x in lines[:end_line - 1]) + len(line_text.encode("utf-8")[:last.value.end_col_offset]
                                                                 .decode("utf-8", errors="ignore"))
        new = text[:offset] + f", {key}={value_text}" + text[offset:]
    new_tree = parse_python(new)
    if new_tree is None:
        return False
    added = [n for n in ast.walk(new_tree) if isinstance(n, ast.keyword) and n.arg == key]
    if len(added) != 1 or ast.literal_eval(added[0].value) != value:
        return False
    return _record(ctx, rc, path, text, new, why, f"the {HF_ARGS_CALL}(...) call that configures the Trainer",
                   {"key": key, "value": value})
