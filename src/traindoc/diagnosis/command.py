"""`traindoc diagnose PATH... [--json | --md | --html FILE] [-o FILE] [--config FILE] [--code DIR]`.

Output choice: --json, --md or --html FILE when given; otherwise markdown when stdout is a terminal and JSON when
it is piped or redirected (scripts and the skills read JSON; people read markdown). Progress and warnings go to
stderr. Exit 0 whenever a diagnosis is produced (healthy and insufficient_data included when something was
read); exit 2 with one line when nothing readable was found.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from traindoc.cli import UsageError


def _load(args: Any):
    try:
        from traindoc.ingest.loader import load_run
    except ImportError as e:  # pragma: no cover - ingest stage missing
        raise UsageError(f"the ingest stage is not installed ({e})") from e
    return load_run(args.paths, configs=args.config or (), code_dirs=args.code or ())


def _write(path: str, content: str) -> None:
    """Write an output file, creating its folder; a path that cannot be written is a usage error, not a crash."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"traindoc diagnose: wrote {path}", file=sys.stderr)


def command(args: Any) -> int:
    from traindoc.diagnosis.build import diagnose, validate, warn
    from traindoc.diagnosis.render import to_html, to_markdown

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
    doc = diagnose(run, [str(p) for p in args.paths])
    validate(doc)
    text = json.dumps(doc, indent=2, allow_nan=False)
    if args.output:
        _write(args.output, text + "\n")
    if args.html:
        _write(args.html, to_html(doc, run))
        if not (args.json or args.md):
            return 0
    if args.json or (not args.md and not sys.stdout.isatty()):
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(to_markdown(doc))
    return 0
