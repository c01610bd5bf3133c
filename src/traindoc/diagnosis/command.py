"""`traindoc diagnose PATH... [--md] [--json] [--html FILE] [-o FILE] [--config FILE] [--code DIR]
[--probe MODULE:FUNCTION [--probe-checkpoint PATH]]`.

One diagnosis, every output: the run is read and diagnosed once, then written in each format asked for, e.g.
`--md --html report.html --json -o diagnosis.json` prints markdown and writes the HTML and JSON files.
stdout carries one format: markdown with --md; JSON with --json alone; with neither, markdown on a terminal and
JSON when piped (scripts and the skills read JSON; people read markdown), except that --html alone prints nothing.
--json together with --md needs -o FILE for the JSON. Files written are named on stderr by their absolute path.
Progress and warnings go to stderr.

Exit 0 when a diagnosis was produced (healthy included); 3 when something was read but too little to rank a cause
(insufficient_data: every output is still written, its `needs` say what would help); 2 with one line when the
arguments are wrong or nothing readable was found.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from traindoc.cli import EXIT_INSUFFICIENT_DATA, EXIT_OK, UsageError


def _load(args: Any):
    try:
        from traindoc.ingest.loader import load_run
    except ImportError as e:  # pragma: no cover - ingest stage missing
        raise UsageError(f"the ingest stage is not installed ({e})") from e
    return load_run(args.paths, configs=args.config or (), code_dirs=args.code or ())


def _write(path: str, content: str) -> None:
    """Write an output file, creating its folder; a path that cannot be written is a usage error, not a crash.
    The absolute path is printed: the reader may be in another directory, or on another machine (see
    docs/skills.md for opening a report from a remote machine, WSL or a container)."""
    full = os.path.abspath(path)
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(content)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"traindoc diagnose: wrote {full}", file=sys.stderr)


def _check_outputs(args: Any) -> None:
    """Refuse impossible combinations before the (possibly long) read, not after it."""
    if args.json and args.md and not args.output:
        raise UsageError("--md and --json both want stdout: add -o FILE for the JSON (e.g. --md --json -o "
                         "diagnosis.json)")
    targets = [os.path.abspath(p) for p in (args.output, args.html) if p]
    if len(set(targets)) < len(targets):
        raise UsageError("-o and --html name the same file: give each output its own file")
    inputs = {os.path.abspath(p) for p in args.paths}
    clobbered = [p for p in targets if p in inputs]
    if clobbered:
        raise UsageError(f"{clobbered[0]} is one of the inputs: an output never overwrites what it reads")


def command(args: Any) -> int:
    from traindoc.diagnosis.build import diagnose, validate, warn
    from traindoc.diagnosis.render import to_html, to_markdown

    _check_outputs(args)
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing and len(missing) == len(args.paths):
        raise UsageError(f"no such file or folder: {', '.join(missing)}; give a run directory or its log/metrics "
                         f"files")
    run = _load(args)
    if not run.sources and not run.metrics and not run.config:
        tried = run.meta.get("tried") or []
        what = f"tried {len(tried)} file(s), none in a known format" if tried else "found no files"
        raise UsageError(f"nothing readable in {' '.join(args.paths)}: {what}; need a metrics log (JSONL/CSV, "
                         f"TensorBoard events, trainer_state.json, Lightning metrics.csv or a text training log)")
    for w in run.warnings:
        warn(w)
    findings = None
    if getattr(args, "probe", None):  # the user named their model factory: probe findings join the log evidence
        from traindoc.evidence import run_detectors
        from traindoc.probe.combine import combine
        from traindoc.probe.command import run_factory

        findings = combine(run_detectors(run), run_factory(args.probe, getattr(args, "probe_checkpoint", None)))
    doc = diagnose(run, sorted(str(p) for p in args.paths), findings=findings)  # named in any order: one doc
    validate(doc)
    text = json.dumps(doc, indent=2, allow_nan=False)
    if args.output:
        _write(args.output, text + "\n")
    if args.html:
        _write(args.html, to_html(doc, run))
    if args.md:
        sys.stdout.write(to_markdown(doc))
    elif args.json or (not args.html and not sys.stdout.isatty()):
        sys.stdout.write(text + "\n")
    elif not args.html:
        sys.stdout.write(to_markdown(doc))
    return EXIT_INSUFFICIENT_DATA if doc.get("verdict") == "insufficient_data" else EXIT_OK
