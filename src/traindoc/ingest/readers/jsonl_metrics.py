"""JSON-lines metric logs: the bundled trainer's metrics.jsonl, and every other "one JSON object per line" dump
(LLaMA-Factory trainer_log.jsonl, ms-swift logging.jsonl, detectron2 metrics.json, mmcv *.log.json, legacy W&B
wandb-history.jsonl, and ad-hoc `json.dumps(metrics)` prints).

Both stream the file in 1 MiB blocks (see _structured.line_blocks) and keep values in compact arrays, so a 1 GB log
costs memory in proportion to the metrics it holds, not to its text. Non-finite values arrive as Python's bare
NaN/Infinity tokens (json.loads accepts them) or as quoted strings; both are kept as NaN/Inf, since they are
evidence. A line that is not valid JSON (a truncated tail, binary garbage) is counted and skipped; only a file with
no valid record at all is a ReadError.
"""

from __future__ import annotations

import json
import json.scanner
import math
import operator
import re
import struct
from array import array
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import LogEvent, ParamCounts, Run, Sample, Series, Source
from traindoc.ingest.names import canonical_metric, pick_step_key
from traindoc.ingest.readers._structured import (
    _FLOAT_INT,
    _MAX_STEP,
    Columns,
    LineStats,
    add_config,
    flatten,
    head_lines,
    line_blocks,
    tag_line,
    to_float,
    to_step,
)
from traindoc.ingest.registry import Reader, ReadError

_NAN = math.nan
_PHASE1_TYPES = {"meta", "step", "eval", "sample", "warning", "stage", "end"}


def _head_records(head: bytes, n: int = 10) -> list[dict]:
    recs = []
    for line in head_lines(head, n + 2)[:n]:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # one bad line in the head must not hide the file
            continue
        if isinstance(obj, dict):
            recs.append(obj)
    return recs


# ---------------------------------------------------------------------------------------------------------------
# The bundled trainer's metrics.jsonl (format pinned in the project brief)


def sniff_phase1(path: Path, head: bytes) -> float:
    # No is_text(): a NUL or a bad byte on one line must not hide the file; the head's lines must still be JSON.
    if not head.lstrip().startswith(b"{"):
        return 0.0
    recs = _head_records(head)
    typed = [r for r in recs if r.get("type") in _PHASE1_TYPES]
    if not typed:
        return 0.0
    if any(r.get("type") == "meta" and "params" in r for r in typed) or any(
        r.get("type") == "step" and isinstance(r.get("lr"), dict) for r in typed
    ):
        return 0.97
    return 0.7 if len(typed) == len(recs) else 0.4


