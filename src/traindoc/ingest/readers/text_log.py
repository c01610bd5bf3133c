"""Reader for captured training consoles (.log / .txt / .out): metrics by step plus every warning and error line.

The file is streamed in blocks and split into *frames* on both "\\n" and "\\r" (a tqdm bar rewrites itself
with "\\r"; each rewrite is a frame, the last one is what the terminal finally showed). Frames longer than
`MAX_FRAME` bytes are cut, so one 75 MB progress-bar line costs no more memory than a short one. The first
`HEAD_FRAMES` frames decide the format family (the one with the most parsed lines, docs/references.md); the rest is
parsed with that family first and the other families seen in the head as fall-backs (a HF log can carry DeepSpeed
step lines, a Megatron log DeepSpeed overflow lines).

Speed: a big log repeats one line shape (nanoGPT's "iter N: loss ...", Megatron's "iteration N/ M | ..."). After the
head, the primary family may offer a whole-line layout of that shape (textlog_formats.Layout); the file is then read
in 64 KiB blocks, every line of the layout taken by one `findall` per block and its numbers parsed a column at a time
(_number_columns.py), or, for runs of such lines that differ only in digits, read straight from the block's bytes
(_FastLines.same_shape_runs), while every other line goes through the per-line rules below, in file order. Both
paths give the same result (tests/test_ingest_text_fastpath.py reads every fixture both ways).

Events: each line the catalogue (ingest/catalogue.py) knows, and each line that looks like a warning or error,
becomes a LogEvent with the step it belongs to, i.e. the last step seen before it. Identical events at the same
step (one per rank) and identical consecutive events (a warning printed every step) are folded into the first
occurrence, with a count.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

import numpy as np

from traindoc.ingest import budget
from traindoc.ingest.catalogue import classify, strip_triggered
from traindoc.ingest.model import LogEvent, Run, Series, Source
from traindoc.ingest.names import data_count_key
from traindoc.ingest.readers import hf_trainer
from traindoc.ingest.readers._command_line import command_flags
from traindoc.ingest.readers._command_line import record as record_flags
from traindoc.ingest.readers._config_block import ConfigBlock, opens_block, opens_section
from traindoc.ingest.readers._config_line import banner_pairs, config_pairs
from traindoc.ingest.readers._config_line import record as record_config
from traindoc.ingest.readers._cv_fold import fold_banner, fold_key
from traindoc.ingest.readers._device_line import device_line
from traindoc.ingest.readers._insightface_verification import verification_record
from traindoc.ingest.readers._metric_block import MetricBlock
from traindoc.ingest.readers._metric_block import opens_block as opens_metric_block
from traindoc.ingest.readers._mllog import mllog_config
from traindoc.ingest.readers._nan_guard import anomaly_iteration, anomaly_loss_dict, loss_guard, step_marker
from traindoc.ingest.readers._number_columns import MIN_FIXED_ROWS, number_columns, table_columns
from traindoc.ingest.readers._param_lines import param_line
from traindoc.ingest.readers._precision_line import precision_line
from traindoc.ingest.readers._quoted_numbers import unquote_numbers
from traindoc.ingest.readers._training_call import call_config
from traindoc.ingest.readers._training_call import record as record_call
from traindoc.ingest.readers.textlog_formats import (
    ACCELERATE_EPOCH_DICT,
    FORMAT_BY_NAME,
    FORMATS,
    HF_DICT,
    STEP,
    Format,
    Layout,
    Line,
    Record,
    State,
    canonical,
    comment_marker,
    direct_parser,
    normalise,
    phase_line,
    uncomment,
)
from traindoc.ingest.registry import Reader, ReadError

MAX_FRAME = 64 * 1024  # bytes kept of one frame; the rest of an over-long frame is skipped
HEAD_FRAMES = 2000  # frames used to pick the format family
# the opening lines a second run appended to the file must repeat (_Parser._rerun_opening): two, so that a line a loop
# prints again every epoch, or a warning repeated, is no opening repeated; a script's first two prints are its own
OPENING_LINES = 2
MAX_HEAD_BYTES = 4 << 20  # how far to look for a known family when the first frames match none
# A line shape (the metric names the generic rules read from a line that names its step or epoch) that no family of
# the file reads is a script's own print when the head holds it this often: a loop prints its line every step or
# epoch, while a one-off print (a setting, a dataset size, a start and an end banner) is there once or twice. Such
# lines are read by the generic rules beside the family's (_Parser._own_print); lines of other shapes, and lines with
# no position of their own, stay unread, so the fallback adds no noise.
OWN_PRINT_MIN_LINES = 3
OWN_PRINT_SUFFIX = "@print"  # an own print's series whose name the family's lines also give
# A shape first printed after the head (a loop whose evaluation starts late, a second phase of the script) is taken
# the same way, once OWN_PRINT_MIN_LINES of its lines are seen (the first ones are held until then); at most this many
# such new shapes are watched in one file, so a file of ever-new line shapes holds a bounded amount
MAX_LATE_SHAPES = 64
MAX_PLANNED_EPOCHS = 1_000_000  # an "epoch e/n" total beyond this is no epoch count
MAX_PLANNED_STEPS = 10**12  # nor a step total beyond this (a sample or token count)
MAX_EVENTS = 20000  # distinct events kept per file; later new ones are only counted (a warning storm is one event)
MAX_MESSAGE = 2000  # characters kept of an event's message

TEXT_SUFFIXES = {".log", ".txt", ".out", ".err", ".stdout", ".stderr", ".text", ""}
_NOT_TEXT_LOG = {".json", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".py", ".pt", ".pth", ".ckpt", ".bin",
                 ".safetensors", ".db", ".wandb", ".toml", ".html", ".ipynb", ".npz", ".npy", ".pkl"}
# Documents: read only when they are a console capture saved under that name (people save `python train.py | tee
# out.md`), i.e. most of their head is lines of one console family. Tables in them do not count: a README's results
# table is a document, not a run's log.
_DOC_SUFFIXES = {".md", ".markdown", ".rst"}
_DOC_FAMILIES_NOT_COUNTED = {"table", "md_table", "tsv_table"}
DOC_LOG_SHARE = 0.25  # at least this share of a document's non-empty head lines must be console metric lines
_SEP = re.compile(rb"\r\n|\n|\r")
_BAR_FRAME = re.compile(r"\d%\|")  # a tqdm bar's percentage and left edge, even when the terminal cut its end


def iter_frames(f: BinaryIO, block_size: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
    """(1-based physical line number, frame bytes) for every non-empty frame, streaming."""
    line_no = 1
    buf = b""
    skipping = False
    while True:
        block = f.read(block_size)
        if not block:
            break
        buf += block
        start = 0
        for m in _SEP.finditer(buf):
            frame = buf[start:m.start()]
            start = m.end()
            if skipping:
                skipping = False
            elif frame.strip():
                yield line_no, frame[:MAX_FRAME]
            if m.group() != b"\r":
                line_no += 1
        buf = buf[start:]
        if len(buf) > MAX_FRAME:
            if not skipping:
                yield line_no, buf[:MAX_FRAME]
            skipping = True
            buf = b""
    if buf.strip() and not skipping:
        yield line_no, buf[:MAX_FRAME]


def _decode(frame: bytes) -> str:
    return frame.decode("utf-8", errors="replace")


# control bytes that no console writes: all below 32 but \b, \t, \n, \v, \f, \r (8..13) and ESC (27), which are
# console text
_CONTROL_BYTES = bytes(b for b in range(32) if b < 8 or 13 < b < 27 or 27 < b < 32)


def _looks_binary(head: bytes) -> bool:
    """Mostly control bytes: a binary file. A few NULs or other control bytes in a text log (a crashed writer, a
    stray terminal code) are not: those lines lose the bytes (normalise drops them), the log stays readable."""
    sample = head[:8192]
    if not sample:
        return False
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))  # one C pass, not a Python loop per byte
    return bad > len(sample) * 0.05


class _Detection:
    """Hits per format family over the lines fed so far, with each family's parser state, so that a detection can be
    carried on over more lines: read() picks up where sniff() stopped instead of parsing the same head lines again
    (detection was about half the cost of loading a small run)."""

    def __init__(self) -> None:
        self.hits = {f.name: 0 for f in FORMATS}
        self.states = {f.name: State() for f in FORMATS}
        self.hf = 0
        self.lines: list[str] = []  # what was fed, to tell whether a later head starts with the same lines
        # lines no specific family reads or claims that the generic rules read, by the metric names they give (the
        # line's shape): a script's own prints beside a library's lines (see own_print_shapes)
        self.unclaimed: dict[frozenset[str], int] = {}

    def feed(self, lines: Iterable[str]) -> None:
        hits, fed, unclaimed = self.hits, self.lines, self.unclaimed
        # every parser on every head line (~120 x 2,000 calls: the reader's largest fixed cost), so the loop body
        # does the least it can for the usual answer, None
        parsers = [(f.name, direct_parser(f), self.states[f.name], f.counter_prefix, f.specific) for f in FORMATS]
        for raw in lines:
            fed.append(raw)
            line = normalise(raw)
            for text in (line.text, line.after_bar):
                if not text:
                    continue
                if HF_DICT.search(text) and not ACCELERATE_EPOCH_DICT.match(text):
                    self.hf += 1
                    continue
                counted = f"{line.rank} | {text}" if line.bare_rank and text is line.text else text
                taken = False  # a specific family read or claimed the line
                generic: Record | None = None  # (one parser is not specific: the generic rules)
                for name, parse, state, counter_prefix, specific in parsers:
                    try:
                        rec = parse(counted if counter_prefix else text, state)
                    except Exception:  # noqa: BLE001 - a parser bug must not stop detection
                        continue
                    if rec is None:
                        continue
                    if rec.metrics:
                        hits[name] += 1
                    if not specific:
                        generic = rec
                    elif rec.metrics or rec.claimed:
                        taken = True
                if (not taken and generic is not None and generic.metrics and _counted(generic, text)
                        and text is line.text and not _BAR_FRAME.search(text)):
                    shape = frozenset(generic.metrics)
                    unclaimed[shape] = unclaimed.get(shape, 0) + 1

    def own_print_shapes(self) -> frozenset[frozenset[str]]:
        """The shapes of the counted lines no specific family reads that repeat (OWN_PRINT_MIN_LINES times or more in
        the head): a training loop's own prints, read by the generic rules beside the family's lines."""
        return frozenset(shape for shape, n in self.unclaimed.items() if n >= OWN_PRINT_MIN_LINES)


# a line that tells of a save ("saved checkpoint ... (epoch 1 @ 85 updates, score 100.393)", fairseq's
# checkpoint_utils; "saving next best rewards:  [53.92224]", rl_games): it quotes a value the run's own lines printed
_SAVE_NOTE = re.compile(r"^\W*sav(?:ed|ing)\b", re.IGNORECASE)


def _counted(rec: Record, text: str) -> bool:
    """A line that names its own position, a step or an epoch ("step 40, loss = 4.35", "Epoch 3: loss 0.52"): how a
    training loop prints its progress. A line without one that repeats is a note about the run, not a point of it (a
    library's message printed once per rank), and so is a note of a save, with a position or not."""
    return rec.step is not None and not rec.at_last and not _SAVE_NOTE.match(text)


def own_print_shapes(lines: Iterable[str]) -> frozenset[frozenset[str]]:
    """The own-print shapes (_Detection.own_print_shapes) of a head of console lines: for a reader of another family
    (the HF console's), whose own lines the detection sets apart as a text log's are (HF log dicts are skipped)."""
    det = _Detection()
    det.feed(lines)
    return det.own_print_shapes()


def own_print_record(text: str, state: State, shapes: frozenset[frozenset[str]] | None) -> Record | None:
    """The generic rules' record of a line no family reads, when it may be a script's own print: it names its own
    position (_counted) and has a shape the head repeats (`shapes`; None: any shape, for LateShapes to weigh); else
    None. `state` is the generic rules' state over such lines alone."""
    try:
        rec = FORMAT_BY_NAME["generic"].parse(text, state)
    except Exception:  # noqa: BLE001 - one odd line must not lose the file
        return None
    if rec is None or not rec.metrics or not _counted(rec, text):
        return None
    return rec if shapes is None or frozenset(rec.metrics) in shapes else None


Place = tuple[int, int | None]  # where an own print held by LateShapes was printed: a step or a row count, and a rank


class LateShapes:
    """Own-print shapes first printed after the head (MAX_LATE_SHAPES). A line offered here is one no family of the
    file reads, with a counted generic record whose shape the head did not repeat: as in the head (_Detection), it
    counts only when no specific family reads or claims it (each family's parser on such lines alone) and it is no
    progress-bar frame; the OWN_PRINT_MIN_LINES-th line of a shape makes it an own print, and the lines held so far
    are given back with it, in order. A shape of lines a family takes OWN_PRINT_MIN_LINES times is dropped."""

    def __init__(self) -> None:
        self.known: set[frozenset[str]] = set()
        self.held: dict[frozenset[str], list[tuple[Record, Place]]] = {}
        self.taken: dict[frozenset[str], int] = {}
        self.states = {f.name: State() for f in FORMATS if f.specific}

    def offer(self, text: str, rec: Record, place: Place) -> list[tuple[Record, Place]]:
        """The own prints to read now, with the place each was printed at (a step or a row count, and a rank): none
        while the shape is not yet one, else this line's (and any held)."""
        shape = frozenset(rec.metrics)
        if shape in self.known:
            return [(rec, place)]
        if self.taken.get(shape, 0) >= OWN_PRINT_MIN_LINES or _BAR_FRAME.search(text):
            return []
        held = self.held.get(shape)
        if held is None:
            if len(self.held) >= MAX_LATE_SHAPES:
                return []
            held = self.held[shape] = []
        if self._family_line(text):
            self.taken[shape] = self.taken.get(shape, 0) + 1
            return []
        held.append((rec, place))
        if len(held) < OWN_PRINT_MIN_LINES:
            return []
        self.known.add(shape)
        return self.held.pop(shape)

    def _family_line(self, text: str) -> bool:
        for f in FORMATS:
            if not f.specific:
                continue
            try:
                got = f.parse(text, self.states[f.name])
            except Exception:  # noqa: BLE001 - a parser bug must not stop the read
                got = None
            if got is not None and (got.metrics or got.claimed):
                return True
        return False


def own_print_step(rec: Record, last_step: int | None) -> int | None:
    """The step of an own print (own_print_record): its own counter, a clock of its own; a print that names only its
    epoch belongs to the family's last step (`last_step`; None before any, and the print is dropped)."""
    step = rec.step if rec.step is not None and not rec.from_epoch else last_step
    return step if step is not None and _INT64[0] <= step <= _INT64[1] else None


def add_own_series(run: Run, src: Source, own: _Collector, family: set[str]) -> None:
    """The own prints' series into the run. The same quantity on another clock (a print's micro-batch count beside
    the family's optimizer steps) is never spliced into the family's series (names in `family`): it keeps a name of
    its own, `<name>@print`, as a second raw spelling does."""
    for name, steps in own.steps.items():
        final = f"{name}{OWN_PRINT_SUFFIX}" if name in family else name
        run.add_series(Series(final, steps, own.values[name], source=src.path, raw_name=own.raw_of.get(name, name)))
        src.metrics.append(final)


def add_own_print(col: _Collector, rec: Record, step: int, rank: int | None) -> None:
    """An own print's points into `col`, the collector kept apart from the family's series (a name both give is
    `<name>@print` once read)."""
    other_rank = rank is not None and rank > 0
    for raw_name, value in rec.metrics.items():
        name = canonical(raw_name) if rec.at_last else col.name(raw_name)
        col.add(f"{name}@rank{rank}" if other_rank else name, step, value)


# Detections sniff() made, newest last, for read() to carry on (the loader sniffs a file, then reads it). Each is
# taken at most once, as its states go on changing; a few are enough, as the loader reads right after sniffing a run
# (up to this many text logs sniffed before the reads start keep their detection).
_SNIFFED: list[_Detection] = []
_SNIFFED_KEPT = 16


def _resume(lines: list[str]) -> _Detection:
    """A detection over `lines`: a sniffed one whose lines are a prefix of them, carried on, else a new one. The
    result is the same either way: detection reads the lines one by one, in order, through the same states."""
    for i in range(len(_SNIFFED) - 1, -1, -1):
        det = _SNIFFED[i]
        n = len(det.lines)
        if n <= len(lines) and det.lines == lines[:n]:
            del _SNIFFED[i]
            det.feed(lines[n:])
            return det
    det = _Detection()
    det.feed(lines)
    return det


def detect(lines: Iterable[str]) -> tuple[dict[str, int], int]:
    """Hits per format family over normalised lines, and the number of HF console dict lines."""
    det = _Detection()
    det.feed(lines)
    return det.hits, det.hf


def _choose(hits: dict[str, int]) -> list[Format]:
    """Parsers to try per line, best first: the winning family, then others seen in the head, generic last."""
    specific = sorted((f for f in FORMATS if f.specific and hits[f.name] > 0), key=lambda f: -hits[f.name])
    order = list(specific)
    if "deepspeed" not in {f.name for f in order}:
        order.append(FORMAT_BY_NAME["deepspeed"])  # overflow lines carry the loss scale in any fp16 log
    # The generic parser reads anything with "key: number" in it; trust it only when no family matched, or when it
    # clearly dominates (a log of plain prints that happens to contain one detectron2-looking line).
    best = max((hits[f.name] for f in specific), default=0)
    # Accelerate's examples print only the evaluation ("epoch 2: {...}"): every other metric line of that console is
    # the script's own print, in no family
    own_prints = bool(specific) and specific[0].name == "accelerate_epoch"
    if best == 0 or hits["generic"] > 5 * best or own_prints:
        order.append(FORMAT_BY_NAME["generic"])
    return order


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or not head.strip():
        return 0.0
    suffix = path.suffix.lower()
    if suffix in _NOT_TEXT_LOG or _looks_binary(head):
        return 0.0
    frames = [_decode(fr) for _, fr in _take(iter_frames(_BytesReader(head)), 400)]
    marker = comment_marker(frames)
    if marker is not None:  # a capture pasted as comments: its lines without the marker
        frames = [uncomment(fr, marker) for fr in frames]
    det = _Detection()
    det.feed(frames)
    hits, hf = dict(det.hits), det.hf
    _SNIFFED.append(det)
    del _SNIFFED[:-_SNIFFED_KEPT]
    if suffix in _DOC_SUFFIXES:
        console = max((n for name, n in hits.items()
                       if FORMAT_BY_NAME[name].specific and name not in _DOC_FAMILIES_NOT_COUNTED), default=0)
        if console == 0:
            # a console of a format no family knows: the lines of one shape (the same metric names) that the generic
            # rules read with their own step or epoch, no family claiming them, a loop's print ("| epoch   1 |
            # 200/ 2983 batches | lr 20.00 | ... | loss 12.28 | ppl 216359.45", PyTorch's word_language_model
            # saved as a .md page). The same share of the head as a family's lines: a README that quotes a few
            # log lines stays a document
            console = max(det.unclaimed.values(), default=0)
        return 0.4 if console >= 3 and console >= DOC_LOG_SHARE * len(frames) else 0.0
    best_specific = max((n for name, n in hits.items() if FORMAT_BY_NAME[name].specific), default=0)
    # HF Trainer console logs belong to the structured reader (it knows the step inference and the NaN filter).
    if hf and hf >= best_specific:
        return 0.15
    known_suffix = suffix in TEXT_SUFFIXES or "log" in path.name.lower()
    if best_specific >= 3:
        return 0.8 if known_suffix else 0.6
    if best_specific >= 1 or hits["generic"] >= 3:
        return 0.55 if known_suffix else 0.4
    if any(classify(normalise(fr).text) for fr in frames[:400]):
        return 0.3 if known_suffix else 0.15
    # Nothing recognised in the first 64 KiB, but a console capture (.log/.out) or a log that opens with echoed
    # source code (modded-nanogpt's logs/<uuid>.txt) may have its metrics further on: read() looks up to 4 MiB.
    if suffix in (".log", ".out", ".err", ".stdout", ".stderr") or (
            suffix == ".txt" and (b"import " in head or "log" in path.name.lower())):
        return 0.25
    return 0.1 if known_suffix else 0.0


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out


MIN_COUNTER_VALUES = 3  # distinct bare "N: " prefixes, in rising order, that make them a counter and not ranks


def bare_prefix_counts(lines: Iterable[str]) -> bool:
    """Whether the bare "N: " prefixes of this log's head count something rather than name ranks.

    srun -l tags each line with its task's rank ("0: ", "1: "), and the ranks' lines interleave, so the tags go down
    again and again. A loop that prints its own counter first ("371: nGT 19, recall 13, ..., loss: x 3.1, ...", the
    YOLO v2/v3 PyTorch ports) writes a number that only rises. Three distinct values or more, never going down: a
    counter, which the generic reader then takes as the step (a rank tag with one value, or a few interleaved, stays
    a rank)."""
    values = [line.rank for line in map(normalise, lines) if line.bare_rank]
    if len(set(values)) < MIN_COUNTER_VALUES:
        return False
    return all(a <= b for a, b in zip(values, values[1:], strict=False))


def _uncommented(lines: Iterable[str], marker: str | None) -> Iterable[str]:
    return lines if marker is None else (uncomment(line, marker) for line in lines)


def _take(it: Iterator, n: int) -> list:
    out = []
    for x in it:
        out.append(x)
        if len(out) >= n:
            break
    return out


_STAGE_NAME = re.compile(r"(?:->|→|to|entering|moving to)\s+(?:stage\s+)?['\"]?([\w.-]+)", re.IGNORECASE)
# Words without which a line that already parsed as metrics cannot be a catalogued event (lower case; substring
# tests are much cheaper than one regex alternation on long Megatron lines).
_EVENT_WORDS = ("warn", "error", "exception", "nan values", "skipping", "overflow", "killed", "stage", "curriculum",
                "stopping", "terminat", "not finite", "non-finite", "degrees of freedom", "unexpected result",
                "loss is", "became", "educing")


def _eventy(text: str) -> bool:
    low = text.lower()
    return any(w in low for w in _EVENT_WORDS)


_PY_WARNING = re.compile(r"\.py:\d+: \w*Warning: ")
# a Python warning category at the head of a line ("UserWarning: ..."), as a log pasted without its "file.py:N:"
# prefix still shows it: the indented line under it is the echoed source line all the same
_PY_CATEGORY = re.compile(r"(?:^|\s)\w*Warning: ")


class _Collector:
    """Accumulates one file's series (in compact arrays) and events."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps: dict[str, array] = {}
        self.values: dict[str, array] = {}
        self.raw_of: dict[str, str] = {}  # final series name -> raw name
        self.name_of: dict[str, str] = {}  # raw name -> final series name
        self.events: list[LogEvent] = []
        self.same_step: dict[tuple[str, str], LogEvent] = {}  # (kind, message) -> event at the current step
        self.dropped_events = 0

    def name(self, raw: str) -> str:
        got = self.name_of.get(raw)
        if got is not None:
            return got
        name = canonical(raw)
        if name in self.raw_of and self.raw_of[name] != raw:
            name = raw  # a second raw name for the same canonical metric keeps its own name (no silent merge)
        self.name_of[raw] = name
        self.raw_of.setdefault(name, raw)
        return name

    def _arrays(self, name: str) -> tuple[array, array]:
        if name not in self.steps:
            self.steps[name] = array("q")
            self.values[name] = array("d")
        return self.steps[name], self.values[name]

    def add(self, name: str, step: int, value: float) -> None:
        steps, values = self._arrays(name)
        steps.append(step)
        values.append(value)

    def extend(self, name: str, steps: bytes, values: bytes) -> None:
        """Many points at once, as the native int64 / float64 bytes of numpy arrays."""
        have_steps, have_values = self._arrays(name)
        have_steps.frombytes(steps)
        have_values.frombytes(values)

    def event(self, kind: str, message: str, step: int | None, tag: str | None, line_no: int) -> None:
        message = message[:MAX_MESSAGE]
        key = (kind, message)
        prev = self.same_step.get(key)
        if prev is not None and prev.step == step:  # the same line from several ranks, or repeated in one step
            prev.count += 1
            return
        last = self.events[-1] if self.events else None
        if (last is not None and tag is not None and last.tag == tag and last.step == step
                and last.source == self.path and last.line == line_no - 1):
            # the next line of one multi-line message, catalogued alike: detectron2 raises "Loss became infinite or
            # NaN at iteration=N!\nloss_dict = {...}" as one FloatingPointError, one event
            return
        if last is not None and last.kind == kind and last.message == message:
            last.count += 1  # consecutive repeats (a warning printed every step) fold into the first occurrence
            return
        if len(self.events) >= MAX_EVENTS:
            self.dropped_events += 1
            return
        ev = LogEvent(kind=kind, message=message, step=step, tag=tag, source=self.path, line=line_no)
        self.events.append(ev)
        self.same_step[key] = ev

    def new_step(self) -> None:
        self.same_step.clear()


# A file of bare "step value" lines names no metric: the reader calls the value `loss`, what a loop prints when it
# prints one number (textlog_formats.parse_step_value). A loop that writes its training and validation losses to two
# such files (`log_train.txt` and `log_val.txt`: PoWeiChiao/CityScapes_Road_Car_Segmentation's train.py, the
# corpus entry g6s33-cityscapes-segnet-road-car-37-epochs) names the split only in the file name; read as `loss`
# both, the two series collided and the validation loss was lost. A word of the file's name that names a held-out
# split makes the invented name that split's loss; a name the file printed is never changed.
_SPLIT_WORD = {"val": "val", "valid": "val", "validation": "val", "eval": "val", "test": "test"}


def _held_out_file(spath: str) -> str | None:
    """The held-out split a file's name names by one of its words (`log_val.txt`, `valid.log`), or None."""
    words = re.split(r"[^a-z]+", Path(spath).stem.lower())
    if words == ["test"]:
        return None  # "test.log": as often a trial run of the script as its test split
    found = {_SPLIT_WORD[w] for w in words if w in _SPLIT_WORD}
    return found.pop() if len(found) == 1 and not ({"train", "training"} & set(words)) else None


def read(path: Path, run: Run) -> Source:
    try:
        f = budget.open_input(path)  # confined to the run's folders and metered (ingest/budget.py)
    except OSError as exc:
        raise ReadError(f"{path}: cannot open ({exc.strerror or exc})") from None
    with f:
        return read_stream(f, str(path), run)


def read_stream(f: BinaryIO, spath: str, run: Run) -> Source:
    """Read a text log from an open binary stream (a file, or the console text another reader extracted, as the
    notebook reader does); `spath` names it in citations and warnings."""
    path = spath
    try:
        head_bytes = f.read(8192)
        if _looks_binary(head_bytes):
            raise ReadError(f"{path}: binary data, not a text log")
        f.seek(0)
        frames = iter_frames(f)
        head = _take(frames, HEAD_FRAMES)
        marker = comment_marker(_decode(fr) for _, fr in head)
        det = _resume(list(_uncommented((_decode(fr) for _, fr in head), marker)))
        hits = dict(det.hits)
        # Some logs open with thousands of lines that are not metrics (modded-nanogpt writes its whole source and
        # nvidia-smi first): when nothing specific matched, look further, up to a byte budget.
        size = sum(len(fr) for _, fr in head)
        while not any(n for name, n in hits.items() if FORMAT_BY_NAME[name].specific) and size < MAX_HEAD_BYTES:
            more = _take(frames, HEAD_FRAMES)
            if not more:
                break
            head.extend(more)
            size += sum(len(fr) for _, fr in more)
            more_hits, _ = detect(_uncommented((_decode(fr) for _, fr in more), marker))
            hits = {k: hits[k] + more_hits[k] for k in hits}
        order = _choose(hits)
        primary = order[0].name if hits.get(order[0].name) else "generic"
        col = _Collector(spath)
        src = Source(path=spath, format=f"text_log:{primary}")
        parser = _Parser(order, col, run, src, marker)
        if not parser.generic_in_order:
            parser.own_prints = det.own_print_shapes()
            parser.own_late = LateShapes()
        parser.bare_counter = bare_prefix_counts(_uncommented((_decode(fr) for _, fr in head), marker))
        fast = _FastLines.learn(order[0], (_decode(fr) for _, fr in head)) if FAST_PATH and not marker else None
        f.seek(0)  # the head was only for choosing: the whole file is parsed in one pass from the start
        _stream(f, parser, fast)
        parser.finish()
    except OSError as exc:
        raise ReadError(f"{path}: read failed ({exc.strerror or exc})") from None

    split = _held_out_file(spath) if primary == "step_value" else None
    for key, steps in col.steps.items():
        name, raw = key, col.raw_of.get(key, key)
        if data_count_key(raw.split("@", 1)[0]) and _only_rises(col.values[key]):
            continue  # a count of the data gone through ("Total tokens: 12236"), no metric (names.data_count_key)
        if split is not None and name == raw == "loss":
            # the name the bare "step value" lines were given, not one the file printed: a held-out file's
            raw = f"{split}_loss"
            name = canonical(raw)
        run.add_series(Series(name, steps, col.values[key], source=spath, raw_name=raw))
        src.metrics.append(name)
    add_own_series(run, src, parser.own_col, set(col.steps))
    run.events.extend(col.events)
    if col.dropped_events:
        src.warnings.append(f"{col.dropped_events} further distinct warning/error lines not kept (limit {MAX_EVENTS})")
    if not col.steps and not col.events:
        src.warnings.append("no metric, warning or error lines recognised")
    if parser.hf_unread:
        src.warnings.append(f"{parser.hf_unread} HF Trainer log dict(s) ({{'loss': ...}}) not read: the file reads as "
                            f"a {primary} log, which gives them no step")
    return src


# --- streaming: blocks of whole lines, the commonest line shape in bulk, every other line one by one ---------------

FAST_PATH = True  # tests turn it off to check that both paths read every fixture the same way
BLOCK = 1 << 16  # 64 KiB: the rows of one block stay in cache (measured ~10 % faster than 1 MiB)
_STRIP = b" \t\n\r\x0b\x0c".decode()  # what bytes.strip() removes: a frame of other whitespace is still a frame


def _stream(f: BinaryIO, parser: _Parser, fast: _FastLines | None) -> None:
    """Read the file in blocks cut after the last line separator; frames exactly as `iter_frames` yields
    them (same line numbers, same cut of over-long frames), but a block's lines of the learned layout go in bulk."""
    buf = b""
    line_no = 1
    skipping = False  # inside an over-long frame whose first MAX_FRAME bytes were already used
    while True:
        block = f.read(BLOCK)
        if not block:
            break
        buf += block
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
        if cut >= 0:
            chunk, buf = buf[:cut + 1], buf[cut + 1:]
            if skipping:  # the rest of the over-long frame runs to the first separator: dropped
                ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
                chunk = chunk[min(ends):]
                skipping = False
            line_no = parser.chunk(chunk, line_no, fast)
        if len(buf) > MAX_FRAME:
            if not skipping:
                parser.frame(line_no, _decode(buf[:MAX_FRAME]), cut_off=True)
            skipping = True
            buf = b""
    if buf.strip() and not skipping:
        parser.frame(line_no, _decode(buf[:MAX_FRAME]), cut_off=len(buf) >= MAX_FRAME)


def _lines(data: bytes, complete: bool) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    return (text[:-1] if complete else text).split("\n")


class _FastLines:
    """The learned whole-line regex of the primary family's commonest line: a literal (or digit-shaped) prefix as
    this log prints it (rank tag, timestamp), then the family's Layout. One `findall` per block returns a row per
    line: the layout's groups for a line of that shape, else the raw line in the last group."""

    def __init__(self, prefix: str, layout: Layout, rank: int | None, indented: bool) -> None:
        self.roles = layout.roles
        self.step = layout.roles.index(STEP)
        self.rank = rank
        self.indented = indented
        # each match runs to the end of its line, so the next one starts on the next line: no scan for "^"
        # on the undecoded bytes: no str objects for the numbers; a line with bytes that are not UTF-8 cannot match
        # the layout's literals and digits, so it takes the per-line path, decoded with replacement characters
        pattern = rf"(?:{prefix}{layout.body}[ \t]*\r?|(.*))(?:\n|\Z)"
        self.regex = re.compile(pattern.encode())
        self.kinds = [int if role == STEP else float for role in layout.roles]
        self.digit_blind = digit_blind(pattern)

    def same_shape_runs(self, data: bytes) -> list[tuple[int, int, list[np.ndarray]]]:
        """Runs of lines of `data` that the layout takes without a regex pass: among at least MIN_FIXED_ROWS lines
        in a row of one length whose first line is a line of the layout, those that are the same bytes but for
        digits where the first has digits. The regex (digit_blind) cannot tell one digit from another, so it takes
        each such line exactly as it takes the first, with its numbers at the same places: the findall of `_chunk`
        would give the same rows. Per run: (first byte, end byte, the number columns); every other line is left to
        `_chunk`. A loop's line printed with fixed formats ("%d" steps of one digit count, "%.4f" losses of one
        magnitude) gives runs of hundreds of lines; their numbers are read straight from the block's bytes as an
        (n, length) matrix, with no regex pass and no Python object per number (bench/RESULTS.md, "Text logs")."""
        if not self.digit_blind:
            return []
        arr = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(arr == _NEWLINE)  # each line's "\n"
        if len(ends) < MIN_FIXED_ROWS:
            return []
        lengths = np.diff(ends, prepend=-1)
        cuts = np.flatnonzero(lengths[1:] != lengths[:-1]) + 1
        firsts = np.concatenate(([0], cuts))
        lasts = np.concatenate((cuts, [len(ends)]))
        runs = []
        for k in np.flatnonzero(lasts - firsts >= MIN_FIXED_ROWS).tolist():
            i, n = int(firsts[k]), int(lasts[k] - firsts[k])
            start, length = (int(ends[i - 1]) + 1 if i else 0), int(lengths[i])
            runs.extend(self._runs_of_one_length(data, arr[start:start + n * length].reshape(n, length), start))
        return runs

    def _runs_of_one_length(self, data: bytes, table: np.ndarray, start: int
                            ) -> list[tuple[int, int, list[np.ndarray]]]:
        """same_shape_runs within lines of one length (the rows of `table`, from byte `start` of `data`)."""
        m = self.regex.match(data, start)  # as the findall meets the first line
        groups = range(1, len(self.kinds) + 1)
        length = table.shape[1]
        if m is None or m.end() != start + length or any(m.start(g) < 0 for g in groups):
            return []
        digits = table - _ZERO  # uint8: every byte below "0" wraps round to above 9
        is_digit = digits <= 9
        same = ((table == table[0]) | (is_digit & is_digit[0])).all(axis=1)
        columns = table_columns(digits, [m.group(g) for g in groups], [m.start(g) - start for g in groups],
                                self.kinds)
        if columns is None:
            return []
        if same.all():
            return [(start, start + table.nbytes, columns)]
        # the rows of the first line's shape, in stretches between the others (their numbers are not read here)
        edges = np.flatnonzero(np.diff(same.astype(np.int8), prepend=0, append=0))
        return [(start + a * length, start + b * length, [c[a:b] for c in columns])
                for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)]

    @classmethod
    def learn(cls, fmt: Format, head: Iterable[str]) -> _FastLines | None:
        """From the first head line the primary family parses into plain step metrics (no event, no epoch)."""
        if fmt.layout is None:
            return None
        for raw in head:
            try:
                got = cls._learn_line(fmt, raw)
            except Exception:  # noqa: BLE001 - no fast path is always a correct answer
                got = None
            if got is not None:
                return got
        return None

    @classmethod
    def _learn_line(cls, fmt: Format, raw: str) -> _FastLines | None:
        if "\r" in raw or "\n" in raw:
            return None
        line = normalise(raw)
        rec = fmt.parse(line.text, State()) if line.text else None
        if (rec is None or not rec.metrics or rec.step is None or rec.eval or rec.epoch is not None
                or line.after_bar is not None or _eventy(_NUMBER.sub("nan", line.text))):
            return None
        layout = fmt.layout(line.text, rec) if fmt.layout else None
        at = raw.find(line.text)
        if layout is None or at < 0 or raw[at + len(line.text):].strip(" \t"):
            return None
        prefix = _prefix_regex(raw[:at], line)
        if prefix is None:
            return None
        return cls(prefix, layout, line.rank, raw[:1] in (" ", "\t"))


