"""The plan as the person reads it: "## Implementation Plan ... Proceed?" in Markdown."""

from __future__ import annotations

import difflib
from typing import Any

from traindoc.cli import program
from traindoc.plan.manual import manual_steps
from traindoc.plan.test_command import shown_command


def _short(text: str) -> str:
    return " ".join(text.strip().split())


def render_markdown(plan: dict[str, Any]) -> str:
    out = ["## Implementation Plan", ""]
    by_cause: dict[str, list[dict[str, Any]]] = {}
    for c in plan["changes"]:
        by_cause.setdefault(c.get("cause", ""), []).append(c)
    n = 0
    for fx in plan.get("fixes", []):
        conf = fx.get("confidence")
        conf_s = f", confidence {conf:.0%}" if isinstance(conf, int | float) else ""
        out.append(f"### Fix for root cause {fx.get('rank')}: `{fx['cause']}`{conf_s}")
        if fx.get("summary"):
            out.append(fx["summary"])
        out.append("")
        for c in by_cause.get(fx["cause"], []):
            n += 1
            out.append(f"{n}. File: `{c['file']}`" + (f"  Line: {c['line']}" if c["kind"] != "new_file" else
                                                      " (new file)"))
            if c["kind"] == "new_file":
                out.append(f"   Adds: {c['description']}")
            elif not c["after"].strip():
                out.append(f"   Remove: `{_short(c['before'])}`")
                out.append(f"   Why: {c['description']}")
            elif "\n" not in c["before"].rstrip("\n") and "\n" not in c["after"].rstrip("\n"):
                out.append(f"   Change: `{_short(c['before'])}` → `{_short(c['after'])}`")
                out.append(f"   Why: {c['description']}")
            else:
                out.append(f"   Why: {c['description']}")
                diff = difflib.unified_diff(c["before"].splitlines(), c["after"].splitlines(), lineterm="", n=1)
                out += ["   ```diff"] + [f"   {ln}" for ln in list(diff)[2:]] + ["   ```"]
            out.append(f"   Impact: {c['impact'].upper()} · Effort: {c['effort'].upper()} · Risk: {c['risk'].upper()}")
            out.append("")
        if not by_cause.get(fx["cause"]):
            out += ["   (no automatic change: see notes)", ""]
    out.append("Testing:")
    for t in plan["tests"]["add"]:
        out.append(f"- Add `{t['file']}`: {t['description']}")
    out.append(f"- Run `{shown_command(plan['tests']['run'])}` before and after the change (every file is restored "
               "byte for byte if a test fails that passed before)")
    out.append("")
    ver = plan["verification"]
    out.append("Verification:")
    if ver.get("retrain"):
        out.append(f"- Retrain as you launched it ({ver.get('retrain_source')}), with the fix: `{ver['retrain']}`")
        out += [f"  ({n})" for n in ver.get("retrain_notes") or []]
    elif ver.get("retrain_missing"):
        out.append(f"- Retrain: {ver['retrain_missing']}")
    out.append(f"- Then: `{ver['verify']}`, which checks:")
    for p in ver.get("expected_outcome", []):
        out.append(f"  - {p.get('description', p)}")
    if plan.get("notes"):
        out += ["", "Notes:"] + [f"- {n}" for n in plan["notes"]]
    if not plan["changes"]:
        out += ["", "Nothing to apply automatically; manual steps:"] + [f"- {s}" for s in manual_steps(plan)]
        return "\n".join(out) + "\n"
    out += ["", f"Plan id: `{plan['plan_id']}` (root `{plan['root']}`)", "",
            f"Proceed? Approve with: `{program()} apply PLAN.json --approve {plan['plan_id']}`"]
    return "\n".join(out) + "\n"
