"""Print what the console text-log reader makes of every log in a corpus, as a digest to diff across commits.

A change meant to make the reader faster must not change what it reads: run this on the old and the new code over
the same corpus and diff the two outputs (empty diff = same result). Per file the text-log reader would take
(sniff > 0): its family, record count and warnings; per series its name, point count, raw name and a hash of its
steps and values (bit-exact, so NaN and -0.0 count); the events, epochs, stages and run meta. Then per entry folder
the series of the whole `load_run` (every reader), so a change in which reader wins shows too.

    PYTHONPATH=src .venv/bin/python tools/text_log_digest.py [CORPUS_DIR]    (default: tests/corpus/realworld)

Pass the same CORPUS_DIR spelling on both sides: the run meta keeps the paths as given.
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log
from traindoc.ingest.registry import ReadError

ROOT = Path(__file__).resolve().parents[1]


def digest(*parts: bytes) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:12]


def series_lines(run: Run) -> list[str]:
    return [f"    {name} {len(s)} {digest(s.steps.tobytes(), s.values.tobytes())} {s.raw_name}"
            for name, s in sorted(run.metrics.items())]


def text_log_file(path: Path, root: Path) -> list[str]:
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    if text_log.sniff(path, head) <= 0:
        return []
    run = Run()
    try:
        src = text_log.read(path, run)
    except ReadError as exc:
        return [f"{path.relative_to(root)} ReadError {exc}"]
    run.finalize()
    events = repr([(e.kind, e.message, e.step, e.tag, e.line, e.count) for e in run.events]).encode()
    return [f"{path.relative_to(root)} {src.format} {src.records} {src.warnings}", *series_lines(run),
            f"    events {len(run.events)} {digest(events)} epochs {digest(repr(run.epoch_starts).encode())}"
            f" stages {run.stages} meta {sorted(run.meta.items())}"]


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "corpus" / "realworld"
    warnings.simplefilter("ignore")  # library warnings of other readers are not part of the digest
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for line in text_log_file(path, root):
            print(line)
    for entry in sorted(p for p in root.iterdir() if p.is_dir()):
        print(f"load_run {entry.name}")
        for line in series_lines(load_run([str(entry)])):
            print(line)


if __name__ == "__main__":
    main()