class _BadLines:
    """Lines skipped, by reason, each with the first line number it happened at: one bad line costs one line."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # reason -> [count, first line]

    def add(self, reason: str, lineno: int) -> None:
        c = self.counts.get(reason)
        if c is None:
            self.counts[reason] = [1, lineno]
        else:
            c[0] += 1

    def __len__(self) -> int:
        return sum(c for c, _ in self.counts.values())

    def warn(self, source: Source, stats: LineStats) -> None:
        if stats.overlong:
            source.warnings.append(f"{stats.overlong} line(s) longer than 1 MiB skipped")
        tail = "; the last line is cut off (run interrupted or still writing)" if stats.unterminated_tail else ""
        for reason, (count, first) in self.counts.items():
            source.warnings.append(f"{count} line(s) skipped: {reason} (first at line {first}){tail}")


_NOT_JSON = "not valid JSON"
_OUT_OF_RANGE = "a number out of range (an integer beyond float64, a step beyond int64)"
_TOO_DEEP = "nested too deeply"
_BAD_STEP = "no usable step value"


def _out_of_range(rec: dict) -> bool:
    """True when a record holds an integer no float64 can hold (json.loads keeps 400 digits exactly)."""
    for v in rec.values():
        if v.__class__ is int and not -_FLOAT_INT < v < _FLOAT_INT:
            return True
        if v.__class__ is dict:
            for v2 in v.values():
                if v2.__class__ is int and not -_FLOAT_INT < v2 < _FLOAT_INT:
                    return True
    return False


# A NaN with a payload no arithmetic produces marks "this step record had no such field" in the dense step table,
# so that a real NaN (evidence) and a missing value stay distinct.
_MISSING_BITS = 0x7FF8_0000_DEAD_BEEF
_MISSING = struct.unpack("<d", struct.pack("<Q", _MISSING_BITS))[0]
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # the C scanner json.loads ends in, minus its wrappers


def _value(v: object) -> float:
    """A step-record field as a float for the dense table: missing -> _MISSING, unparsable -> NaN."""
    if v is None:
        return _MISSING
    f = to_float(v)
    return _NAN if f is None else f


def _parse(line: str) -> object:
    try:
        obj, end = _SCAN(line, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(line) and line[end:].strip():
        raise ValueError("trailing data")
    return obj


class _StepTable:
    """The step records as one shared step column plus one value column per field: one append per field per
    record and one step array for all of them (a 1M-step run stores 1M steps once, not once per metric)."""

    def __init__(self) -> None:
        self.steps = array("q")
        self.cols: dict[str, array] = {}
        self.order: list[str] = []

    def nbytes(self) -> int:
        return 8 * (len(self.steps) + sum(len(c) for c in self.cols.values()))

    def column(self, name: str) -> array:
        col = self.cols.get(name)
        if col is None:
            # A field first seen in the record being read (its step is already appended): earlier records lack it.
            col = self.cols[name] = array("d", [_MISSING]) * max(len(self.steps) - 1, 0)
            self.order.append(name)
        return col

    def pad(self) -> None:
        """After an irregular record: give every column that did not get a value this record a MISSING."""
        n = len(self.steps)
        for col in self.cols.values():
            if len(col) < n:
                col.append(_MISSING)

    def flush(self, run: Run, source: str, aliases: dict[str, str]) -> list[str]:
        import numpy as np

        steps = np.frombuffer(self.steps, dtype=np.int64) if self.steps else np.zeros(0, np.int64)
        names = []
        for name in self.order:
            values = np.frombuffer(self.cols[name], dtype=np.float64)
            missing = values.view(np.int64) == _MISSING_BITS
            if missing.all():
                continue
            st, vals = (steps[~missing], values[~missing]) if missing.any() else (steps, values)
            for canonical in (name, aliases.get(name)):
                if canonical:
                    run.add_series(Series(canonical, st, vals, source, name))
                    names.append(canonical)
        return names


_STEP_FIELDS = ("type", "step", "epoch", "stage")
# JSON numbers and Python's NaN/Infinity tokens; float() has the last word. At most 40 characters: a longer number
# (400 digits) takes the JSON path, where it is rejected instead of becoming inf.
_NUMBER = r"([-+0-9.eEINaNfity]{1,40})"
_STRING = r'"([^"\\]*)"'  # a string without escapes (escaped ones take the JSON path)


def _column_name(key: str, sub: str | None = None) -> str:
    """Column of a step-record field: lr groups -> lr/<group>, other dicts -> <key>_<sub>, else canonical."""
    if sub is not None:
        return f"lr/{sub}" if key == "lr" else f"{key}_{sub}"
    return key if key in ("loss", "grad_norm", "tokens_per_s", "time", "lr") else canonical_metric(key)


class _Template:
    """The text layout of a step record (its keys in order), as a regex with one group per value.

    A trainer writes every step record with the same keys in the same order, so after the first one each line can
    be matched as text and only its numbers converted, which costs about half of a JSON parse. A template is kept
    only when matching the record it was made from gives exactly the values the JSON parser gave, and only for
    numbers and escape-free strings; a line that does not match, or whose numbers do not convert, takes the JSON
    path, so the result is the same either way."""

    def __init__(self, rec: dict, table: _StepTable) -> None:
        parts: list[str] = []
        paths: dict[int, tuple[str, str | None]] = {}  # group index -> (key, nested key) it captures
        self.floats: list[tuple[int, object]] = []  # (group index, column append)
        self.step_i = self.epoch_i = self.stage_i = -1
        group = 0
        for i, (key, value) in enumerate(rec.items()):
            parts.append((r"\s*,\s*" if i else r"\{\s*") + re.escape(json.dumps(key)) + r"\s*:\s*")
            if key == "type":
                parts.append(re.escape(json.dumps(value)))
                continue
            if value.__class__ is dict:
                inner = []
                for j, (k2, v2) in enumerate(value.items()):
                    if v2.__class__ not in (int, float):
                        raise ValueError("nested non-number")
                    inner.append((r"\s*,\s*" if j else "") + re.escape(json.dumps(k2)) + r"\s*:\s*" + _NUMBER)
                    group += 1
                    paths[group] = (key, k2)
                    self.floats.append((group, table.column(_column_name(key, str(k2))).append))
                parts.append(r"\{\s*" + "".join(inner) + r"\s*\}")
                continue
            if value.__class__ is str:
                parts.append(_STRING)
            elif value.__class__ in (int, float):
                parts.append(_NUMBER)
            else:
                raise ValueError("not templatable")
            group += 1
            paths[group] = (key, None)
            if key == "step":
                self.step_i = group
            elif key == "epoch":
                self.epoch_i = group
            elif key == "stage":
                self.stage_i = group
            elif value.__class__ is str:
                raise ValueError("string metric")
            else:
                self.floats.append((group, table.column(_column_name(key)).append))
        if self.step_i < 0:
            raise ValueError("no step")
        self.match = re.compile("".join(parts) + r"\s*\}\s*").fullmatch
        self.columns = len(self.floats)
        # C-level helpers for the hot loop: the value strings in column order, and the columns' appends
        idx = [i - 1 for i, _ in self.floats]
        getter = operator.itemgetter(*idx) if idx else (lambda g: ())
        self.get_floats = getter if len(idx) != 1 else (lambda g, _i=idx[0]: (g[_i],))
        self.appends = [append for _, append in self.floats]
        self.paths = paths

    def reproduces(self, line: str, rec: dict) -> bool:
        """True when matching `line` as text gives exactly the values JSON parsing gave (NaN equal to NaN)."""
        m = self.match(line)
        if m is None:
            return False
        g = m.groups()
        for i, (key, sub) in self.paths.items():
            want = rec[key] if sub is None else rec[key][sub]
            try:
                got = float(g[i - 1]) if not isinstance(want, str) else g[i - 1]
            except ValueError:
                return False
            if isinstance(want, str) or isinstance(got, str):
                if got != want:
                    return False
            elif not (got == want or (math.isnan(got) and math.isnan(want))):
                return False
        return True


def read_phase1(path: Path, run: Run) -> Source:
    source = Source(str(path), "phase1_jsonl")
    cols = Columns()  # sparse records: eval metrics
    add = cols.add
    table = _StepTable()
    steps_append = table.steps.append
    template: _Template | None = None
    tried_layouts = 0
    records = lineno = 0
    bad = _BadLines()
    last_epoch: object = None
    last_stage: object = None
    derived_stages: list[tuple[int, str]] = []
    stats = LineStats()
    parse = _parse
    try:
        f = budget.open_input(path)  # confined and metered: ends early when the read budget is spent
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    keep_going = budget.kept_meter(lambda: table.nbytes() + cols.nbytes())
    with f:
        for block in line_blocks(f, stats, text=True, keep_going=keep_going):
            for raw in block:
                lineno += 1
                if template is not None:
                    m = template.match(raw)
                    if m is not None:
                        g = m.groups()
                        try:
                            step = int(g[template.step_i - 1])
                            values = list(map(float, template.get_floats(g)))
                            if not -_MAX_STEP <= step <= _MAX_STEP:
                                raise ValueError("step out of range")
                        except ValueError:
                            pass  # e.g. a float where the template had an int: the JSON path decides
                        else:
                            records += 1
                            steps_append(step)
                            for append, v in zip(template.appends, values, strict=True):
                                append(v)
                            if len(table.cols) != template.columns:
                                table.pad()
                            if template.epoch_i > 0:
                                epoch = g[template.epoch_i - 1]
                                if epoch != last_epoch:
                                    _epoch_change(epoch, step, add, run)
                                    last_epoch = epoch
                            if template.stage_i > 0:
                                stage = g[template.stage_i - 1]
                                if stage != last_stage:
                                    derived_stages.append((step, stage))
                                    last_stage = stage
                            continue
                try:
                    rec = parse(raw)
                    kind = rec["type"]
                except RecursionError:
                    bad.add(_TOO_DEEP, lineno)
                    continue
                except (ValueError, KeyError, TypeError, IndexError):
                    if raw.strip():
                        bad.add(_NOT_JSON, lineno)
                    continue
                if _out_of_range(rec):
                    bad.add(_OUT_OF_RANGE, lineno)
                    continue
                if kind == "step":
                    step = to_step(rec.get("step"))
                    if step is None:
                        bad.add(_BAD_STEP, lineno)
                        continue
                records += 1
                if kind == "step":
                    _json_step(rec, step, table)
                    epoch = rec.get("epoch")
                    epoch_key = json.dumps(epoch) if isinstance(epoch, (int, float)) else epoch
                    if epoch_key != last_epoch:
                        if epoch is not None:
                            _epoch_change(epoch, step, add, run)
                        last_epoch = epoch_key
                    stage = rec.get("stage")
                    if stage != last_stage:
                        if stage is not None:
                            derived_stages.append((step, str(stage)))
                        last_stage = stage
                    if tried_layouts < 8 and (template is None or template.match(raw) is None):
                        tried_layouts += 1  # a new layout (first record, or the fields changed): learn it
                        try:
                            candidate = _Template(rec, table)
                            if candidate.reproduces(raw, rec):
                                template = candidate
                        except (ValueError, TypeError):
                            pass
                elif kind.__class__ is str:
                    _other_record(kind, rec, run, path, lineno, add)
    if not records:
        raise ReadError("no valid JSON record (empty, binary or not this format)")
    # Stage records mark switches; the step records' "stage" field also gives the first stage. Keep both, once.
    known = {s for s, _ in run.stages}
    run.stages.extend(st for st in derived_stages if st[0] not in known)
    if "end_status" not in run.meta:
        run.meta["end_status"] = "unfinished"  # no "end" record: crashed, killed or still running
    source.records = records
    # The first LR group (muon: the blocks' matrices) doubles as the main "lr" series, sharing its arrays.
    first_group = next((n for n in table.order if n.startswith("lr/")), None)
    aliases = {first_group: "lr"} if first_group and "lr" not in table.cols else {}
    source.metrics = table.flush(run, str(path), aliases) + cols.flush(run, str(path))
    bad.warn(source, stats)
    return source


def _json_step(rec: dict, step: int, table: _StepTable) -> None:
    """A step record through the general path: every number is a column, nested dicts one level deep."""
    table.steps.append(step)
    for key, v in rec.items():
        if key in _STEP_FIELDS:
            continue
        if v.__class__ is dict:
            for k2, v2 in v.items():
                if v2 is not None and not isinstance(v2, (dict, list)):
                    table.column(_column_name(key, str(k2))).append(_value(v2))
        elif v is not None and not isinstance(v, (list, bool)) and (v.__class__ is not str or to_float(v) is not None):
            table.column(_column_name(key)).append(_value(v))
    table.pad()


def _epoch_change(epoch: object, step: int, add, run: Run) -> None:
    fe = to_float(epoch)
    if fe is None:
        return
    add("epoch", step, fe)
    if math.isfinite(fe) and fe == int(fe):
        run.epoch_starts.append((step, int(fe)))


def _other_record(kind: str, rec: dict, run: Run, path: Path, lineno: int, add) -> None:
    """Everything but step records: rare, so clarity over speed."""
    if kind == "eval":
        step = to_step(rec.get("step"))
        if step is None:
            return
        for key, name in (("val_loss", "eval_loss"), ("train_loss", "eval_train_loss")):
            fv = to_float(rec.get(key))
            if fv is not None:
                add(name, step, fv, key)
        for key, v in rec.items():
            if key not in ("type", "step", "epoch", "stage", "val_loss", "train_loss"):
                fv = to_float(v)
                if fv is not None:
                    add(canonical_metric(str(key), "eval"), step, fv, key)
    elif kind == "meta":
        _read_meta(rec, run, path)
    elif kind == "stage":
        step = to_step(rec.get("step"))
        if step is not None:
            run.stages.append((step, str(rec.get("stage"))))
            run.events.append(
                LogEvent("stage_change", f"curriculum stage -> {rec.get('stage')}", step, "stage_change", str(path),
                         lineno)
            )
    elif kind == "sample":
        text = rec.get("text")
        if isinstance(text, str):
            prompt = rec.get("prompt")
            run.samples.append(
                Sample(text, to_step(rec.get("step")), prompt if isinstance(prompt, str) else None, str(path))
            )
    elif kind == "warning":
        msg = str(rec.get("message", ""))
        category = rec.get("category")
        full = f"{category}: {msg}" if category else msg
        _, tag = tag_line(full)
        _add_event(run, "warning", full, to_step(rec.get("step")), tag, str(path), lineno)
    elif kind == "end":
        status = rec.get("status")
        run.meta["end_status"] = status if isinstance(status, str) else "unknown"
        run.meta["end_step"] = to_step(rec.get("step"))
        if rec.get("message"):
            run.meta["end_message"] = str(rec.get("message"))[:2000]
        if status in ("diverged", "error"):
            run.events.append(
                LogEvent("error", f"run ended: {status}: {rec.get('message', '')}"[:2000], to_step(rec.get("step")),
                         None, str(path), lineno)
            )


def _add_event(run: Run, kind: str, message: str, step: int | None, tag: str | None, src: str, line: int) -> None:
    """Append an event, folding an identical consecutive repeat into the previous one's count."""
    if run.events:
        last = run.events[-1]
        if last.message == message and last.kind == kind and last.source == src:
            last.count += 1
            return
    run.events.append(LogEvent(kind, message[:2000], step, tag, src, line))


