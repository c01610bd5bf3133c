"""Weights & Biases run folders, read without wandb.

An offline run keeps its history ONLY in the binary `run-<id>.wandb` (wandb 0.31 has no reader for it). Its layout
(wandb/sdk/internal/datastore.py): a 7-byte header `:W&B` + uint16 0xBEE1 + version byte, then LevelDB-log style
32 KiB blocks of records `uint32 crc | uint16 length | uint8 type | data`, where type 1 FULL, 2 FIRST, 3 MIDDLE,
4 LAST, the crc is plain zlib CRC-32 of the type byte then the data, and fewer than 7 bytes left in a block are zero
padding. Each full payload is a `wandb_internal.Record` protobuf; we decode by hand only what diagnosis needs:
  history (2): items {key 1 | nested_key 2, value_json 16, or typed: integer 5 (sint64), number 6 (double)}, step 2
  summary (3), config (5) and run.config (17 -> 4): items {key 1 | nested_key 2, value_json 16}
  output (4) / output_raw (13): console line 3 -> warning events via the catalogue
  exit (18): exit_code 1; no exit record means the run did not finish cleanly.
  environment (26): args 5 (repeated), program 6, code_path 7 (relative to root 11): how the run was launched,
  where wandb >= 0.19 offline runs keep it (they write no files/wandb-metadata.json); read by `environment()`.
A CRC mismatch or short read ends the read with a warning (crashed or live writer), keeping what came before.

The folder reader also takes `files/config.yaml` (every key wrapped in `value:`; YAML 1.1 reads `5e-05` as a string,
coerced back), `files/wandb-summary.json` (last values: a fallback when there is no history), and the legacy
`wandb-history.jsonl`. `files/output.log` is left to the text-log readers (see loader.FOLDER_PASSTHROUGH): that of the
run read here (`console_log`), also in a `wandb/` folder copied without its `latest-run` link, whose console (the
only curve of a run whose binary was not kept) the static patterns did not reach.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.names import canonical_metric, pick_step_key
from traindoc.ingest.readers._protobuf import Corrupt as _Corrupt
from traindoc.ingest.readers._protobuf import varint as _varint
from traindoc.ingest.readers._structured import (
    Columns,
    add_config,
    coerce_yaml_scalar,
    flatten,
    tag_line,
    to_float,
    to_step,
    yaml_with_lines,
)
from traindoc.ingest.registry import Reader, ReadError

BLOCK = 32 * 1024
HEADER = b":W&B"
_HDR = struct.Struct("<IHB")
_NOT_METRICS = {"_timestamp", "_runtime", "_wandb", "_step"}


def _fields(buf: bytes):
    """Yield (field number, wire type, value): int for varint/fixed, bytes for length-delimited."""
    p, n = 0, len(buf)
    while p < n:
        key, p = _varint(buf, p)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, p = _varint(buf, p)
        elif wire == 1:
            if p + 8 > n:
                raise _Corrupt("short fixed64")
            v = buf[p : p + 8]
            p += 8
        elif wire == 2:
            ln, p = _varint(buf, p)
            if p + ln > n:
                raise _Corrupt("short field")
            v = buf[p : p + ln]
            p += ln
        elif wire == 5:
            if p + 4 > n:
                raise _Corrupt("short fixed32")
            v = buf[p : p + 4]
            p += 4
        else:
            raise _Corrupt(f"wire type {wire}")
        yield field, wire, v


def _item(buf: bytes) -> tuple[str, object]:
    """(key, value) of a HistoryItem / SummaryItem / ConfigItem."""
    key = ""
    nested: list[str] = []
    value: object = None
    for field, wire, v in _fields(buf):
        if field == 1 and wire == 2:
            key = v.decode("utf-8", "replace")
        elif field == 2 and wire == 2:
            nested.append(v.decode("utf-8", "replace"))
        elif field == 16 and wire == 2:
            text = v.decode("utf-8", "replace")
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                value = text
        elif field == 5 and wire == 0:  # integer (sint64, zigzag)
            value = (v >> 1) ^ -(v & 1)
        elif field == 6 and wire == 1:  # number (double)
            value = struct.unpack("<d", v)[0]
        elif field == 4 and wire == 0:  # boolean
            value = bool(v)
        elif field == 7 and wire == 2:  # text
            value = v.decode("utf-8", "replace")
    if not key and nested:
        key = ".".join(nested)
    return key, value


def iter_records(path: Path, source: Source):
    """Yield the payload of every complete record of a .wandb file; stop with a warning at corruption."""
    try:
        f = budget.open_input(path)
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    with f:
        header = f.read(7)
        if len(header) < 7 or header[:4] != HEADER:
            raise ReadError("not a W&B .wandb file (bad header)")
        pending: bytes | None = None
        first_block = True
        offset = 7
        while True:
            block = f.read(BLOCK - 7 if first_block else BLOCK)
            if not block:
                break
            first_block = False
            p = 0
            n = len(block)
            while p + 7 <= n:
                crc, length, rtype = _HDR.unpack_from(block, p)
                if rtype == 0 and length == 0 and crc == 0:
                    break  # zero padding to the end of the block
                data = block[p + 7 : p + 7 + length]
                if len(data) < length:
                    source.warnings.append(
                        f"record cut off at byte {offset + p}: the run crashed or is still writing"
                    )
                    return
                if zlib.crc32(data, zlib.crc32(bytes([rtype]))) & 0xFFFFFFFF != crc:
                    source.warnings.append(f"checksum mismatch at byte {offset + p}: the rest of the file was skipped")
                    return
                p += 7 + length
                if rtype == 1:
                    yield data
                elif rtype == 2:
                    pending = data
                elif rtype == 3 and pending is not None:
                    pending += data
                elif rtype == 4 and pending is not None:
                    yield pending + data
                    pending = None
                else:
                    source.warnings.append(f"unexpected record type {rtype} at byte {offset + p}")
                    return
            offset += n
        if pending is not None:
            source.warnings.append("the last record is incomplete: the run crashed or is still writing")


def read_wandb_file(path: Path, run: Run, source: Source) -> None:
    cols = Columns()
    names: dict[str, str] = {}
    summary: dict[str, object] = {}
    exit_seen = False
    row_no = 0
    corrupt = 0
    last_step = 0
    for payload in iter_records(path, source):
        try:
            for field, wire, v in _fields(payload):
                if wire != 2:
                    continue
                if field == 2:  # history
                    row: dict[str, object] = {}
                    hstep = None
                    for f2, w2, v2 in _fields(v):
                        if f2 == 1 and w2 == 2:
                            key, value = _item(v2)
                            if key:
                                row[key] = value
                        elif f2 == 2 and w2 == 2:
                            hstep = 0
                            for f3, _, v3 in _fields(v2):
                                if f3 == 1:
                                    hstep = v3
                    row_no += 1
                    sk = pick_step_key(row)
                    step = to_step(row[sk]) if sk else None
                    if step is None:
                        step = hstep if hstep is not None else row_no - 1
                    last_step = step
                    flat = flatten(row) if any(isinstance(x, dict) for x in row.values()) else row
                    for key, value in flat.items():
                        if key == sk or key in _NOT_METRICS or key.startswith("_wandb"):
                            continue
                        fv = to_float(value)
                        if fv is None:
                            continue
                        name = names.get(key)
                        if name is None:
                            name = names[key] = canonical_metric(key)
                        cols.add(name, step, fv, key)
                    source.records += 1
                elif field == 3:  # summary
                    for f2, w2, v2 in _fields(v):
                        if f2 == 1 and w2 == 2:
                            key, value = _item(v2)
                            if key:
                                summary[key] = value
                elif field in (5, 17):  # config, or the run record that carries the initial config (field 4)
                    conf = v
                    if field == 17:
                        conf = b""
                        for f2, w2, v2 in _fields(v):
                            if f2 == 4 and w2 == 2:
                                conf = v2
                            elif f2 == 1 and w2 == 2:
                                run.meta["wandb_run_id"] = v2.decode("utf-8", "replace")
                            elif f2 == 3 and w2 == 2:
                                run.meta["wandb_project"] = v2.decode("utf-8", "replace")
                    for f2, w2, v2 in _fields(conf):
                        if f2 == 1 and w2 == 2:
                            key, value = _item(v2)
                            if key and not key.startswith("_wandb"):
                                if isinstance(value, dict) and set(value) >= {"value"}:
                                    value = value["value"]
                                _config(run, key, value, path)
                elif field in (4, 13):  # console output
                    for f2, w2, v2 in _fields(v):
                        if f2 == 3 and w2 == 2:
                            line = v2.decode("utf-8", "replace").strip()
                            if line:
                                kind, tag = tag_line(line)
                                if kind in ("warning", "error"):
                                    _event(run, kind, line, last_step, tag, str(path))
                elif field == 18:  # exit
                    exit_seen = True
                    code = 0
                    for f2, w2, v2 in _fields(v):
                        if f2 == 1 and w2 == 0:
                            code = v2 - (1 << 64) if v2 >= 1 << 63 else v2
                    run.meta["wandb_exit_code"] = code
                    run.meta["end_status"] = "completed" if code == 0 else "error"
        except (_Corrupt, IndexError, struct.error, UnicodeDecodeError):
            corrupt += 1
    if corrupt:
        source.warnings.append(f"{corrupt} record(s) did not decode and were skipped")
    if not exit_seen:
        run.meta.setdefault("end_status", "unfinished")
        source.warnings.append("no exit record: the run crashed, was killed or is still running")
    if summary:
        run.meta["wandb_summary"] = {k: v for k, v in list(summary.items())[:200] if not k.startswith("_wandb")}
    source.metrics.extend(cols.flush(run, str(path)))


ENV_RECORDS = 50  # the environment record comes among the first records of a run; a file without it is not scanned on


def environment(path: Path) -> dict[str, object] | None:
    """{program, code_path, root, args} of the run's environment record (the launch the run recorded), or None."""
    source = Source(str(path), "wandb")
    try:
        for n, payload in enumerate(iter_records(path, source)):
            if n >= ENV_RECORDS:
                return None
            for field, wire, v in _fields(payload):
                if field != 26 or wire != 2:
                    continue
                env: dict[str, object] = {"args": []}
                names = {6: "program", 7: "code_path", 11: "root"}
                for f2, w2, v2 in _fields(v):
                    if w2 == 2 and f2 == 5:
                        env["args"].append(v2.decode("utf-8", "replace"))  # type: ignore[union-attr]
                    elif w2 == 2 and f2 in names:
                        env[names[f2]] = v2.decode("utf-8", "replace")
                return env
    except (ReadError, _Corrupt, IndexError, struct.error):
        return None
    return None