_NEWLINE, _ZERO = ord("\n"), ord("0")
_QUANTIFIER = re.compile(r"\{\d*,?\d*\}")


def digit_blind(pattern: str) -> bool:
    """Whether a regex tests every ASCII digit alike: no digit written in it but in `\\d`, a class's full "0-9"
    range or a repeat count, and no escape that names a character by number. Such a regex takes a line whose digits
    are changed for other digits exactly as it takes the line (the same groups at the same places), which lets
    _FastLines.same_shape_runs read lines of one shape without it. Conservative: a pattern it cannot vouch for is
    refused (a class opening with "]", a "\\x41" escape), never the reverse."""
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if pattern[i + 1:i + 2] in ("", "x", "u", "U", "N", "o") or pattern[i + 1].isdigit():
                return False  # a backreference, or a character given by its number
            i += 2
            continue
        if in_class and pattern.startswith("0-9", i):
            i += 3
            continue
        if not in_class and c == "{" and (q := _QUANTIFIER.match(pattern, i)):
            i = q.end()
            continue
        if c.isdigit():
            return False
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        i += 1
    return True


_NUMBER = re.compile(r"[-+]?(?:\d[\d,.]*(?:[eE][-+]?\d+)?)")
_DIGITS = re.compile(r"\d+")


def _prefix_regex(prefix: str, line: Line) -> str | None:
    """The prefix as a regex: literal text, except digit runs that `normalise` reads as shapes (timestamps), which
    become "\\d{n}". A digit run is shape-only when changing its digits leaves the text, rank and level unchanged
    (a rank number does not)."""
    parts: list[str] = []
    pos = 0
    shifted = prefix
    for m in _DIGITS.finditer(prefix):
        parts.append(re.escape(prefix[pos:m.start()]))
        run = m.group()
        other = "".join(str((int(c) + 1) % 10) for c in run)
        trial = normalise(prefix[:m.start()] + other + prefix[m.end():] + line.text)
        if (trial.text, trial.rank, trial.level) == (line.text, line.rank, line.level):
            parts.append(rf"\d{{{len(run)}}}")
            shifted = shifted[:m.start()] + other + shifted[m.end():]
        else:
            parts.append(re.escape(run))
        pos = m.end()
    parts.append(re.escape(prefix[pos:]))
    trial = normalise(shifted + line.text)  # every shape-only run changed at once
    if (trial.text, trial.rank, trial.level) != (line.text, line.rank, line.level):
        return None
    return "".join(parts)