def _read_meta(rec: dict, run: Run, path: Path) -> None:
    for key in ("seed", "device", "precision", "world_size", "optimizer", "model", "versions"):
        if key in rec:
            run.meta[key] = rec[key]
    config = rec.get("config")
    if isinstance(config, dict):
        # The effective config as the run saw it. Without a file it has no location, so a real config file read
        # before or after (ingest-text's YAML reader) keeps or takes its place.
        for key, value in flatten(config).items():
            add_config(run, key, value, "", None, "meta", overwrite=False)
    params = rec.get("params")
    if isinstance(params, dict) and to_step(params.get("total")) is not None:
        def n(key: str) -> int:
            return to_step(params.get(key)) or 0

        trainable = to_step(params.get("trainable"))
        tied = params.get("tied")
        run.params = ParamCounts(
            total=n("total"), embedding=n("embedding"), unembedding=n("unembedding"), blocks=n("blocks"),
            other=n("other") + n("act_head"), trainable=trainable, tied=tied if isinstance(tied, bool) else None,
            by_group={k: int(v) for k, v in params.items() if to_step(v) is not None and not isinstance(v, bool)},
            source=str(path),
        )


# ---------------------------------------------------------------------------------------------------------------
# Any other JSON-lines metric dump

_SPLIT_KEYS = ("mode", "split", "phase", "subset")
_EVAL_SPLITS = {"val", "valid", "validation", "eval", "evaluation", "test", "dev"}
_NOT_METRICS = {"type", "time", "timestamp", "_timestamp", "_runtime", "_step", "elapsed_time", "remaining_time",
                "data_time", "percentage", "total_steps", "max_steps", "memory", "eta", "eta_seconds", "seed"}