def _config(run: Run, key: str, value: object, file: Path, line: int | None = None, text: str = "",
            kind: str = "wandb_config", overwrite: bool = True) -> None:
    if isinstance(value, dict):
        for k, v in flatten(value, key).items():
            add_config(run, k, coerce_yaml_scalar(v), file, line, kind, "", overwrite)
    else:
        add_config(run, key, coerce_yaml_scalar(value), file, line, kind, text, overwrite)


def _event(run: Run, kind: str, message: str, step: int, tag: str | None, src: str) -> None:
    from traindoc.ingest.model import LogEvent

    if run.events and run.events[-1].message == message and run.events[-1].source == src:
        run.events[-1].count += 1
        return
    run.events.append(LogEvent(kind, message[:2000], step, tag, src))


# ---------------------------------------------------------------------------------------------------------------
# Folder and file readers


def _run_dir_of(path: Path) -> Path | None:
    """The run folder to read for `path`: a run folder itself, or the latest run of a `wandb/` folder."""
    if any(path.glob("run-*.wandb")) or (path / "files" / "wandb-summary.json").is_file():
        return path
    runs = sorted(
        (p for p in path.glob("*run-*") if p.is_dir() and not p.is_symlink()), key=lambda p: p.name.split("run-", 1)[1]
    )
    latest = path / "latest-run"
    if latest.is_dir() and _run_dir_of_plain(latest):
        return latest.resolve()
    return runs[-1] if runs and _run_dir_of_plain(runs[-1]) else None