def _counted_mixed(rec: Record) -> bool:
    """A held-out line with a step counter of its own that also names a training metric (module note at its use)."""
    return rec.step is not None and not rec.from_epoch and any(
        not canonical(k).startswith(("eval_", "test_")) for k in rec.metrics)


class _Parser:
    """One file's parse state: the last step, traceback and warning-source skipping, implicit steps."""

    def __init__(self, order: list[Format], col: _Collector, run: Run, src: Source, marker: str | None = None
                 ) -> None:
        self.order, self.col, self.run, self.src = order, col, run, src
        self.comment = marker  # the comment marker every line of a pasted capture opens with (comment_marker)
        self.generic_in_order = any(f.name == "generic" for f in order)
        self.with_generic = order if self.generic_in_order else [*order, FORMAT_BY_NAME["generic"]]
        # a console whose commonest line is a tqdm bar is a script's own loop (accelerate, plain PyTorch): the lines
        # it prints between bar refreshes ("eval @ 15: val_loss=... val_acc=...") are its own prints, in no family
        self.bar_console = bool(order) and order[0].name == "lightning_bar"
        self.states = {f.name: State() for f in self.with_generic}
        self.last_step: int | None = None
        self.implicit_step = 0  # used when lines carry metrics but the log prints no step at all
        self.used_implicit = False
        self.explicit_seen = False
        self.last_epoch: int | None = None
        self.in_traceback = False
        self.skip_next_indented = False
        self.warning_event: LogEvent | None = None  # the Python warning whose echoed source line may come next
        self.truncated = 0
        self.bad_lines = 0
        self.first_bad: int | None = None
        self.hf_unread = 0  # HF Trainer per-step log dicts met and not read (see _hf_dict)
        self.config_block: ConfigBlock | None = None  # a YAML config printed under a "Config:" line (_config_block)
        self.bare_counter = False  # the bare "N: " prefixes are the loop's counter, not ranks (bare_prefix_counts)
        # lines that print only their epoch: (epoch, metric names, values) of the last training one, whether the log
        # prints a counter of its own anywhere, and whether such lines proved to be per-batch (see _epoch_only)
        self.epoch_line: tuple[int | None, frozenset[str], tuple[float, ...]] | None = None
        self.counter_seen = False
        self.batch_lines = False
        self.metric_block: MetricBlock | None = None  # metrics printed under a "val metrics:" heading (_metric_block)
        self.guard_step: int | None = None  # the step the last non-finite loss guard line was put on (_nan_guard)
        self.anomaly_iteration: int | None = None  # detectron2's anomaly message just read (_nan_guard)
        # a bare counter line ("Step: 13550") and epoch announcement since the last metric line: where a NaN guard
        # line after them goes (_nan_guard, step_marker); read for that alone, they move no other line
        self.marker_step: int | None = None
        self.marker_epoch: int | None = None
        # the cross-validation fold (and seed) last named, whether it changed since the last training line, and
        # where this file's epoch starts begin in run.epoch_starts (_cv_fold: a new fold is a new training)
        self.fold: tuple[int, ...] | None = None
        self.fold_pending = False
        self.epoch_base = len(run.epoch_starts)
        # the shapes of the script's own prints (_Detection.own_print_shapes), empty where the generic rules are in
        # the order anyway, and the series they give, kept apart from the family's (read() names them)
        self.own_prints: frozenset[frozenset[str]] = frozenset()
        self.own_late: LateShapes | None = None  # shapes first printed after the head, where own_prints is read
        self.own_col = _Collector(col.path)
        self.own_state = State()  # the generic rules' state over those lines (no planned length of the family's)
        # a second run of the same script appended to the file (_rerun_opening): the log's opening lines (before its
        # first metric line), how many of them the lines since the last training line repeated, the first training
        # step of the run read so far, and the parse states set aside while a repeated opening awaits its first step
        self.opening: list[str] = []
        self.opening_matched = 0
        self.first_step: int | None = None
        self.first_epoch: int | None = None
        self.rerun_states: dict[str, State] | None = None
        self.rerun_line = 0

    def _flush_metric_block(self) -> None:
        """Read the open metric block (_metric_block) as the one line it stands for, at its heading's line."""
        block, self.metric_block = self.metric_block, None
        text = block.line() if block is not None else None
        if text is not None:
            self._frame(block.at, text)

    def restep(self, upto: int, shift: int) -> None:
        """Move every point, epoch start and the last step taken at steps <= `upto` on by `shift`: epochs a format
        could only count from 1 until a later line numbered them (parse_keras: bars before the first "Epoch i/N")."""
        for steps in self.col.steps.values():
            for i, s in enumerate(steps):
                if s <= upto:
                    steps[i] = s + shift
        self.run.epoch_starts[:] = [(s + shift, e + shift) if s <= upto else (s, e) for s, e in self.run.epoch_starts]
        if self.last_step is not None and self.last_step <= upto:
            self.last_step += shift
        if self.last_epoch is not None and self.last_epoch <= upto:
            self.last_epoch += shift

    def _note_fold(self, rec: Record | None, text: str) -> None:
        """Keep the fold a banner or a training line names; a change marks the next training line as the possible
        start of a new fold (_cv_fold)."""
        if rec is None:
            k = fold_banner(text)
            key = None if k is None else (-1, k)
        else:
            key = fold_key(text) if not rec.eval else None
        if key is None:
            return
        if (key != self.fold and self.fold is not None) or (self.fold is None and self.last_step is not None):
            # (a first banner after training lines: the first fold printed none, or the excerpt cut it off)
            self.fold_pending = True
        self.fold = key

    def _new_fold(self, line_no: int) -> None:
        """A new cross-validation fold starts over: the points and epoch starts of the earlier folds are set
        aside, so that the last fold is read as the run (_cv_fold), never a splice of folds on shared steps."""
        self.col.steps.clear()
        self.col.values.clear()
        self.own_col.steps.clear()
        self.own_col.values.clear()
        del self.run.epoch_starts[self.epoch_base:]
        self.last_step = self.last_epoch = None
        self.implicit_step = 0
        self.epoch_line = None
        self.col.event("info", "a new cross-validation fold starts its step count over: the earlier folds' points "
                       "are set aside and the last fold is read as the run", None, "cv_fold", line_no)

    def _parse(self, text: str, order: list[Format]) -> tuple[Record | None, bool]:
        """The first record with metrics a format of `order` reads from `text`, and whether a family claimed the line
        as its own with nothing to read (Record.claimed: no later parser reads it)."""
        for fmt in order:
            try:
                rec = fmt.parse(text, self.states[fmt.name])
            except Exception:  # noqa: BLE001 - one odd line must not lose the file
                rec = None
            if rec is not None and rec.metrics:
                return rec, False
            if rec is not None and rec.claimed:
                return None, True
        return None, False

    def _rerun_opening(self, text: str, line_no: int) -> None:
        """Track the log's opening lines and their repeat. A script run again with its output appended to the same
        file prints its opening again (the first lines before its first metric: "Using device: cpu", "Training new
        tokenizer") and counts its steps from the start again. At the repeat the parse states start fresh (a second
        run's counter is no continuation of the first's epoch clock), the old ones kept until the next training line
        says which it is (_rerun_step). The opening is the first OPENING_LINES distinct lines with a letter and no digit
        each (words, not values: SB3's "| ep_len_mean | 235 |" box rows repeat value and all, box after box), which
        must repeat in order, so that one line a loop prints every epoch is no opening repeated; a log with fewer
        before its first metric (a table's header, LightGBM's "Training until validation scores don't improve" per
        fold) has none. (The points of the second run's lines between its opening and its first training line are
        set aside with the first run's.)"""
        if self.src.records == 0 and self.last_step is None:
            if (len(self.opening) < OPENING_LINES and text not in self.opening and any(c.isalpha() for c in text)
                    and not any(c.isdigit() for c in text)):
                self.opening.append(text)
            return
        if len(self.opening) < OPENING_LINES or self.last_step is None or self.rerun_states is not None:
            return  # (one line before the first metric, a table's header or a per-fold message, is no opening)
        want = self.opening[self.opening_matched] if self.opening_matched < len(self.opening) else None
        if text == want:
            self.opening_matched += 1
        else:
            self.opening_matched = 1 if text == self.opening[0] else 0
        if self.opening_matched == len(self.opening):
            self.opening_matched = 0
            self.rerun_states = self.states
            self.states = {name: State() for name in self.states}
            self.rerun_line = line_no - len(self.opening) + 1

    def _rerun_step(self, step: int, epoch: int | None) -> bool:
        """The first training line after a repeated opening (_rerun_opening): a new run when its step is back at the
        first run's start (at most its first step, or 1) and its epoch, if it names one, not past the first run's
        first epoch; then the earlier run is set aside (_new_run). Otherwise the run went on (a resume that prints its
        opening again): the parse states set aside come back, and False says the line must be parsed again."""
        saved, self.rerun_states = self.rerun_states, None
        first = self.first_step if self.first_step is not None else 0
        if step <= max(first, 1) and (epoch is None or self.first_epoch is None or epoch <= self.first_epoch):
            self._new_run()
            return True
        if saved is not None:
            self.states = saved
        return False

    def _new_run(self) -> None:
        """A second run of the script appended to the file starts over: the earlier run's points, epoch starts and
        events are set aside and the last run, the one the user is asking about, is read (as the last
        cross-validation fold is, _new_fold)."""
        self.col.steps.clear()
        self.col.values.clear()
        self.own_col.steps.clear()
        self.own_col.values.clear()
        self.col.events[:] = [e for e in self.col.events if e.line is None or e.line >= self.rerun_line]
        self.col.same_step.clear()
        del self.run.epoch_starts[self.epoch_base:]
        self.last_step = self.last_epoch = self.first_step = self.first_epoch = None
        self.implicit_step = 0
        self.epoch_line = None
        self.src.warnings.append(f"the log holds more than one run of the script (its opening lines and step count "
                                 f"start again at line {self.rerun_line}): the earlier run is set aside and the last "
                                 f"run is read")

    def finish(self) -> None:
        self._flush_metric_block()
        keras = self.states.get("keras")
        if keras is not None and not keras.extra.get("keras_multi") and keras.extra.get("keras_bars"):
            self._bars_as_steps(keras.extra.pop("keras_bars"))
        # the length the run is planned for, as its own progress counter prints it ("epoch 5/50"): a schedule that
        # ends long before it is visible only against this
        planned = max((st.extra.get("planned_epochs", 0) for st in self.states.values()), default=0)
        if 0 < planned <= MAX_PLANNED_EPOCHS:
            self.run.meta["planned_epochs"] = max(planned, self.run.meta.get("planned_epochs", 0))
            # (the earliest "epoch i/n" counter of any of the file's formats: where the log starts, late_window)
            firsts = [x["first_counted_epoch"] for x in (st.extra for st in self.states.values())
                      if isinstance(x.get("first_counted_epoch"), int)]
            prev = self.run.meta.get("first_counted_epoch")
            if firsts:
                self.run.meta["first_counted_epoch"] = min(firsts) if prev is None else min(prev, *firsts)
        # ... and in steps, where its counter prints a total ("iter 100/5000", detectron2's eta beside "iter: i")
        steps = max((st.extra.get("planned_steps", 0) for st in self.states.values()), default=0)
        if 0 < steps <= MAX_PLANNED_STEPS:
            self.run.meta["planned_steps"] = max(steps, self.run.meta.get("planned_steps", 0))
        # a format whose objective is a regression error by construction (a physics-informed network's mean squared
        # residuals) says so once: the detectors read such a loss without an entropy floor (data.regression_run)
        if any(st.extra.get("regression_loss") for st in self.states.values()):
            self.run.meta["regression_loss"] = True
        if self.used_implicit:
            self.src.warnings.append("some metric lines carry no step; their line order is used as the step")
        if self.truncated:
            self.src.warnings.append(f"{self.truncated} over-long lines cut to {MAX_FRAME} bytes")
        if self.bad_lines:
            self.src.warnings.append(f"{self.bad_lines} lines could not be read and were skipped (first: line "
                                     f"{self.first_bad})")

    def _bars_as_steps(self, bars: list[tuple[int, int, dict[str, float]]]) -> None:
        """A Keras paste of one epoch (textlog_formats._keep_bar): its bars, at their batch counts, replace the one
        point per metric the epoch left. Each bar prints the running mean since the epoch began, smoothed but in
        order, which is what a reader of the paste sees: "loss: 7.4283 ... 7.9277 ... 7.8306" stuck at one value.
        Only where the epoch is all the file holds of a metric (every point of the series at one step), and where
        the bars give at least 3 distinct counts, the fewest any series needs."""
        by_count: dict[int, dict[str, float]] = {}
        for _, count, metrics in bars:
            if by_count and count < max(by_count):
                return  # a count that goes back: two runs or two bars interleaved, not one epoch's progress
            by_count.setdefault(count, {}).update(metrics)  # a later redraw of the same count replaces it
        if len(by_count) < 3:
            return
        moved = False
        for raw in {k for m in by_count.values() for k in m}:
            name = self.col.name_of.get(raw)
            steps = self.col.steps.get(name) if name is not None else None
            if not steps or len(set(steps)) != 1:
                continue
            values = self.col.values[name]
            del steps[:]
            del values[:]
            for count, metrics in sorted(by_count.items()):
                if raw in metrics:
                    steps.append(count)
                    values.append(metrics[raw])
            moved = True
        if moved:
            self.src.warnings.append("one Keras epoch only: its progress-bar lines (running means since the epoch "
                                     "began) are read as steps, at their batch counts")

    def chunk(self, data: bytes, line_no: int, fast: _FastLines | None) -> int:
        """Every line of `data` (whole lines; it may end inside a line at a "\r"). Returns the next line number."""
        pos = 0
        for start, end, columns in fast.same_shape_runs(data) if fast is not None else ():
            if start > pos:
                line_no = self._chunk(data[pos:start], line_no, fast)
            self.bulk(fast, columns, line_no)
            line_no += len(columns[0])
            pos = end
        return self._chunk(data[pos:], line_no, fast) if pos < len(data) else line_no

    def _chunk(self, data: bytes, line_no: int, fast: _FastLines | None) -> int:
        """`chunk` for lines of no same-shape run: one findall of the layout over them."""
        complete = data.endswith(b"\n")
        n_lines = data.count(b"\n") + (0 if complete else 1)
        rows = fast.regex.findall(data) if fast is not None else None
        if rows is not None and len(rows) == n_lines + 1 and not any(rows[-1]):
            rows.pop()  # the empty match at the very end
        lines: list[str] | None = None
        if rows is None or len(rows) != n_lines:
            lines = _lines(data, complete)
            for i, row in enumerate(lines):
                self.row(line_no + i, row)
        else:
            steps = list(map(itemgetter(fast.step), rows))
            start = 0
            while start < len(rows):
                try:
                    other = steps.index(b"", start)
                except ValueError:
                    other = len(rows)
                # every number of every line, one column per group, exactly as float() reads it (the step as int())
                columns = number_columns(rows[start:other], fast.kinds) if other > start else None
                if columns is not None:
                    self.bulk(fast, columns, line_no + start)
                elif other > start:  # a number the layout cannot vouch for: these lines one by one
                    lines = lines if lines is not None else _lines(data, complete)
                    for i in range(start, other):
                        self.row(line_no + i, lines[i])
                if other < len(rows):
                    self.row(line_no + other, rows[other][-1].decode("utf-8", errors="replace"))
                start = other + 1
        return line_no + n_lines - (0 if complete else 1)

    def row(self, line_no: int, row: str) -> None:
        """One physical line: its frames are its "\r"-separated parts."""
        for frame in row.split("\r") if "\r" in row else (row,):
            if frame.strip(_STRIP):
                cut = len(frame) >= MAX_FRAME
                self.frame(line_no, frame[:MAX_FRAME] if cut else frame, cut_off=cut)

    def bulk(self, fast: _FastLines, columns: list[np.ndarray], line_no: int) -> None:
        """Lines of the learned layout, in order, as their number columns (one per group of the layout): what `frame`
        would do for each, one column at a time."""
        steps = columns[fast.step]
        values = [(role, columns[g]) for g, role in enumerate(fast.roles) if role is not None and role != STEP]
        self.warning_event = None  # a metric line is not the source line of the warning before it
        if fast.indented:  # the per-line rules that skip indented lines (warning source lines, tracebacks)
            if self.skip_next_indented:
                self.skip_next_indented = False
                steps, values, line_no = steps[1:], [(r, v[1:]) for r, v in values], line_no + 1
            if self.in_traceback or not steps.size:
                return
        self.skip_next_indented = False
        self.in_traceback = False
        col = self.col
        other_rank = fast.rank is not None and fast.rank > 0
        self.explicit_seen = True
        self.counter_seen = True
        if not other_rank:
            self.marker_step = self.marker_epoch = None  # metric lines: the position is theirs (_marker)
            if self.rerun_states is not None:  # the first training line after a repeated opening (_rerun_opening)
                self._rerun_step(int(steps[0]), None)
            if self.first_step is None:
                self.first_step = int(steps[0])
            if self.fold_pending:  # the first lines after a fold banner: a new fold when its steps go back
                self.fold_pending = False
                if self.last_step is not None and int(steps[0]) <= self.last_step:
                    self._new_fold(line_no)
            prev = self.last_step
            if (prev is None or steps[0] >= prev) and bool((steps[1:] >= steps[:-1]).all()):
                if prev is None or bool((steps != prev).any()):
                    col.new_step()
                self.last_step = int(steps[-1])
            else:  # a restart inside the block: the per-line rule, step by step
                last = prev
                for k, step in enumerate(steps.tolist()):
                    if last is not None and step < last:
                        col.event("info", f"step went back from {last} to {step} (restart or resume)", step,
                                  "restart", line_no + k)
                    if step != last:
                        col.new_step()
                    last = step
                self.last_step = last
        step_bytes = steps.tobytes()
        for role, v in values:
            name = col.name(role)
            col.extend(f"{name}@rank{fast.rank}" if other_rank else name, step_bytes, v.tobytes())
        self.src.records += int(steps.size)

    def _phase(self, text: str) -> Record | None:
        """A phase-marked line ("[Epoch 0] validation: err-top1=0.93", "[Epoch 0] training: accuracy=0.03") that the
        log's family does not read, by the generic rules. Its epoch is no position in the family's step count:
        without a counter of its own it belongs to the last step seen. A training line is taken only then (an epoch
        summary, like MXNet's own "Epoch[3] Train-accuracy=" line): one with a counter of its own would be a second
        step count beside the family's."""
        try:
            rec = FORMAT_BY_NAME["generic"].parse(text, self.states["generic"])
        except Exception:  # noqa: BLE001 - one odd line must not lose the file
            return None
        if rec is None or not rec.metrics:
            return None
        if not rec.eval and rec.step is not None and not rec.from_epoch:
            return None
        if rec.from_epoch:
            rec.step = None
        return rec

    def _own_print(self, text: str, rank: int | None, after_bar: bool) -> bool:
        """A line no family of the file reads, of a shape the head repeats (a script's own print: "step 40, loss =
        4.35" beside DeepSpeed's lines): its points, by the generic rules. Its step counter is its own clock
        (micro-batches against the family's optimizer steps, say), so it moves no step of the family's (last step,
        epochs, restart events); a print that names only its epoch is no position in the family's step count and
        belongs to the family's last step, as _phase places one (before any, it is dropped). Its series are kept
        apart from the family's (read() names a clash `<name>@print`)."""
        late = self.own_late
        rec = own_print_record(text, self.own_state, None if late is not None else self.own_prints)
        if rec is None:
            return False
        step = own_print_step(rec, self.last_step)
        if step is None:
            return False
        if frozenset(rec.metrics) in self.own_prints:
            found: list[tuple[Record, Place]] = [(rec, (step, rank))]
        elif late is not None and not after_bar:
            found = late.offer(text, rec, (step, rank))
        else:
            return False
        for got, (at, at_rank) in found:
            add_own_print(self.own_col, got, at, at_rank)
            self.src.records += 1
        return True

    def _guard_base(self) -> int | None:
        """The step a NaN guard line follows: the last step a metric line took, or a bare counter line's newer one
        ("Step: 13550" with no metric, the only position NeMo's excerpt gives; _nan_guard). A counter below the last
        step (a per-epoch count beside a global one) is no later position and is not taken."""
        if self.marker_step is not None and (self.last_step is None or self.marker_step > self.last_step):
            return self.marker_step
        return self.last_step

    def _loss_nonfinite_at(self, step: int) -> bool:
        """Whether the loss logged at `step`, the last one, is already NaN/Inf: a guard line then reports that very
        value ("iter 50: loss nan" then "Loss is nan, stopping training"), no later step (_nan_guard.loss_guard)."""
        steps, values = self.col.steps.get("loss"), self.col.values.get("loss")
        return bool(steps) and steps[-1] == step and not math.isfinite(values[-1])

    def _epoch_only(self, rec: Record, step: int, line_no: int) -> int:
        """The step of a line that prints only its epoch ("BMN training loss(epoch 0): tem_loss: 1.18, ..."). Such a
        line is an epoch's summary, at the epoch, until a second training line of the same epoch with the same
        metrics and other values follows: then they are the loop's per-batch prints, and every one from there on is
        the next step (its epoch kept as the epoch clock), as a log that prints no step at all is read. An exact
        repeat is one line printed twice (two logging handlers), no second batch. A log that prints a counter of its
        own anywhere keeps its steps. A held-out line then belongs to the last training step."""
        if rec.eval:
            return self.last_step if self.batch_lines and self.last_step is not None else step
        key = (rec.epoch, frozenset(rec.metrics), tuple(rec.metrics.values()))
        prev, self.epoch_line = self.epoch_line, key
        if prev is not None and prev[:2] == key[:2] and not self.counter_seen and _differ(prev[2], key[2]):
            self.batch_lines = True
        if not self.batch_lines or self.last_step is None:
            return step
        if prev is not None and prev[0] is not None and rec.epoch is not None and rec.epoch < prev[0]:
            self.col.event("info", f"epoch went back from {prev[0]} to {rec.epoch} (restart or resume)",
                           self.last_step + 1, "restart", line_no)
        return self.last_step if prev == key else self.last_step + 1

    def _marker(self, rec: Record | None, text: str) -> None:
        """Keep the position a bare counter line names for a NaN guard line that may follow (_guard_base); a
        training metric line after it supersedes it."""
        if rec is not None:
            if not rec.eval:
                self.marker_step = self.marker_epoch = None
            return
        got = step_marker(text) if text[-1:].isdigit() or text[-1:] in ":.)]" else None
        if got is not None and got[0] == "step":
            self.marker_step = got[1]
        elif got is not None:
            self.marker_epoch = got[1]

    def _hf_dict(self, text: str) -> None:
        """A HF Trainer log dict in a log of another family (a notebook's `TrainOutput(..., metrics={...})` after
        the Trainer's progress table): the end-of-training summary is kept as the HF reader keeps it; a per-step
        dict is counted as not read, since this log gives it no step (read() says so)."""
        for row in hf_trainer.log_dicts(text):
            if not hf_trainer.record_summary(row, self.run):
                self.hf_unread += 1

    def frame(self, line_no: int, raw: str, cut_off: bool = False) -> None:
        """One frame by the per-line rules; a line that breaks them is skipped and counted, never the file."""
        if cut_off:
            self.truncated += 1
        try:
            self._frame(line_no, raw)
        except Exception:  # noqa: BLE001 - one odd line must not lose the file
            self.bad_lines += 1
            if self.first_bad is None:
                self.first_bad = line_no

    def _frame(self, line_no: int, raw: str) -> None:
        col, run, src = self.col, self.run, self.src
        if self.comment is not None:
            raw = uncomment(raw, self.comment)
        indented = raw[:1] in (" ", "\t")
        warned, self.warning_event = self.warning_event, None
        if warned is not None and indented and not warned.detail:
            # the source line Python prints under a warning: kept with the warning (what it was raised on), not parsed
            warned.detail = raw.strip()[:MAX_MESSAGE]
            self.skip_next_indented = False
            return
        if self.skip_next_indented and indented:  # the source line Python prints under a warning ("  warnings.warn(")
            self.skip_next_indented = False
            return
        self.skip_next_indented = False
        line = normalise(raw)
        if self.bare_counter and line.bare_rank:
            # the counter column before the metrics, as the generic reader reads "120 | loss 4.84 | ..."
            line.text, line.rank, line.bare_rank = f"{line.rank} | {line.text}", None, False
        if line.rank is None or line.rank == 0:
            opening = line.text.strip()
            if opening:
                self._rerun_opening(opening, line_no)
        if self.in_traceback:
            if indented or not line.text:
                return  # stack frames and source lines; the exception line after them is what matters
            self.in_traceback = False
        if self.config_block is not None:
            if self.config_block.take(raw, run, col.path, line_no):
                return
            self.config_block = None
        if opens_block(line.text):
            self.config_block = ConfigBlock()
            return
        if opens_section(raw):  # minGPT's CfgNode: "system:" at column 0, its settings indented under it
            self.config_block = ConfigBlock(nested_only=True)
            self.config_block.take(raw, run, col.path, line_no)
            return
        if self.metric_block is not None:
            if self.metric_block.take(raw):
                return
            self._flush_metric_block()
        self.metric_block = opens_metric_block(line.text, line_no)
        if self.metric_block is not None:
            return
        for text in (line.text, line.after_bar):
            if not text:
                continue
            if text.startswith("Traceback (most recent call last)"):
                self.in_traceback = True
                continue
            after_bar = text is line.after_bar
            text = unquote_numbers(text)  # PaddleDetection's "'loss': '1.02'": the number, not a string
            hyper = config_pairs(text) or banner_pairs(text) or mllog_config(text)
            if hyper is not None:  # printed hyperparameters are configuration, not one-point metric series
                record_config(hyper, run, col.path, line_no)
                continue
            flags = command_flags(text)
            if flags is not None:  # so is the command line that launched the run
                record_flags(flags, run, col.path, line_no)
                continue
            call = call_config(text)
            if call is not None:  # and the Python call that did (a notebook's `learn.fit_one_cycle(4, 1e-3)`)
                record_call(call, run, col.path, line_no)
                continue
            rec: Record | None = None
            # what a script prints right after a progress bar (`lr=[0.0] ...` glued to Lightning's bar) is its own
            # print, whatever family the bar is: the generic reader gets it too
            order = self.with_generic if after_bar or (
                self.bar_console and not _BAR_FRAME.search(text)) else self.order  # a cut bar is still a bar
            # a trainer stopping on a non-finite loss (_nan_guard.py): the loss it reports is a point of the series
            anomaly = anomaly_iteration(text)
            guard = None
            if anomaly is not None:
                self.anomaly_iteration = anomaly  # its loss dict follows on the next line
            elif self.anomaly_iteration is not None:
                guard = anomaly_loss_dict(text, self.anomaly_iteration)
                self.anomaly_iteration = None
            elif (base := self._guard_base()) is not None and not self._loss_nonfinite_at(base):
                # a guard line repeated (one per process, or printed twice) stays on the step the first one took
                at = base if self.guard_step == base else base + 1
                guard = loss_guard(text, at) or anomaly_loss_dict(text, at, message_seen=False)
                self.guard_step = at if guard is not None else self.guard_step
                if guard is not None and base == self.marker_step:
                    guard.epoch = self.marker_epoch  # "Starting epoch 251" between the counter and the guard
            # InsightFace's per-set verification lines (_insightface_verification.py): held-out points of their own
            verified = verification_record(text) if guard is None else None
            rec, claimed = self._parse(text, order) if guard is None and verified is None else (None, False)
            if (self.rerun_states is not None and rec is not None and not rec.eval and rec.step is not None
                    and not rec.at_last and (line.rank is None or line.rank == 0)
                    and not self._rerun_step(rec.step, rec.epoch)):
                rec, claimed = self._parse(text, order)  # the run went on: read with the states it had
            keras = self.states.get("keras")
            if keras is not None and "keras_restep" in keras.extra:
                self.restep(*keras.extra.pop("keras_restep"))
            if guard is not None:
                rec = guard
            elif verified is not None:
                rec = verified if verified.metrics else None  # Accuracy-Highest: this format's line, not kept
            elif rec is None and not claimed and not self.generic_in_order and phase_line(text):
                # (a line the family claimed is its own with nothing to read: Record.claimed says no later parser
                # reads it, the phase rules included; nanochat's "Evaluating: <task> ... accuracy: x" lines)
                rec = self._phase(text)
            # a script's own print beside the family's lines (OWN_PRINT_MIN_LINES): read, on a clock of its own
            own = (rec is None and not claimed and guard is None and verified is None and order is self.order
                   and (bool(self.own_prints) or self.own_late is not None)
                   and self._own_print(text, line.rank, text is not line.text))
            if rec is not None and rec.eval and rec.from_epoch and self.counter_seen and all(
                    canonical(k).startswith(("eval_", "test_")) for k in rec.metrics):
                # an evaluation that names only its epoch, in a log whose training lines count their own steps
                # ("Epoch[2] Iter[120] loss=..." then "Epoch 2 - ... val metrics:"): printed after the last step
                # seen, as _phase places one; its epoch number is no position in that step count. (A line that
                # also carries training metrics, "Epoch: 3 done: Avg Train Loss: .. Avg Valid Loss: ..", is an
                # epoch row of its own and keeps its epoch.)
                rec.step = None
            if rec is not None and rec.step is not None and not _INT64[0] <= rec.step <= _INT64[1]:
                raise ValueError(f"step {rec.step} out of range")
            if rec is None and HF_DICT.search(text):
                self._hf_dict(text)
            if line.rank is None or line.rank == 0:
                self._marker(rec, text)
                self._note_fold(rec, text)
            step_before = self.last_step
            if rec is not None:
                step = rec.step
                # a counted line that carries a training metric beside held-out ones ("Ep 1 (Step 000050): Train
                # loss 0.346, Val loss 0.325") is a training step as well as an evaluation: the lines without a step
                # of their own that follow it ("Training accuracy: 100.00% | Validation accuracy: 92.50%") belong to
                # it, not to a line-order count (which put them on steps 1..12 beside losses at steps 0..600)
                trains = not rec.eval or _counted_mixed(rec)
                if step is not None and trains:
                    self.explicit_seen = True
                    self.counter_seen = self.counter_seen or not rec.from_epoch
                if rec.at_last:
                    # the run's end-of-training summary: at the last step reached, never one of its own; with no
                    # step before it there is no run for it to summarise
                    step = self.last_step if self.explicit_seen or not self.used_implicit else self.implicit_step
                    if step is None:
                        continue
                    trains = False
                elif step is None:
                    if not self.explicit_seen:  # a log that never prints a step: each metric line is the next one
                        self.implicit_step += 1
                        self.used_implicit = True
                        step = self.implicit_step
                    else:
                        step = self.last_step if self.last_step is not None else 0
                other_rank = line.rank is not None and line.rank > 0
                if rec.from_epoch and not other_rank:
                    step = self._epoch_only(rec, step, line_no)
                if self.fold_pending and trains and not other_rank and not rec.at_last:
                    # the first training line after a fold changed: a new training when its own step goes back (a
                    # line-order step always does: the fold's lines are counted from its own start); a line that
                    # names no position of its own ("Fold 0 auc: 0.81" after the training) starts nothing
                    self.fold_pending = False
                    implicit = self.used_implicit and not self.explicit_seen
                    if self.last_step is not None and (implicit or (rec.step is not None and step <= self.last_step)):
                        self._new_fold(line_no)
                        if implicit:
                            self.implicit_step = step = 1
                if self.src.records == 0 and self.opening and self.opening[-1] == line.text.strip():
                    self.opening.pop()  # the first metric line is no part of the opening (_rerun_opening)
                if trains and not other_rank:
                    if self.first_step is None and rec.step is not None:  # a counter the line printed
                        self.first_step, self.first_epoch = step, rec.epoch
                    if self.last_step is not None and step < self.last_step:
                        col.event("info", f"step went back from {self.last_step} to {step} (restart or resume)",
                                  step, "restart", line_no)
                    if step != self.last_step:
                        col.new_step()
                    self.last_step = step
                if rec.epoch is not None and rec.epoch != self.last_epoch:
                    run.epoch_starts.append((step, rec.epoch))
                    self.last_epoch = rec.epoch
                for raw_name, value in rec.metrics.items():
                    # a summary's value is the split's metric itself ("Final validation accuracy" beside the
                    # "Validation accuracy" lines): it joins that series at its end, whatever the raw spelling
                    name = canonical(raw_name) if rec.at_last else col.name(raw_name)
                    # per-rank copies of a metric stay apart, so a desync between ranks remains visible
                    col.add(f"{name}@rank{line.rank}" if other_rank else name, step, value)
                src.records += 1
            if rec is None and not param_line(text, run, col.path) and not precision_line(text, run):
                device_line(text, run)
            if (rec is not None or own) and not _eventy(text):
                continue  # a metric line with no warning-ish word: skip the catalogue (most lines of a big log)
            message = strip_triggered(text) if "Triggered" in text else text
            got = classify(message)
            if got is None and line.level in ("WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"):
                got = ("error" if line.level != "WARNING" and line.level != "WARN" else "warning", None, None)
            if got is None:
                continue
            kind, tag, _cause = got
            if tag is None and (rec is not None or own):
                continue  # a metric line that merely mentions "error" is not an event
            col.event(kind, message, step_before if rec is None else self.last_step, tag, line_no)
            if tag == "stage_change":
                m = _STAGE_NAME.search(message)
                run.stages.append((step_before if step_before is not None else 0,
                                   m.group(1) if m else message[:80]))
            if _PY_WARNING.search(message):
                self.skip_next_indented = True
            if kind == "warning" and _PY_CATEGORY.search(message):
                last = col.events[-1] if col.events else None
                self.warning_event = last if last is not None and last.message == message[:MAX_MESSAGE] else None


_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _only_rises(values: array) -> bool:
    """Whether a series never goes down, in the order logged: a counter (a value printed once is one too)."""
    return all(b >= a for a, b in zip(values, values[1:], strict=False))


def _differ(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two lines' values differ (NaN equal to NaN: a line printed twice repeats its NaN too)."""
    return any(not (x == y or (x != x and y != y)) for x, y in zip(a, b, strict=True))


READERS = [Reader(name="text_log", sniff=sniff, read=read)]
