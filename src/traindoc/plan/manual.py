"""What the person must do by hand when a plan could not realise a fix automatically."""

from __future__ import annotations

from typing import Any


def manual_steps(plan: dict[str, Any]) -> list[str]:
    """One line per chosen cause with no automatic change (its fix summary), then the plan's notes."""
    steps = []
    for fx in plan.get("fixes") or []:
        if isinstance(fx, dict) and not fx.get("planned") and not fx.get("in_retrain_command"):
            summary = fx.get("summary") or "see the diagnosis for what to change"
            steps.append(f"{fx.get('cause', '?')}: {summary}")
    # the notes' "no change could be planned" lines only repeat the causes listed above
    steps += [str(n) for n in plan.get("notes") or [] if not str(n).endswith("could be planned automatically")]
    return steps or ["none listed: the diagnosis proposed no change traindoc could make"]
