"""Print what the console text-log reader makes of every log in a corpus, as a digest to diff across commits.

A change meant to make the reader faster must not change what it reads: run this on the old and the new code over
the same corpus and diff the two outputs (empty diff = same result). Per file the text-log reader would take
(sniff > 0): its family, record count and warnings; per series its name, point count, raw name and a hash of its
steps and values (bit-exact, so NaN and -0.0 count); the events, epochs, stages and run meta. Then per entry folder
the series of the whole `load_run` (every reader), so a change in which reader wins shows too.

    PYTHONPATH=src .venv/bin/python tools/text_log_digest.py [CORPUS_DIR]    (default: tests/corpus/realworld)

Pass the same CORPUS_DIR spelling on both sides: the run meta keeps the paths as given.

`--unread` prints instead, per text log a specific family reads, how many of its lines have a `name: number` or
`name=number` shape and gave no point (nor a config value), with the first few: the lines a family that claims the
file leaves unread (a user's own prints beside a library's lines).
"""

from __future__ import annotations

import hashlib
import re
import sys
import warnings
from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log
from traindoc.ingest.readers.textlog_formats import State, normalise, parse_generic
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


# a name, then ":" or "=", then a number: the shape of a metric print (what --unread counts)
_NUMERIC_PAIR = re.compile(r"[A-Za-z_][\w.-]*\s*[:=]\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w:])")
_SHOWN = 3  # unread lines shown per file


def unread_lines(path: Path, root: Path) -> list[str]:
    """The file's numeric-pair lines that gave neither a point nor a config value (FAST_PATH off: one line at a
    time, so every point is traced to its line)."""
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    if text_log.sniff(path, head) <= 0:
        return []
    touched: set[int] = set()
    at = [0]
    frame, add, record = text_log._Parser.frame, text_log._Collector.add, text_log.record_config

    def traced_frame(self: text_log._Parser, line_no: int, raw: str, cut_off: bool = False) -> None:
        at[0] = line_no
        frame(self, line_no, raw, cut_off)

    def traced_add(self: text_log._Collector, name: str, step: int, value: float) -> None:
        touched.add(at[0])
        add(self, name, step, value)

    def traced_record(*args: object, **kwargs: object) -> None:
        touched.add(at[0])
        record(*args, **kwargs)

    text_log._Parser.frame, text_log._Collector.add = traced_frame, traced_add  # type: ignore[method-assign]
    text_log.record_config, text_log.FAST_PATH = traced_record, False
    try:
        src = text_log.read(path, Run())
    except ReadError:
        return []
    finally:
        text_log._Parser.frame, text_log._Collector.add = frame, add  # type: ignore[method-assign]
        text_log.record_config, text_log.FAST_PATH = record, True
    if src.format == "text_log:generic":
        return []
    unread, readable = [], []
    state = State()
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:  # lines as the reader numbers them
        for no, line in enumerate(f, 1):
            if no not in touched and _NUMERIC_PAIR.search(line):
                unread.append((no, line.rstrip()[:160]))
                rec = parse_generic(normalise(line.rstrip("\r\n")).text, state)
                if rec is not None and rec.metrics:
                    readable.append(unread[-1])
    if not unread:
        return []
    # first the lines the generic rules would read: the candidates for a user's own prints
    return [f"{path.relative_to(root)} {src.format} unread {len(unread)} generic-readable {len(readable)} "
            f"lines-with-points {len(touched)}",
            *(f"    {no}: {text}" for no, text in (readable or unread)[:_SHOWN])]


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--unread"]
    root = Path(args[0]) if args else ROOT / "tests" / "corpus" / "realworld"
    warnings.simplefilter("ignore")  # library warnings of other readers are not part of the digest
    if "--unread" in sys.argv[1:]:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            for line in unread_lines(path, root):
                print(line)
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for line in text_log_file(path, root):
            print(line)
    for entry in sorted(p for p in root.iterdir() if p.is_dir()):
        print(f"load_run {entry.name}")
        for line in series_lines(load_run([str(entry)])):
            print(line)


if __name__ == "__main__":
    main()
