"""`traindoc probe --factory module:function [--checkpoint PATH] [--device DEV] [--json]`.

Runs the user's own model and optimiser on one batch (docs/probe.md). Exit 0 when the probes ran (whatever they
found), 2 with one line when the factory or checkpoint cannot be used.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from traindoc.cli import UsageError


def run_factory(spec: str, checkpoint: str | None = None, device: str | None = None, overfit_steps: int = 100):
    """Import and call the user's factory, load the checkpoint, run every probe: a ProbeReport."""
    from traindoc.probe import ProbeError
    from traindoc.probe.factory import load_checkpoint, load_factory
    from traindoc.probe.run import run_probes

    try:
        parts = load_factory(spec)
        if checkpoint:
            load_checkpoint(parts["model"], checkpoint)
        return run_probes(device=device, overfit_steps=overfit_steps, **parts)
    except ProbeError as e:
        raise UsageError(str(e)) from None


def to_markdown(rep: Any) -> str:
    lines = ["# traindoc probe", ""]
    if not rep.findings:
        lines.append("No probe fired.")
    for f in rep.findings:
        lines.append(f"- **{f.cause}** ({f.strength:.2f}, {f.detector}): {f.summary}")
        lines += [f"  - {e}" for e in f.evidence]
    lines += ["", "## What ran", ""] + [f"- {n}" for n in rep.notes]
    if rep.cleared:
        lines.append(f"- ruled out on this model: {', '.join(rep.cleared)}")
    lines.append(f"- seconds: {', '.join(f'{k} {v:g}' for k, v in rep.seconds.items())}")
    return "\n".join(lines) + "\n"


def _finite(x: Any) -> Any:
    """NaN -> null, +-Inf -> "inf"/"-inf": the JSON stays strict."""
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def command(args: Any) -> int:
    rep = run_factory(args.factory, args.checkpoint, args.device, args.steps)
    if args.json:
        sys.stdout.write(json.dumps(_finite(rep.to_json()), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(to_markdown(rep))
    return 0