# DETR's `log.txt` and the code bases that copy its engine (Deformable DETR, Conditional DETR, DINO-DETR, D-FINE,
# DEIM/DEIMv2) log the held-out COCO evaluation as `"test_coco_eval_bbox": [12 numbers]` (and `..._masks` for
# segmentation): pycocotools' COCOeval.stats, whose order is fixed (Lin et al., ECCV 2014, the COCO detection
# metrics; stats[0] = AP at IoU .50:.95, stats[1] = AP at IoU .50, then AP75, AP by object size and the ARs). The first
# two are read, named mAP and mAP50 so that the held-out rules know them for higher-is-better scores; a -1 (the
# evaluator's "no ground truth of this kind") is no score and is not read. Any other list is not a metric.
_COCO_STATS = re.compile(r"(?:^|_)coco_eval_(?:bbox|masks|segm)$")


def _coco_stats(key: str, v: list) -> list[tuple[str, float]]:
    """(name, value) for COCOeval.stats under a `*coco_eval_bbox` key: AP and AP50; [] for any other list."""
    if not _COCO_STATS.search(key) or len(v) != 12:
        return []
    out = []
    for i, suffix in ((0, "mAP"), (1, "mAP50")):
        fv = to_float(v[i])
        if fv is not None and 0.0 <= fv <= 1.0:
            out.append((f"{key}_{suffix}", fv))
    return out


