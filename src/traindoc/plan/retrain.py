"""The retrain command a plan shows: the user's own launch command with the fix applied, writing a new folder.

The fix reaches the command in one of two ways: a flag edited in the launch script (the command is re-read from
the plan's new text of that script), or, for a command only recorded (W&B, a log line), the new value written
into the command itself. The new run must never land in the diagnosed run's folder (verify would then compare a
run with itself, and the evidence would be gone): an output flag that points there is moved to a sibling
`<name>-fixed`; a command with no output flag gets one when the script defines it; otherwise the plan says so.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from traindoc.cli import program
from traindoc.plan.add_setting import flag_text
from traindoc.plan.config_edit import find_value, parse_value_text
from traindoc.plan.launch import OUTPUT_FLAGS, Launch, command_at, flag_span, launch_config_files, unquote
from traindoc.plan.targets import shell_text


def _current_argv(lc: Launch, text_of: Any) -> list[str]:
    if lc.file is None:
        argv = list(lc.argv)
        for key, value in lc.overrides.items():
            hit = flag_span(argv, key)
            if hit is not None:
                i, off = hit
                argv[i] = argv[i][:off] + shell_text(argv[i][off:], value)
            elif lc.dotted:  # a value of the run's saved config: a dotted flag after --config (LightningCLI)
                argv.append(f"--{key}={dotted_text(value)}")
            else:  # a setting the command did not pass (plan/add_setting.py): appended as a flag
                argv += [f"--{key}", flag_text(value)]
        return argv + lc.extra
    text = text_of(lc.file)
    argv = [unquote(w[2]) for w in command_at(text, lc.line or 1)]
    if Path(lc.file).name.lower().endswith("makefile") or lc.file.endswith(".mk"):
        argv = [re.sub(r"\$\((CURDIR|PWD)\)/?", "", a) for a in argv]
    return argv + lc.extra  # a one-off flag for this retrain (plan/fix_resume.py), never written into the script


def dotted_text(value: Any) -> str:
    """A value as jsonargparse reads it from a `--group.key=value` flag (YAML: true, null, 0.003)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _fresh(path: Path) -> Path:
    cand = path.with_name(path.name + "-fixed")
    n = 2
    while cand.exists():
        cand = path.with_name(f"{path.name}-fixed{n}")
        n += 1
    return cand


def _flags_override_configs(lc: Launch, text_of: Any) -> bool:
    """nanoGPT's configurator applies `--key=value` after the config files; HfArgumentParser's JSON form ignores
    every flag."""
    return lc.script_path.is_file() and "configurator" in text_of(str(lc.script_path))


def _output_in_config(lc: Launch, text_of: Any) -> tuple[str, str] | None:
    """(config file, value) when a config the command loads names the output folder (HfArgumentParser's JSON)."""
    for f in launch_config_files(lc):
        for o in OUTPUT_FLAGS:
            try:
                span = find_value(f, o, text_of(f))
            except (ValueError, RecursionError):
                continue
            if span is not None:
                return Path(f).name, str(parse_value_text(span.text))
    return None


def _defines_output(script_text: str) -> str | None:
    """An output option the script itself defines (argparse flag, HF's TrainingArguments, nanoGPT global)."""
    for o in OUTPUT_FLAGS:
        if re.search(rf"add_argument\(\s*['\"]--{re.escape(o)}['\"]", script_text):
            return f"--{o}"
    if "HfArgumentParser" in script_text:
        return "--output_dir"
    m = re.search(r"^(out_dir|output_dir)\s*=", script_text, re.M)
    if m and "configurator" in script_text:
        return f"--{m.group(1)}="
    return None


