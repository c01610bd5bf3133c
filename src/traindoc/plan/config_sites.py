"""Config edits: find where the next run reads a key (plan/targets.py precedence: launch flag > the config the launch
loads > the cited config > the project's configs > the default in code; never a file a run wrote) and change its
value there, keeping the file's formatting."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traindoc.causes.keys import KEYS
from traindoc.ingest.own_outputs import is_own_output
from traindoc.plan import targets
from traindoc.plan.config_edit import ConfigEditError, find_value, parse_value_text
from traindoc.plan.workspace import Context, Edit, level, rel

RUN_OUTPUT_MARKERS = ("metrics.jsonl", "trainer_state.json", "checkpoints", "hparams.yaml")
SKIP_DIRS = {".venv", "venv", ".git", "__pycache__", ".traindoc", "node_modules", "site-packages", ".pytest_cache"}


def is_run_output(path: str) -> bool:
    """A file that a training run wrote (its config dump): editing it would not change the next run."""
    d = Path(path).resolve().parent
    return any((d / m).exists() for m in RUN_OUTPUT_MARKERS)


OWN_HEAD_BYTES = 64 * 1024  # what ingest reads to recognise its own outputs (ingest/loader.py HEAD_BYTES)


def traindoc_document(path: str) -> bool:
    """A diagnosis, plan or apply report traindoc wrote (`traindoc diagnose -o diagnosis.json` in the project folder,
    as a person or the loop does): no run reads it, and the words it quotes (`precision`, `lr`, ...) are not
    settings. Told by its content, as ingest tells it (ingest/own_outputs.py), never by its name."""
    if not path.endswith(".json"):
        return False
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False  # a FIFO would block
        with open(path, "rb") as f:
            return is_own_output(f.read(OWN_HEAD_BYTES))
    except OSError:
        return False


def discover_config_files(root: Path, max_depth: int = 2) -> list[str]:
    """YAML/JSON config files under the root (shallow), run outputs last; traindoc's own documents left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".") and depth < max_depth]
        for f in filenames:
            if f.endswith((".yaml", ".yml", ".json")) and not f.startswith(".") and \
                    not traindoc_document(str(Path(dirpath) / f)):
                found.append(str(Path(dirpath) / f))
    return sorted(found, key=lambda p: (is_run_output(p), len(Path(p).parts), p))


def resolve_path(ctx: Context, path: str | None) -> str | None:
    if not path:
        return None
    p = Path(path)
    for cand in ([p] if p.is_absolute() else [ctx.base / p, ctx.ws.root / p, Path.cwd() / p]):
        if cand.exists():
            return str(cand.resolve())
    return None


def resolve_config_site(ctx: Context, key: str, named_file: str | None) -> targets.Site | None:
    """Where the next run reads `key` (plan/targets.py: launch flags, the config the launch loads, the project's
    configs, code defaults; never a file a run wrote)."""
    outputs = ctx.outputs or targets.RunOutputs(ctx.ws.root, [])
    return targets.resolve(key, ctx.launch, resolve_path(ctx, named_file), ctx.config_files, ctx.code_files, outputs,
                           ctx.ws.text)


# ------------------------------------------------------------------------------------------------------ config


def apply_config(ctx: Context, rc: dict[str, Any], key: str, value: Any, named_file: str | None = None,
                 why: str = "") -> bool:
    site = resolve_config_site(ctx, key, named_file)
    if site is None:
        named = resolve_path(ctx, named_file)
        if named and ctx.outputs is not None and ctx.outputs.contains(named):
            ctx.ws.notes.append(targets.manual_for_run_copy(key, value, rel(ctx, named)))
        return False
    k = site.key
    if site.kind == targets.RUN_COPY_KIND:  # only a file the run wrote sets it for the command: said, not edited
        assert site.file is not None
        ident = f"manual::{site.file}::{k}"
        if ident not in ctx.ws.edited_keys:  # the diagnosis's change first; the cause's own fix adds no second one
            ctx.ws.edited_keys.add(ident)
            ctx.ws.notes.append(f"{targets.manual_for_run_copy(key, value, rel(ctx, site.file))} ({site.why})")
        return False
    if site.file is None:  # a flag of a recorded launch command: the fix travels in the retrain command
        assert ctx.launch is not None
        old = targets.current(site, ctx.launch, None)
        ctx.launch.overrides[k] = value
        ctx.ws.notes.append(f"{k}: {old!r} -> {value!r} in the retrain command ({site.why}; no project file "
                            "holds that command, so launch training with the retrain command below)")
        return True
    path = site.file
    ident = f"{path}::{k}"
    if ident in ctx.ws.edited_keys:
        ctx.ws.notes.append(f"{k} in {rel(ctx, path)} is already changed by an earlier fix; kept that change")
        return True
    text = ctx.ws.text(path)
    try:
        new_text, line, old_value = targets.edit_site(site, text, value, ctx.launch.line if ctx.launch else None)
    except ConfigEditError as e:
        ctx.ws.notes.append(str(e))
        return False
    if new_text == text:
        return True
    old_line = text.splitlines()[line - 1]
    new_line = new_text.splitlines()[line - 1]
    desc = why or f"{k}: {old_value} -> {new_line.strip()}"
    desc += f" (in {rel(ctx, path)}: {site.why})"
    ctx.ws.set_text(path, new_text, Edit(path, rc["cause"], "config", desc, level(rc, "impact", "high"),
                                         level(rc, "effort", "low"), level(rc, "risk", "low"),
                                         [new_line], [old_line], setting={"key": k, "value": value}))
    ctx.ws.edited_keys.add(ident)
    return True


def current_value(ctx: Context, key: str) -> tuple[Any, str] | None:
    site = resolve_config_site(ctx, key, None)
    if site is None:
        return None
    text = ctx.ws.text(site.file) if site.file else None
    value = targets.current(site, ctx.launch, text)
    return (value, site.key) if value is not None else None


def first_value(ctx: Context, keys: str) -> tuple[Any, str] | None:
    """(value, key as written) of the first key of alias group `keys` (causes/keys.py) the project sets."""
    for key in KEYS[keys]:
        cur = current_value(ctx, key)
        if cur is not None:
            return cur
    return None


def code_default(ctx: Context, key: str) -> Any:
    """The value the project's own Python code gives `key` (a dataclass / argparse default), if any."""
    for f in ctx.code_files:
        if not f.endswith(".py"):
            continue
        try:
            span = find_value(f, key, ctx.ws.text(f))
        except (OSError, UnicodeDecodeError):
            continue
        if span is not None:
            return parse_value_text(span.text)
    return None


def set_first(keys: str, value: Callable[[Context, Any], Any], why: str, null_ok: bool = False
              ) -> Callable[[Context, dict], bool]:
    """Set the first key of alias group `keys` the project sets. With `null_ok` (a constant new value), a key
    written as null counts as set: Lightning's `gradient_clip_val: null` is clipping switched off, the setting to
    change, not a missing one."""
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        for key in KEYS[keys]:
            cur = current_value(ctx, key)
            if cur is None and null_ok and (site := resolve_config_site(ctx, key, None)) is not None:
                cur = (None, site.key)
            if cur is not None:
                new = value(ctx, cur[0])
                return apply_config(ctx, rc, key, new, why=f"{cur[1]}: {cur[0]!r} -> {new!r} ({why})")
        return False
    return fixer