def _run_dir_of_plain(p: Path) -> bool:
    return any(p.glob("run-*.wandb")) or (p / "files" / "wandb-summary.json").is_file()


def sniff_dir(path: Path, head: bytes) -> float:
    if not path.is_dir():
        return 0.0
    if _run_dir_of_plain(path):
        return 0.96
    if path.name == "wandb" or (path / "latest-run").exists():
        return 0.9 if _run_dir_of(path) else 0.0
    return 0.0


def read_dir(path: Path, run: Run) -> Source:
    source = Source(str(path), "wandb_run")
    run_dir = _run_dir_of(path)
    if run_dir is None:
        raise ReadError("no W&B run folder found")
    if run_dir != path:
        siblings = [p.name for p in path.glob("*run-*") if p.is_dir() and not p.is_symlink()]
        if len(siblings) > 1:
            source.warnings.append(f"{len(siblings)} W&B runs here; read {run_dir.name} (the latest)")
    source.path = str(run_dir)
    files = run_dir / "files"
    config_yaml = files / "config.yaml"
    if config_yaml.is_file():
        _read_config_yaml(config_yaml, run, source)
    binaries = sorted(run_dir.glob("run-*.wandb"))
    for b in binaries:
        read_wandb_file(b, run, source)
    legacy = files / "wandb-history.jsonl"
    if not binaries and legacy.is_file():
        from traindoc.ingest.readers.jsonl_metrics import read_jsonl

        sub = read_jsonl(legacy, run)
        source.metrics.extend(sub.metrics)
        source.records += sub.records
        source.warnings.extend(sub.warnings)
    summary_file = files / "wandb-summary.json"
    if summary_file.is_file():
        _read_summary(summary_file, run, source, as_series=not source.metrics)
    if not source.metrics and not run.config:
        raise ReadError("W&B run folder without history, summary or config")
    return source