def retrain_command(lc: Launch, run_dirs: list[Path], text_of: Any) -> dict[str, Any]:
    """{command, cwd, source, new_run, notes} for the launch `lc` after the plan's edits."""
    argv = _current_argv(lc, text_of)
    notes: list[str] = []
    new_run: Path | None = None
    runs = [d.resolve() for d in run_dirs]
    hit = next(((o, h) for o in OUTPUT_FLAGS if (h := flag_span(argv, o)) is not None), None)
    if hit is not None:
        _, (i, off) = hit
        target = (lc.cwd / argv[i][off:]).resolve()
        if any(target == d or d.is_relative_to(target) for d in runs):
            fresh = _fresh(target)
            rel = Path(argv[i][off:]).parent / fresh.name
            argv[i] = argv[i][:off] + str(rel)
            new_run = fresh
        else:
            new_run = target
    elif lc.next_run is not None:  # the framework picks a new folder itself (Lightning's next version_N)
        new_run = lc.next_run.resolve()
        notes.append(f"Lightning's logger writes the new run to the next version folder, {new_run.name}, beside the "
                     "diagnosed one")
    elif lc.dotted:
        notes.append("the replayed LightningCLI config names its own logger or root folder, which picks the new run's "
                     "folder: pass that folder to verify")
    elif not _flags_override_configs(lc, text_of) and (in_config := _output_in_config(lc, text_of)) is not None:
        cfg, value = in_config
        target = (lc.cwd / value).resolve()
        if any(target == d or d.is_relative_to(target) for d in runs):
            notes.append(f"{cfg} writes the run into {value}, the diagnosed run's folder: change its output folder "
                         "or move the diagnosed run aside before retraining")
        else:
            new_run = target
    else:
        script_text = text_of(str(lc.script_path)) if lc.script_path.is_file() else ""
        flag = _defines_output(script_text)
        # the outermost diagnosed folder: a run's own sub-folders (checkpoints/, logs/) are diagnosed too, and a
        # new run named after one of them would land inside the diagnosed run
        outer = sorted(d for d in runs if not any(e != d and d.is_relative_to(e) for e in runs))
        base = outer[0] if outer else lc.cwd / "run"
        if any(p.name in ("mlruns", "wandb") for p in base.parents):  # a tracker's store holds only its own runs
            base = lc.cwd / base.name
        fresh = _fresh(base)
        try:
            rel = str(fresh.relative_to(lc.cwd))
        except ValueError:
            rel = str(fresh)
        json_form = len(argv) == lc.script + 2 and argv[-1].endswith(".json") and "HfArgumentParser" in script_text
        if json_form:  # HfArgumentParser reads a lone JSON argument and takes no flag beside it
            notes.append(f"the command hands HfArgumentParser {argv[-1]} alone, which takes no other flag: set its "
                         "output_dir to a new folder before retraining")
        elif flag and flag.endswith("="):
            argv.append(f"{flag}{rel}")
            new_run = fresh
        elif flag:
            argv += [flag, rel]
            new_run = fresh
        else:
            notes.append("the launch command names no output folder and the script defines no option for one: "
                         "move the diagnosed run aside before retraining, or the new run may overwrite it")
    return {"command": shlex.join(argv), "argv": argv, "cwd": str(lc.cwd), "source": lc.source,
            "new_run": str(new_run) if new_run else None, "notes": notes}


def plan_retrain(lc: Launch | None, run_dirs: list[Path], text_of: Any, diagnosis_path: str) -> dict[str, Any]:
    """The plan's `verification` entries for retraining: the command (or why there is none) and the verify line."""
    diag = shlex.quote(diagnosis_path) if diagnosis_path else "DIAGNOSIS.json"
    if lc is None:
        return {"retrain": None, "retrain_source": None, "new_run": None,
                "retrain_missing": "the launch command could not be recovered (no launch script or Makefile in the "
                                   "project, no command recorded by W&B or MLflow, saved by LightningCLI or "
                                   "echoed in the log): rerun `traindoc plan` with --retrain-cmd "
                                   "'THE COMMAND YOU TRAIN WITH'",
                "verify": f"{program()} verify {diag} NEW_RUN"}
    rt = retrain_command(lc, run_dirs, text_of)
    cmd = rt["command"] if Path(rt["cwd"]) == Path.cwd() else f"cd {shlex.quote(rt['cwd'])} && {rt['command']}"
    out = {"retrain": cmd, "retrain_argv": rt["argv"], "retrain_cwd": rt["cwd"], "retrain_source": rt["source"],
           "new_run": rt["new_run"],
           "verify": f"{program()} verify {diag} {shlex.quote(rt['new_run']) if rt['new_run'] else 'NEW_RUN'}"}
    if rt["notes"]:
        out["retrain_notes"] = rt["notes"]
    return out
