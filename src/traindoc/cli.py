"""`traindoc` command line. Each sub-command lives in its stage's `command.py` and is imported lazily, so
`traindoc diagnose` never pays for (or depends on) plan/apply code, and nothing imports torch up front.

Exit codes: 0 success; 1 a check failed (verify) or apply refused / rolled back; 2 bad input (usage error,
nothing readable); 3 insufficient data (diagnose read something, too little to rank a cause: the diagnosis is
still written, its `needs` say what would help). The skills' launchers add 69 for "no backend installed".
Errors are one line on stderr; set TRAINDOC_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys

from traindoc import __version__

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INSUFFICIENT_DATA = 0, 1, 2, 3


class UsageError(Exception):
    """Bad arguments or unreadable input: one line on stderr, exit 2."""


def program() -> str:
    """The command that runs traindoc for whoever reads our messages: the skills' launcher sets TRAINDOC_PROG to its
    own path (a user of the skills has no `traindoc` on PATH), a plain install is `traindoc`."""
    prog = os.environ.get("TRAINDOC_PROG", "").strip()
    return shlex.quote(prog) if prog else "traindoc"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="traindoc", description="Diagnose and fix failing training runs.")
    p.add_argument("--version", action="version", version=f"traindoc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("diagnose", help="read a run's artifacts and rank root causes")
    d.add_argument("paths", nargs="+", help="run directory or files (logs, metrics, configs, checkpoints, samples)")
    d.add_argument("--json", action="store_true",
                   help="the JSON diagnosis (schema-validated): on stdout, or into -o FILE when --md has stdout")
    d.add_argument("--md", action="store_true", help="print the markdown report (default on a terminal)")
    d.add_argument("--html", metavar="FILE", help="also write an HTML report with plots to FILE")
    d.add_argument("-o", "--output", metavar="FILE", help="also write the JSON diagnosis to FILE")
    d.add_argument("--config", action="append", default=[], metavar="FILE", help="extra config file to read")
    d.add_argument("--code", action="append", default=[], metavar="DIR", help="source folder to locate fixes in")
    d.add_argument("--probe", metavar="MODULE:FUNCTION", help="also probe the model this factory returns (runs your "
                   "code; see docs/probe.md)")
    d.add_argument("--probe-checkpoint", metavar="PATH", help="weights to load into the probed model")

    pl = sub.add_parser("plan", help="turn a diagnosis into a reviewable plan")
    pl.add_argument("diagnosis", help="DIAGNOSIS.json")
    pl.add_argument("--fix", metavar="N|CAUSE[,...]",
                    help="root causes to fix, by rank or cause id, e.g. 2 or fp16_overflow (default: all above 0.5)")
    pl.add_argument("-o", "--output", metavar="PLAN.json", help="write the plan JSON here")
    pl.add_argument("--json", action="store_true", help="print the plan JSON instead of markdown")
    pl.add_argument("--root", metavar="DIR", help="project root (default: common root of the diagnosed run)")
    pl.add_argument("--retrain-cmd", metavar="CMD",
                    help="the command you train with, when the plan cannot recover it (run from the project root)")

    a = sub.add_parser("apply", help="apply an approved plan, all or nothing, then run the tests")
    a.add_argument("plan", nargs="?", help="PLAN.json (with --recover: the plan or the project root)")
    a.add_argument("--approve", metavar="PLAN_ID", help="the plan_id printed by `traindoc plan`")
    a.add_argument("--dry-run", action="store_true", help="show the diff, change nothing")
    a.add_argument("--test-cmd", metavar="CMD", help="test command (default: the plan's, else pytest)")
    a.add_argument("--no-tests", action="store_true", help="apply without running tests")
    a.add_argument("--allow-failing-baseline", action="store_true",
                   help="apply even if tests already fail before the change (only new failures roll back)")
    a.add_argument("--recover", action="store_true", help="finish or undo an interrupted apply, then exit")

    pr = sub.add_parser("probe", help="run your own model and optimiser on one batch to find what logs cannot show")
    pr.add_argument("--factory", required=True, metavar="MODULE:FUNCTION",
                    help="function returning the model, a batch and optionally loss_fn, optimizer, scheduler "
                    "(importing it runs your code: naming it is your consent; docs/probe.md)")
    pr.add_argument("--checkpoint", metavar="PATH", help="weights (state dict) to load into the model first")
    pr.add_argument("--device", metavar="DEV", help="accelerator the probes may use (default: CPU only)")
    pr.add_argument("--steps", type=int, default=100, metavar="N", help="single-batch overfit steps (default 100)")
    pr.add_argument("--json", action="store_true", help="print the probe report as JSON")

    v = sub.add_parser("verify", help="check a new run against the expected outcomes of a diagnosis")
    v.add_argument("diagnosis", help="DIAGNOSIS.json of the original run")
    v.add_argument("new_run", nargs="+", help="the new run's directory or files")
    v.add_argument("--json", action="store_true", help="print the verification as JSON")
    v.add_argument("--html", metavar="FILE", help="also write a before/after report with plots to FILE")
    v.add_argument("--plan", metavar="PLAN.json",
                   help="the applied plan (default: plan.json next to the diagnosis): a run older than it is refused")
    return p


# sub-command -> module whose `command(args) -> int` runs it
_COMMANDS = {
    "diagnose": "traindoc.diagnosis.command",
    "probe": "traindoc.probe.command",
    "plan": "traindoc.plan.command",
    "apply": "traindoc.apply.command",
    "verify": "traindoc.verify.command",
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        module = importlib.import_module(_COMMANDS[args.command])
        return int(module.command(args) or 0)
    except UsageError as e:
        print(f"traindoc {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"traindoc {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # last line of defence: never a traceback for users
        if os.environ.get("TRAINDOC_DEBUG"):
            raise
        print(f"traindoc {args.command}: internal error: {type(e).__name__}: {e} "
              "(set TRAINDOC_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
