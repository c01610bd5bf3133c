"""Reader for a file that holds the command which launched the run (`command.txt`, `cmd.txt`, `run.sh`,
`train.sh`): its flags are the run's configuration (readers/_command_line.py says which lines count and how they
are read). A shell script's backslash continuations are joined first, so a command spread over lines is one.
A notebook run is launched by a Python call instead (`learn.fit_one_cycle(1, max_lr=0.5)`): its literal arguments
are read the same way (readers/_training_call.py); a file that parses as Python is read whole, so a call spread
over lines is one, else line by line.
"""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.readers._command_line import command_flags, record
from traindoc.ingest.readers._training_call import call_config, source_calls
from traindoc.ingest.readers._training_call import record as record_call
from traindoc.ingest.registry import Reader, ReadError

MAX_BYTES = 256 * 1024  # a launch command or script is a few KiB; anything larger is not one
_NAMES = {"command", "commands", "cmd", "cmdline", "command_line", "launch", "run", "train", "args"}


def _lines(text: str) -> list[tuple[int, str]]:
    """(first line number, logical line) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    start, parts = 0, []
    for i, raw in enumerate(text.splitlines(), 1):
        if not parts:
            start = i
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            parts.append(stripped[:-1])
            continue
        parts.append(stripped)
        out.append((start, " ".join(p.strip() for p in parts)))
        parts = []
    if parts:
        out.append((start, " ".join(p.strip() for p in parts)))
    return out


def _command_share(text: str) -> float:
    """Share of the non-blank physical lines that belong to a logical line read as a command with flags.

    A launch command pasted one flag per line (`    --learning_rate 3e-5 \\`, the LLaMA-Factory / HF examples
    style) looks, line by line, like a column of `name value` metric lines to the generic text-log reader; joined,
    it is one command. Blank lines and shell comments do not count either way."""
    raw_lines = text.splitlines()
    physical = [raw for raw in raw_lines if raw.strip() and not raw.lstrip().startswith("#")]
    if not physical:
        return 0.0
    covered = 0
    for start, line in _lines(text):
        if command_flags(line) is None:
            continue
        # the physical lines this logical line spans: itself plus each backslash continuation
        span = 1
        for raw in raw_lines[start - 1:]:
            if not raw.rstrip().endswith("\\"):
                break
            span += 1
        covered += span
    return min(1.0, covered / len(physical))


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or b"\x00" in head:
        return 0.0
    suffix = path.suffix.lower()
    if not (suffix == ".sh" or (suffix in (".txt", "") and path.stem.lower() in _NAMES)):
        return 0.0
    text = head.decode("utf-8", "replace")
    found = any(command_flags(line) or call_config(line) for _, line in _lines(text)) or source_calls(text)
    if not found:
        return 0.0
    # A file named as a command (command.txt, run.sh) that is mostly one launch command is that command, whatever a
    # line-by-line metric classifier makes of its `--name value` continuation lines: rank it above the text-log
    # reader's best guess (0.8). Half is the bar because a script may also hold setup lines (cd, export, mkdir).
    return 0.9 if _command_share(text) >= 0.5 else 0.5


def read(path: Path, run: Run) -> Source:
    data = budget.read_whole(path, MAX_BYTES)
    if b"\x00" in data:
        raise ReadError(f"{path.name}: binary data, not a command")
    src = Source(str(path), "command_line")
    text = data.decode("utf-8", "replace")
    calls = source_calls(text)
    for line_no, pairs in calls:
        record_call(pairs, run, str(path), line_no)
        src.records += 1
    for line_no, line in _lines(text):
        flags = command_flags(line)
        if flags is not None:
            record(flags, run, str(path), line_no)
            src.records += 1
            continue
        pairs = None if calls else call_config(line)  # a file read whole already gave its calls
        if pairs is not None:
            record_call(pairs, run, str(path), line_no)
            src.records += 1
    if not src.records:
        src.warnings.append("no command line with flags found")
    return src


READERS = [Reader(name="command_line", sniff=sniff, read=read)]
