"""Learning-rate schedule fixes as config edits (no_warmup, scheduler_misuse), in every layout the plan knows.

no_warmup: the warmup is set where the next run reads it (a launch flag, the loaded config, a config file, a code
default: plan/config_sites.py); a Hugging Face project that never mentions a warmup gets `warmup_steps` added
where it passes its other training arguments (plan/add_setting.py).

scheduler_misuse, when the configured schedule does not fit the run: a warmup as long as the run (the LR never
reaches its peak), a decay that ends before the run does (the LR sits at its floor, or 0, for the rest), or HF's
`constant` scheduler under a configured warmup (`constant` ignores the warmup).
"""

from __future__ import annotations

from typing import Any

from traindoc.plan.add_setting import add_setting
from traindoc.plan.config_sites import apply_config, first_value
from traindoc.plan.workspace import Context

WARMUP_SHARE = 0.05  # docs/causes.md: a linear warmup over ~1-5% of the steps
MIN_WARMUP = 10  # fewer steps damp nothing: the first updates are still nearly full-size


def warmup_for(length: int | None) -> int:
    return max(MIN_WARMUP, round(WARMUP_SHARE * (length or 200)))


def warmup_steps(ctx: Context, old: Any) -> int:
    """~5% of the run, at least 10 steps; an existing warmup is never shortened by a no_warmup fix."""
    new = warmup_for(ctx.total_steps)
    return max(new, old) if isinstance(old, int) and not isinstance(old, bool) else new


def add_warmup(ctx: Context, rc: dict[str, Any]) -> bool:
    """No file sets a warmup: add `warmup_steps` where an HF project passes its training arguments."""
    n = warmup_steps(ctx, None)
    return add_setting(ctx, rc, "warmup_steps", n, f"warmup_steps = {n}: a linear warmup over ~5% of the steps "
                                                    "(the Trainer's default is 0)")


def _int(cur: tuple[Any, str] | None) -> int | None:
    return cur[0] if cur and isinstance(cur[0], int) and not isinstance(cur[0], bool) else None


def run_length(ctx: Context) -> int | None:
    """The steps the next run is configured for (its max_steps / max_iters), else the diagnosed run's length."""
    configured = _int(first_value(ctx, "max_steps"))
    return configured if configured and configured > 0 else ctx.total_steps


def fit_schedule_to_run(ctx: Context, rc: dict[str, Any]) -> bool:
    length = run_length(ctx)
    if not length:
        return False
    done = False
    w = first_value(ctx, "warmup_steps")
    if (n := _int(w)) is not None and n >= length and w is not None:
        new = min(warmup_for(length), max(1, length // 2))
        done |= apply_config(ctx, rc, w[1], new, why=f"{w[1]}: {n} -> {new}: a {n}-step warmup never ends in a "
                                                     f"{length}-step run, so the LR never reaches its peak")
    r = first_value(ctx, "warmup_ratio")
    if r is not None and isinstance(r[0], int | float) and not isinstance(r[0], bool) and r[0] >= 1:
        done |= apply_config(ctx, rc, r[1], WARMUP_SHARE, why=f"{r[1]}: {r[0]} -> {WARMUP_SHARE}: a warmup of "
                                                              "the whole run never reaches the peak LR")
    d = first_value(ctx, "decay_steps")
    if (n := _int(d)) is not None and 0 < n < length and d is not None:
        done |= apply_config(ctx, rc, d[1], length, why=f"{d[1]}: {n} -> {length}: the decay ended at step {n} and "
                                                        f"left the LR at its floor for the last {length - n} steps")
    s = first_value(ctx, "lr_schedule")
    warm = _int(first_value(ctx, "warmup_steps")) or 0
    ratio = first_value(ctx, "warmup_ratio")
    if s is not None and s[1].rsplit(".", 1)[-1] == "lr_scheduler_type" and str(s[0]) == "constant" and (
            warm > 0 or (ratio is not None and isinstance(ratio[0], float) and ratio[0] > 0)):
        done |= apply_config(ctx, rc, s[1], "constant_with_warmup",
                             why=f"{s[1]}: constant -> constant_with_warmup: HF's constant schedule ignores the "
                                 "configured warmup")
    return done
