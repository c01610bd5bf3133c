"""The per-cause policy table: each cause's `plan` policy (src/traindoc/causes/<id>.py) turned into a fixer, and
the diagnosis's own proposed changes realised first.

A cause's steps are interpreted here (SetKey, ScaleKey, FixCode, Strategy, Manual, causes/model.py); the named
rules some steps refer to live in plan/strategies.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traindoc.causes import CAUSES
from traindoc.causes.keys import KEYS
from traindoc.causes.model import FixCode, Manual, ScaleKey, SetKey, Step, Strategy
from traindoc.evidence import code_sites
from traindoc.plan.code_fix import apply_site, apply_sites_for, fixes_all_sites, templates_of
from traindoc.plan.config_edit import parse_value_text
from traindoc.plan.config_sites import apply_config, current_value, resolve_path, set_first
from traindoc.plan.strategies import COMPUTED, RULE_WHY, STRATEGIES
from traindoc.plan.workspace import Context, code_texts


def _scale_lr(factor: float, why: str, keys: str = "lr_to_scale") -> Callable[[Context, dict[str, Any]], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        for key in KEYS[keys]:
            cur = current_value(ctx, key)
            if cur and isinstance(cur[0], int | float) and not isinstance(cur[0], bool) and cur[0] > 0:
                new = float(f"{cur[0] * factor:.3g}")
                return apply_config(ctx, rc, key, new, why=f"{cur[1]}: {cur[0]:g} -> {new:g} ({why})")
        return False
    return fixer


def _code(cause: str, templates: list[str] | None = None, first_only: bool = False) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        return apply_sites_for(ctx, rc, cause, templates, first_only)
    return fixer


def _either(*fixers: Callable[[Context, dict], bool]) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        return any(f(ctx, rc) for f in fixers)
    return fixer


def _both(*fixers: Callable[[Context, dict], bool]) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        return any([f(ctx, rc) for f in fixers])
    return fixer


def _manual(advice: str) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        ctx.ws.notes.append(f"{rc['cause']}: no automatic edit; {advice}")
        return False
    return fixer


def _step_fixer(cause: str, step: Step) -> Callable[[Context, dict], bool]:
    if isinstance(step, ScaleKey):
        return _scale_lr(step.factor, step.why, step.keys)
    if isinstance(step, SetKey):
        value = COMPUTED[step.value] if step.computed else (lambda c, v, const=step.value: const)
        return set_first(step.keys, value, step.why, null_ok=not step.computed)
    if isinstance(step, FixCode):
        return _code(cause, first_only=step.first_only)
    if isinstance(step, Strategy):
        return STRATEGIES[step.name]
    if isinstance(step, Manual):
        return _manual(step.advice)
    raise TypeError(f"{cause}: unknown plan step {step!r}")


def _policy_fixer(cause: str, steps: tuple[Step, ...], mode: str) -> Callable[[Context, dict], bool]:
    fixers = [_step_fixer(cause, st) for st in steps]
    return _both(*fixers) if mode == "all" else _either(*fixers)


# the cause's default fixer, when none of the diagnosis's own changes can be realised
DEFAULT_FIXERS: dict[str, Callable[[Context, dict], bool]] = {
    cid: _policy_fixer(cid, c.plan.steps, c.plan.mode) for cid, c in CAUSES.items()}
# run after the diagnosis's own changes too: every remaining code site of a `fix_all_sites` cause is a bug on its
# own (its locators go silent once fixed), and a `complete` step may add what the diagnosis's one change missed
COMPLETE_AFTER_DIAGNOSIS: dict[str, Callable[[Context, dict], bool]] = {
    cid: _policy_fixer(cid, c.plan.complete + ((FixCode(),) if c.plan.fix_all_sites else ()), "all")
    for cid, c in CAUSES.items() if c.plan.complete or c.plan.fix_all_sites}


def _at_least(ctx: Context, cause: str, key: str, value: Any, why: str) -> tuple[Any, str]:
    """A proposed value raised to the floor its cause's policy sets for that key (PlanPolicy.at_least)."""
    for group, rule in CAUSES[cause].plan.at_least if cause in CAUSES else ():
        if key.rsplit(".", 1)[-1] in KEYS[group] and isinstance(value, int) and not isinstance(value, bool):
            floor = COMPUTED[rule](ctx, value)
            if value < floor:
                return floor, f"{key} -> {floor} ({RULE_WHY.get(rule, rule)})"
    return value, why


def apply_diagnosis_changes(ctx: Context, rc: dict[str, Any]) -> bool:
    """Realise the diagnosis's own proposed changes; True if at least one became an edit."""
    any_done = defer_all = False
    order = templates_of(rc.get("cause", ""))
    changes = sorted((rc.get("fix") or {}).get("changes") or [], key=lambda ch: (
        ch.get("target") != "config", order.index(ch.get("template")) if ch.get("template") in order else len(order)))
    for ch in changes:
        if ch.get("target") == "config" and ch.get("key") and ch.get("after") not in (None, ""):
            value = parse_value_text(ch["after"])
            why = ch.get("description", "")
            value, why = _at_least(ctx, rc.get("cause", ""), ch["key"], value, why)
            any_done |= apply_config(ctx, rc, ch["key"], value, ch.get("file"), why=why)
        elif ch.get("target") == "code" and ch.get("template"):
            file = resolve_path(ctx, ch.get("file"))
            if file and file not in ctx.code_files:
                ctx.code_files.append(file)
            if fixes_all_sites(rc.get("cause")):
                defer_all = True  # every site of the cause is fixed below, most encompassing template first
                continue
            sites = [s for s in code_sites.locate_in_texts(code_texts(ctx), [rc["cause"]])
                     if s.template == ch["template"] and (file is None or s.file == file)]
            if ch.get("line"):
                sites.sort(key=lambda s: abs(s.line - int(ch["line"])))
            for s in sites[:1]:
                any_done |= apply_site(ctx, rc, s)
    if defer_all:
        any_done |= apply_sites_for(ctx, rc, rc["cause"])
    return any_done