def sniff_jsonl(path: Path, head: bytes) -> float:
    # No is_text(): a NUL or a bad byte on one line must not hide the file; the head's lines must still be JSON.
    if not head.lstrip().startswith(b"{"):
        return 0.0
    recs = _head_records(head, 10)
    if not recs:
        return 0.0
    # Records that nest their metrics under the split's name ({"train": {"loss": x, "acc": y}, "val": {...},
    # "epoch": e}: the protonets trace.txt of Snell et al.'s Prototypical Networks code, and other per-split dumps)
    # are judged by their flattened keys and values ("train.loss", "val.loss"), as read_jsonl reads them
    if any(v.__class__ is dict for r in recs for v in r.values()):
        recs = [flatten(r) for r in recs]
    numeric = sum(1 for r in recs if any(to_float(v) is not None for v in r.values()))
    if numeric == 0:
        return 0.0
    name = path.name.lower()
    keys = set().union(*(r.keys() for r in recs))
    metricish = any(canonical_metric(str(k)) in ("loss", "eval_loss", "lr", "grad_norm", "accuracy") for k in keys)
    known_name = name in ("trainer_log.jsonl", "logging.jsonl", "metrics.json", "wandb-history.jsonl") or name.endswith(
        (".log.json", ".jsonl")
    )
    if len(recs) == 1 and not known_name:
        return 0.3 if metricish else 0.1  # one dict: may be a results/summary file
    score = 0.5 + (0.2 if metricish else 0) + (0.15 if known_name else 0) + (0.05 if pick_step_key(keys) else 0)
    return min(score, 0.9)