def _read_config_yaml(path: Path, run: Run, source: Source) -> None:
    try:
        # PyYAML parses ~1 MB/s; a config over 2 MiB is not one
        text = budget.read_whole(path, 2 << 20).decode("utf-8", errors="replace")
        items = yaml_with_lines(text)
    except (OSError, ValueError, ReadError) as e:
        source.warnings.append(f"config.yaml unreadable ({e})")
        return
    for key, value, line, src in items:
        parts = key.split(".")
        if parts[0] in ("_wandb", "wandb_version"):
            continue
        # `lr: {value: 5e-05}` (and older `{desc: null, value: ...}`): the key is everything before ".value".
        if "value" in parts:
            i = parts.index("value")
            key = ".".join(parts[:i] + parts[i + 1 :])
        elif parts[-1] == "desc":
            continue
        add_config(run, key, coerce_yaml_scalar(value), path, line, "wandb_config", src)


def _read_summary(path: Path, run: Run, source: Source, as_series: bool) -> None:
    try:
        data = json.loads(budget.read_whole(path, 16 << 20))
    except (OSError, ValueError, RecursionError, ReadError) as e:
        source.warnings.append(f"wandb-summary.json unreadable ({str(e)[:80]})")
        return
    if not isinstance(data, dict):
        return
    run.meta.setdefault("wandb_summary", {k: v for k, v in list(data.items())[:200] if not k.startswith("_wandb")})
    if not as_series:
        return
    # No history: the last values are all there is. One point each, at the last step, so "final state" checks work.
    step = to_step(data.get(pick_step_key(data) or "_step")) or 0
    cols = Columns()
    for key, value in flatten(data).items():
        fv = to_float(value)
        if fv is not None and not key.startswith("_") and math.isfinite(step):
            cols.add(canonical_metric(key), step, fv, key)
            source.records += 1
    source.metrics.extend(cols.flush(run, str(path)))
    source.warnings.append("only the W&B summary (last values) is available: no curves")


def sniff_file(path: Path, head: bytes) -> float:
    return 0.97 if head[:4] == HEADER else 0.0


def read_file(path: Path, run: Run) -> Source:
    source = Source(str(path), "wandb_binary")
    read_wandb_file(path, run, source)
    if not source.records and not source.metrics:
        source.warnings.append("no history record in this .wandb file")
    return source


def console_log(path: Path) -> list[Path]:
    """The console capture (`files/output.log`) of the run folder read for `path`, for the text-log readers."""
    run_dir = _run_dir_of(path)
    return [] if run_dir is None else [run_dir / "files" / "output.log"]


READERS = [
    Reader("wandb_run", sniff_dir, read_dir, handles_dirs=True, passthrough=console_log),
    Reader("wandb_binary", sniff_file, read_file),
]
