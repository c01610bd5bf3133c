"""Helpers shared by the structured-log readers (JSONL, CSV, HF, TensorBoard, MLflow, W&B).

- `line_blocks`: stream a file as lists of lines, 1 MiB at a time, with a cap on line length (a 1 GB file with no
  newline must not become one 1 GB string).
- `Columns`: per-metric step/value columns in `array` form (8 bytes a value, not a 32-byte Python float in a list),
  turned into `Series` at the end.
- `to_float`: numbers as logs write them ("nan", "Infinity", "4.547", "12%", "1,024", None ...).
- `tag_line`: catalogue tag of a warning text, when the catalogue (helper "ingest-text") is present.
- `yaml_with_lines`: a YAML mapping flattened to dotted keys, each with its 1-based line and source text.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from traindoc.ingest.model import ConfigValue, Run, Series
from traindoc.ingest.names import canonical_metric

BLOCK_BYTES = 1 << 20
MAX_LINE_BYTES = 1 << 20  # longer lines are dropped and counted: no real metric record is a megabyte


@dataclass
class LineStats:
    lines: int = 0
    overlong: int = 0
    unterminated_tail: bool = False  # the last line has no newline: a writer was cut off (or still writing)
    stopped: bool = False  # keep_going said stop: the run's budget for kept values is spent


def line_blocks(f: IO[bytes], stats: LineStats, block: int = BLOCK_BYTES, text: bool = False,
                keep_going: Callable[[], bool] | None = None) -> Iterator[list]:
    """Yield lists of lines without their newline: bytes, or str when `text` (decoded once per block as UTF-8 with
    replacement, which is much cheaper than decoding line by line). A line over MAX_LINE_BYTES is counted in
    `stats.overlong` and yielded as an empty line, so line numbers stay true. `keep_going`, asked after each
    block, stops the stream when it returns False (a reader whose kept values reached the run's budget). Files
    opened with budget.open_input end early by themselves when their read budget is spent."""
    rest = b""
    skipping = False  # inside an overlong line: drop bytes until its newline
    empty: list = [""] if text else [b""]
    while True:
        if keep_going is not None and stats.lines and not keep_going():
            stats.stopped = True
            return
        chunk = f.read(block)
        if not chunk:
            break
        if skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            chunk = chunk[nl + 1 :]
            skipping = False
        if rest:
            chunk = rest + chunk
        nl = chunk.rfind(b"\n")
        if nl < 0:
            rest = chunk
        else:
            body, rest = chunk[:nl], chunk[nl + 1 :]
            lines = body.decode("utf-8", "replace").split("\n") if text else body.split(b"\n")
            stats.lines += len(lines)
            yield lines
        if len(rest) > MAX_LINE_BYTES:
            stats.overlong += 1
            stats.lines += 1
            yield empty
            rest = b""
            skipping = True
    if rest.strip():
        stats.unterminated_tail = True
        stats.lines += 1
        yield [rest.decode("utf-8", "replace")] if text else [rest]


_FLOAT_INT = 1 << 1023  # larger ints overflow float64
_MAX_STEP = 2**62  # steps are stored as int64; anything near that is garbage, not a step
_NUM_CLEAN = re.compile(r"[,_%]|\s+|(?<=\d)(?:ms|s|GiB|MiB|GB|MB|it/s|x)$")
_SPECIAL = {
    "nan": math.nan, "-nan": math.nan, "+nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
    "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
}


def json_dicts(path: Path, stats: LineStats) -> Iterator[dict]:
    """The JSON objects of a JSON-lines file, one per line, streamed through the file's read budget: blank lines,
    lines that are no JSON (a cut last line of a run still writing) and JSON values that are no object are skipped.
    ReadError (one line) when the file cannot be opened."""
    import json

    from traindoc.ingest import budget
    from traindoc.ingest.registry import ReadError

    try:
        f = budget.open_input(path)
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    with f:
        for block in line_blocks(f, stats):
            for raw in block:
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (ValueError, RecursionError):
                    continue
                if isinstance(rec, dict):
                    yield rec


def to_float(v: Any) -> float | None:
    """A logged value as a float, or None when it is not a number (strings like "5/3766", lists, dicts)."""
    t = v.__class__
    if t is float:
        return v
    if t is int:
        return float(v) if -_FLOAT_INT < v < _FLOAT_INT else None  # a 400-digit integer is no measurement
    if t is bool or v is None:
        return None  # booleans are flags, not metrics
    if t is str:
        s = v.strip()
        if not s or len(s) > 40:
            return None
        try:
            return float(s)
        except ValueError:
            pass
        special = _SPECIAL.get(s.lower())
        if special is not None:
            return special
        s2 = _NUM_CLEAN.sub("", s)
        if s2 and s2 != s:
            try:
                return float(s2)
            except ValueError:
                return None
        return None
    if isinstance(v, (int, float)):  # numpy scalars and friends
        try:
            return float(v)
        except OverflowError:
            return None
    return None


def to_step(v: Any) -> int | None:
    """A step/iteration value as int (floats that are whole numbers accepted; "5/3766" gives 5)."""
    if v.__class__ is int:
        return v if -_MAX_STEP <= v <= _MAX_STEP else None  # 10**30 is not a step, and no int64 holds it
    if isinstance(v, str) and "/" in v:
        v = v.split("/", 1)[0]
    f = to_float(v)
    if f is None or not math.isfinite(f) or abs(f) > _MAX_STEP:
        return None
    return int(f) if f == int(f) else None


class Columns:
    """Columns of (step, value) per metric name, kept as compact arrays while a file streams by."""

    def __init__(self) -> None:
        self.cols: dict[str, tuple[array, array, str]] = {}  # name -> (steps, values, raw name)

    def col(self, name: str, raw: str = "") -> tuple[array, array, str]:
        c = self.cols.get(name)
        if c is None:
            c = self.cols[name] = (array("q"), array("d"), raw or name)
        return c

    def add(self, name: str, step: int, value: float, raw: str = "") -> None:
        c = self.cols.get(name)
        if c is None:
            c = self.cols[name] = (array("q"), array("d"), raw or name)
        c[0].append(step)
        c[1].append(value)

    def nbytes(self) -> int:
        """Bytes held by the columns (for the run's budget of kept values)."""
        return sum(8 * (len(st) + len(v)) for st, v, _ in self.cols.values())

    def add_raw(self, raw: str, step: int, value: float, split: str | None = None) -> None:
        self.add(canonical_metric(raw, split), step, value, raw)

    def flush(self, run: Run, source: str) -> list[str]:
        """Add every non-empty column to the run; returns the names added."""
        import numpy as np

        names = []
        for name, (steps, values, raw) in self.cols.items():
            if not steps:
                continue
            run.add_series(
                Series(name, np.frombuffer(steps, dtype=np.int64), np.frombuffer(values, dtype=np.float64), source, raw)
            )
            names.append(name)
        self.cols.clear()
        return names


def tag_line(message: str) -> tuple[str | None, str | None]:
    """(kind, tag) for a warning/error text from the catalogue of helper "ingest-text"; (None, None) without it."""
    try:
        from traindoc.ingest import catalogue  # lazy: the catalogue is optional for structured readers
    except Exception:
        return None, None
    try:
        hit = catalogue.classify(message.strip().splitlines()[0] if message.strip() else "")
    except Exception:
        return None, None
    if not hit:
        return None, None
    return hit[0], hit[1]


def is_text(head: bytes) -> bool:
    """Heuristic: the head decodes as UTF-8 (allowing a cut multibyte char at the end) and has no NUL bytes."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3


def head_lines(head: bytes, n: int = 20) -> list[str]:
    """First `n` non-empty complete lines of the head, decoded leniently."""
    text = head.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if len(head) >= 64 * 1024 - 1:
        lines = lines[:-1]  # the last one may be cut
    return [ln.strip() for ln in lines if ln.strip()][:n]


# ---------------------------------------------------------------------------------------------------------------
# YAML with line numbers (hparams.yaml, W&B config.yaml, MLflow meta.yaml)


def bounded_loader(base: type) -> type:
    """A PyYAML loader class that composes within the file's budget (ingest/budget.py).

    An alias costs the size of the tree it repeats: a "billion laughs" of nine aliases of nine aliases costs 9**9
    nodes and would hang every walk over the document. Each alias is charged its expanded size against the
    file's node allowance; past that, or past `yaml_aliases` aliases, or when it refers to a node that contains it
    (a cycle), the alias reads as null and the file's budget notes it: the rest of the document is kept."""
    import yaml

    from traindoc.ingest import budget

    class Bounded(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.fb = budget.current()
            self.aliases = 0
            self.cut = 0
            self.expanded_total = 0  # nodes the admitted aliases add once expanded (walks charge their own)
            self.open: set[str] = set()  # anchors whose node is still being composed
            self.sizes: dict[int, int] = {}

        def expanded(self, node: yaml.Node) -> int:
            size = self.sizes.get(id(node))
            if size is None:
                size = 1
                if isinstance(node, yaml.SequenceNode):
                    size += sum(self.expanded(n) for n in node.value)
                elif isinstance(node, yaml.MappingNode):
                    size += sum(self.expanded(k) + self.expanded(v) for k, v in node.value)
                self.sizes[id(node)] = size
            return size

        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                node = self.anchors.get(event.anchor)
                if node is not None:
                    self.aliases += 1
                    cost = self.expanded(node)
                    if (event.anchor in self.open or self.aliases > self.fb.limits.yaml_aliases
                            or self.expanded_total + cost > self.fb.limits.yaml_nodes):
                        self.get_event()
                        self.cut += 1
                        self.fb.note(f"{self.cut} YAML alias(es) over the budget (a cycle, or more than "
                                     f"{self.fb.limits.yaml_aliases:,} aliases or {self.fb.limits.yaml_nodes:,} nodes "
                                     "expanded) read as null")
                        return yaml.ScalarNode("tag:yaml.org,2002:null", "null", event.start_mark, event.end_mark)
                    self.expanded_total += cost
                return super().compose_node(parent, index)
            anchor = getattr(event, "anchor", None)
            if anchor is None:
                return super().compose_node(parent, index)
            self.open.add(anchor)
            try:
                return super().compose_node(parent, index)
            finally:
                self.open.discard(anchor)

    return Bounded


def _tolerant_loader():
    import yaml

    class Loader(bounded_loader(yaml.SafeLoader)):  # type: ignore[misc]
        """SafeLoader that turns unknown tags (`!!python/object:...` in Lightning hparams) into plain data."""

    def _unknown(loader, tag_suffix, node):  # noqa: ARG001
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", _unknown)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", _unknown)
    return Loader


def yaml_with_lines(text: str) -> list[tuple[str, Any, int, str]]:
    """Flatten a YAML mapping: [(dotted key, value, 1-based line, source text of the value)]. Raises ValueError."""
    import yaml

    try:
        loader = _tolerant_loader()(text)
    except yaml.YAMLError as e:  # the reader rejects control characters up front
        raise ValueError(f"invalid YAML ({str(e).splitlines()[0]})") from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as e:
            raise ValueError(f"invalid YAML ({str(e).splitlines()[0]})") from None
        if node is None or not isinstance(node, yaml.MappingNode):
            return []
        out: list[tuple[str, Any, int, str]] = []
        lines = text.splitlines()

        def walk(n, prefix: str, depth: int) -> None:
            for k_node, v_node in n.value:
                if not loader.fb.spend():
                    return
                key = str(getattr(k_node, "value", k_node))[:200]
                dotted = f"{prefix}.{key}" if prefix else key
                if isinstance(v_node, yaml.MappingNode) and v_node.value and depth < 8:
                    walk(v_node, dotted, depth + 1)
                    continue
                try:
                    value = loader.construct_object(v_node, deep=True)
                except Exception:
                    value = v_node.value if isinstance(v_node, yaml.ScalarNode) else None
                line = v_node.start_mark.line + 1
                src = ""
                if v_node.start_mark.line == v_node.end_mark.line and line <= len(lines):
                    src = lines[line - 1][v_node.start_mark.column : v_node.end_mark.column].strip()
                out.append((dotted, value, line, src))

        walk(node, "", 0)
        return out
    except RecursionError:
        raise ValueError("YAML nested too deeply") from None
    finally:
        loader.dispose()


def coerce_yaml_scalar(value: Any) -> Any:
    """YAML 1.1 reads `5e-05` as a string (no dot): give numbers back as numbers."""
    if isinstance(value, str):
        f = to_float(value) if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", value.strip()) else None
        if f is not None:
            return int(f) if re.fullmatch(r"[-+]?\d+", value.strip()) else f
    return value


def add_config(run: Run, key: str, value: Any, file: str | Path = "", line: int | None = None, kind: str = "yaml",
               text: str = "", overwrite: bool = True) -> None:
    if not overwrite and key in run.config:
        return
    run.put_config(ConfigValue(key, value, str(file), line, kind, text))


def flatten(d: dict, prefix: str = "", out: dict | None = None, depth: int = 0) -> dict:
    """Nested dict -> dotted keys (depth-capped, so a hostile file cannot recurse without end)."""
    out = {} if out is None else out
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v and depth < 8:
            flatten(v, key, out, depth + 1)
        else:
            out[key] = v
    return out