# How many rows back a copy of a row is looked for. Processes that append their own rows drift apart by a few logging
# steps (the corpus's two-process LLaMA-Factory log puts each copy 1 to 5 rows after its original); a resumed run
# returns to a step from its checkpoint, many logging steps back (47-49 rows in that log), and is no copy: its steps
# are counted as read again. 8 rows: four logging steps of two processes.
COPY_WINDOW = 8


def read_jsonl(path: Path, run: Run) -> Source:
    source = Source(str(path), "jsonl_metrics")
    cols = Columns()
    add = cols.add
    names: dict[tuple[str, str | None], str] = {}  # (raw key, split) -> canonical, computed once per key
    records = lineno = 0
    bad = _BadLines()
    row = 0
    offset = 0  # for epoch-local iteration counters (mmcv "iter" restarts at each epoch)
    last_step: int | None = None
    last_epoch: float | None = None
    masked_nan = 0
    seen_step_key = False
    mm_layout = False  # training records with both "iter" and "step" seen (MMEngine's scalars.json)
    # the step and fields of the last COPY_WINDOW rows, and how many rows repeated one of them (a log that more than
    # one process appends to)
    recent: deque[tuple[object, frozenset[str]]] = deque(maxlen=COPY_WINDOW)
    copies = 0
    stats = LineStats()
    try:
        f = budget.open_input(path)  # confined and metered: ends early when the read budget is spent
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    keep_going = budget.kept_meter(cols.nbytes)
    with f:
        for block in line_blocks(f, stats, keep_going=keep_going):
            for raw in block:
                lineno += 1
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except RecursionError:
                    bad.add(_TOO_DEEP, lineno)
                    continue
                except ValueError:
                    bad.add(_NOT_JSON, lineno)
                    continue
                if not isinstance(rec, dict):
                    bad.add(_NOT_JSON + " object", lineno)
                    continue
                if _out_of_range(rec):
                    bad.add(_OUT_OF_RANGE, lineno)
                    continue
                key = pick_step_key(rec)
                step = to_step(rec[key]) if key else None
                sv = rec[key] if key else None
                if step is None and sv.__class__ in (int, float) and (not math.isfinite(sv) or abs(sv) > _MAX_STEP):
                    bad.add(_BAD_STEP, lineno)  # a number that is no step (10**30, inf): the line is garbage
                    continue
                copy = False
                if key is not None:
                    # LLaMA-Factory's trainer_log.jsonl written by every process of a multi-GPU run (each appends
                    # its own row: "current_steps": 10 twice, the losses 0.8548 and 0.8547, or one process behind:
                    # 1510, 1500, 1520, 1510, ...): a row with the step and the fields of one of the last COPY_WINDOW
                    # rows is that step's copy, not a second measurement: one record, its value the last logged (as
                    # at any repeated step, Run._merge_series; detectron2's metrics.json of a run started twice
                    # repeats its first record, and the second start's is the run's). A train and an eval row at one
                    # step differ in their fields.
                    shape = (rec[key], frozenset(k for k in rec if k not in _NOT_METRICS))
                    copy = shape in recent
                    copies += copy
                    if not copy:
                        recent.append(shape)
                records += not copy
                row += 1
                split = None
                for k in _SPLIT_KEYS:
                    sv = rec.get(k)
                    if isinstance(sv, str) and sv.lower() in _EVAL_SPLITS:
                        split = "eval"
                        break
                at_train_step = None
                if key == "step" and split is None and mm_layout and "iter" not in rec:
                    # MMEngine's vis_data/scalars.json: its training records carry "iter" and "step" (the same
                    # number) and "epoch"; a validation record carries only its metrics, "data_time", "time" and
                    # "step", which is then the epoch count (LoggerHook.after_val_epoch with by_epoch): it belongs
                    # to the last training step of that epoch, as the same run's text log places it
                    split = "eval"
                    if last_epoch is not None and step == int(last_epoch) and last_step is not None:
                        at_train_step = last_step
                elif key == "step" and "iter" in rec:
                    mm_layout = True
                if step is None and "global_step/max_steps" in rec:  # ms-swift
                    step = to_step(rec["global_step/max_steps"])
                epoch = to_float(rec.get("epoch"))
                if step is None and seen_step_key and last_step is not None:
                    step = last_step  # a row without the step key (fairseq's valid lines): it belongs to the last one
                elif step is None:
                    # Per-epoch logs (Keras-like) use the epoch; otherwise the row number is the only clock.
                    step = int(epoch) if epoch is not None and math.isfinite(epoch) and epoch == int(epoch) else row
                else:
                    if (
                        last_step is not None
                        and step + offset < last_step
                        and epoch is not None
                        and last_epoch is not None
                        and epoch > last_epoch
                    ):
                        offset = last_step  # counter restarted with the new epoch: make steps global
                    step += offset
                    seen_step_key = True
                if at_train_step is not None:
                    step = at_train_step
                flat = rec
                if any(v.__class__ is dict for v in rec.values()):
                    flat = flatten(rec)
                values: dict[str, float] = {}
                for k, v in flat.items():
                    if k == key or k in _NOT_METRICS or k in _SPLIT_KEYS:
                        continue
                    if v.__class__ is list:
                        pairs: Iterable[tuple[str, float]] = _coco_stats(k, v)
                    else:
                        fv = to_float(v)
                        if fv is None:
                            continue
                        pairs = ((k, fv),)
                    for mk, mv in pairs:
                        nk = (mk, split)
                        name = names.get(nk)
                        if name is None:
                            name = names[nk] = canonical_metric(mk, split)
                        values[name] = mv
                        add(name, step, mv, k)
                # HF's logging_nan_inf_filter: a NaN step loss is logged as exactly 0.0, with a NaN grad_norm.
                if values.get("loss") == 0.0 and "grad_norm" in values and not math.isfinite(values["grad_norm"]):
                    cols.cols["loss"][1][-1] = _NAN
                    masked_nan += 1
                if epoch is not None and math.isfinite(epoch):
                    if last_epoch is None or int(epoch) != int(last_epoch):
                        run.epoch_starts.append((step, int(epoch)))
                    last_epoch = epoch
                last_step = step
    if not records:
        raise ReadError("no valid JSON record (empty, binary or not JSON lines)")
    if masked_nan:
        source.warnings.append(
            f"{masked_nan} row(s) log loss 0.0 with a non-finite grad_norm: read as NaN (HF NaN filter)"
        )
    if copies:
        source.warnings.append(f"{copies} row(s) repeat the step and fields of a row just before them (the log "
                               f"written by more than one process, or a start repeated): one record per step, the "
                               f"last value logged")
    source.records = records
    source.metrics = cols.flush(run, str(path))
    if not source.metrics:
        source.warnings.append("JSON lines without numeric metrics")
    bad.warn(source, stats)
    return source


READERS = [
    Reader("phase1_jsonl", sniff_phase1, read_phase1),
    Reader("jsonl_metrics", sniff_jsonl, read_jsonl),
]
