"""TensorBoard event files (`events.out.tfevents.*`), read with the standard library alone.

Framing (TFRecord, little-endian): uint64 length, uint32 masked CRC-32C of the length, payload, uint32 masked CRC of
the payload. The payload is one `Event` protobuf (tensorboard/compat/proto/event.proto). CRCs are not checked: in
pure Python that would cost more than the decoding itself, and a record whose payload does not decode is counted
and skipped instead. A cut-off last record (crashed or live writer) ends the read with a warning.

All three scalar encodings are read, every value, with no sampling (EventAccumulator keeps 10,000 per tag by
default):
- `Summary.Value.simple_value` (field 2, float32): torch SummaryWriter.add_scalar, tensorboardX;
- `Summary.Value.tensor` with typed lists `float_val` / `double_val` / `int_val` / `int64_val` / `half_val`:
  torch `add_scalar(new_style=True)`;
- `Summary.Value.tensor.tensor_content` raw bytes + dtype: TF2 `tf.summary.scalar`, Keras.
Tensors of other plugins (text, hparams, histograms, images) and non-scalar tensors are skipped.

Speed: one function walks a whole buffer of records with the protobuf wire format inlined for the common layout;
only unusual fields fall back to a generic skipper.
"""

from __future__ import annotations

import re
import struct
from array import array
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import LogEvent, Run, Source
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers._protobuf import Corrupt as _Corrupt
from traindoc.ingest.readers._protobuf import skip as _skip
from traindoc.ingest.readers._protobuf import varint as _varint
from traindoc.ingest.readers._structured import Columns
from traindoc.ingest.registry import Reader, ReadError

CHUNK_BYTES = 8 << 20
MAX_RECORD_BYTES = 256 << 20  # no scalar event is near this; a larger length means the framing is corrupt

_U64 = struct.Struct("<Q").unpack_from
_F64 = struct.Struct("<d").unpack_from
_F32 = struct.Struct("<f").unpack_from
_EVAL_DIRS = {"validation", "val", "valid", "eval", "evaluation", "test"}

# TensorProto dtypes that can hold a scalar, with their struct code and size in tensor_content.
_DTYPES = {1: ("<f", 4), 2: ("<d", 8), 3: ("<i", 4), 4: ("<B", 1), 5: ("<h", 2), 6: ("<b", 1), 9: ("<q", 8),
           10: ("<?", 1), 17: ("<H", 2), 19: ("<e", 2), 14: ("bf16", 2), 22: ("<I", 4), 23: ("<Q", 8)}


def _bf16(raw: bytes) -> float:
    return struct.unpack("<f", b"\x00\x00" + raw[:2])[0]


def _tensor_scalar(buf: bytes, p: int, end: int) -> float | None:
    """The single value of a TensorProto, or None when it is not a one-element numeric tensor."""
    dtype = 0
    n_elems = 1
    content = None
    values: list[float] = []
    while p < end:
        key, p = _varint(buf, p)
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 0:
            dtype, p = _varint(buf, p)
        elif field == 2 and wire == 2:  # TensorShapeProto: repeated Dim dim = 2 { int64 size = 1 }
            ln, p = _varint(buf, p)
            q, stop = p, p + ln
            while q < stop:
                k2, q = _varint(buf, q)
                if k2 == 0x12:
                    dl, q = _varint(buf, q)
                    r, dstop = q, q + dl
                    while r < dstop:
                        k3, r = _varint(buf, r)
                        if k3 == 0x08:
                            size, r = _varint(buf, r)
                            n_elems *= size
                        else:
                            r = _skip(buf, r, k3 & 7)
                    q = dstop
                else:
                    q = _skip(buf, q, k2 & 7)
            p = stop
        elif field == 4 and wire == 2:
            ln, p = _varint(buf, p)
            content = buf[p : p + ln]
            p += ln
        elif field == 5:  # float_val
            if wire == 2:
                ln, p = _varint(buf, p)
                values.extend(struct.unpack_from(f"<{ln // 4}f", buf, p))
                p += ln
            else:
                values.append(_F32(buf, p)[0])
                p += 4
        elif field == 6:  # double_val
            if wire == 2:
                ln, p = _varint(buf, p)
                values.extend(struct.unpack_from(f"<{ln // 8}d", buf, p))
                p += ln
            else:
                values.append(_F64(buf, p)[0])
                p += 8
        elif field in (7, 10, 13):  # int_val, int64_val, half_val (HALF / BFLOAT16 bits in an int32)
            if wire == 2:
                ln, p = _varint(buf, p)
                stop = p + ln
                while p < stop:
                    v, p = _varint(buf, p)
                    values.append(v)
            else:
                v, p = _varint(buf, p)
                values.append(v)
            if field == 13:
                bits = values.pop()
                if dtype == 14:
                    values.append(_bf16(struct.pack("<H", bits & 0xFFFF)))
                else:
                    values.append(struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0])
            elif values and values[-1] >= 1 << 63:
                values[-1] -= 1 << 64
        elif field == 8 and wire == 2:  # string_val: not a number
            return None
        else:
            p = _skip(buf, p, wire)
    if n_elems != 1:
        return None
    if content is not None:
        spec = _DTYPES.get(dtype)
        if spec is None or len(content) != spec[1]:
            return None
        if spec[0] == "bf16":
            return _bf16(content)
        return float(struct.unpack(spec[0], content)[0])
    if len(values) == 1 and dtype != 7:
        return float(values[0])
    return None


def _plugin(buf: bytes, p: int, end: int) -> tuple[str | None, int]:
    """(plugin_name, data_class) of a SummaryMetadata."""
    name = None
    data_class = 0
    while p < end:
        key, p = _varint(buf, p)
        if key == 0x0A:  # plugin_data { plugin_name = 1 }
            ln, p = _varint(buf, p)
            q, stop = p, p + ln
            while q < stop:
                k2, q = _varint(buf, q)
                if k2 == 0x0A:
                    nl, q = _varint(buf, q)
                    name = buf[q : q + nl].decode("utf-8", "replace")
                    q += nl
                else:
                    q = _skip(buf, q, k2 & 7)
            p = stop
        elif key == 0x20:
            data_class, p = _varint(buf, p)
        else:
            p = _skip(buf, p, key & 7)
    return name, data_class


# The split words a `SummaryWriter.add_scalars(main_tag, {key: value})` key is commonly one of.
_SPLIT_KEYS = {"train", "training", "val", "valid", "validation", "eval", "evaluation", "test", "dev"}


def scalars_name(tag: str, folder: str) -> str | None:
    """The metric a tag stands for when PyTorch's (or tensorboardX's) `add_scalars(main_tag, {key: v})` wrote it:
    each key goes to its own writer in the subfolder `<main_tag with / as _>_<key>`, under the tag `main_tag`, so
    the key (often the split: `add_scalars("loss", {"train": .., "val": ..})`) is only in the folder's name. None
    for any other tag."""
    prefix = tag.replace("/", "_") + "_"
    if not folder.startswith(prefix) or len(folder) == len(prefix):
        return None
    key = folder[len(prefix):]
    return f"{key}/{tag}" if key.lower() in _SPLIT_KEYS else f"{tag}/{key}"


# Keras's TensorBoard callback writes each metric per epoch as `epoch_<metric>` at step = the epoch index (from 0),
# and in its validation/ folder the same values again as `evaluation_<metric>_vs_iterations` at step = the training
# iterations done so far; with `update_freq` set to a number (or "batch") it also writes `batch_<metric>` into train/
# at step = the global batch. One run, up to three clocks, all of whose tags map to the same canonical names.
_VS_ITERATIONS = re.compile(r"^evaluation_(.+)_vs_iterations$")
_ITER_SUFFIX = "\x00iterations"
_EPOCH_SUFFIX = "\x00epoch"
# a Summary.Value whose tag (field 1, length-delimited: 0x0a, its length, the bytes) starts "batch_"; the model config
# Keras writes into the same file spells "batch_shape" / "batch_size" inside JSON text, never right after such a key
_BATCH_TAG = re.compile(rb"\x0a[\x07-\x7f]batch_")


def keras_batch_clock(path: Path) -> bool:
    """True when this Keras validation/ file belongs to a run whose train/ folder logs per batch (`batch_*` tags in
    the head of an event file there): its evaluation is then placed on the iteration clock."""
    if path.parent.name.lower() != "validation":
        return False
    for f in sorted((path.parent.parent / "train").glob("events.out.tfevents.*"))[:4]:
        try:
            if _BATCH_TAG.search(budget.read_head(f, 1 << 16)):
                return True
        except (OSError, ReadError):
            continue
    return False


def keras_epoch_clock(cols: Columns, batch_clock: bool = False) -> None:
    """One clock per Keras TensorBoard run. Per epoch (no `batch_*` tag in the run): epochs completed, 1..n, as its
    console (`Epoch 1/N`), its CSVLogger and its saved history read (readers/csv_metrics.py): `epoch_*` tags counting
    from 0 move up by one, an `evaluation_*_vs_iterations` copy is dropped where the `epoch_*` tag of the metric
    exists and is the metric where it does not. Per batch (`batch_*` tags in this file, or `batch_clock` for the
    validation/ file beside such a train/): the iteration clock, so `batch_*` and `*_vs_iterations` are the metrics
    and the `epoch_*` aggregates are kept apart as `<name>_epoch` (as Lightning's epoch aggregates are: an epoch
    index is no step on that clock)."""
    batch_clock = batch_clock or any(raw.startswith("batch_") for _, _, raw in cols.cols.values())
    for key in [k for k in cols.cols if k.endswith(_ITER_SUFFIX)]:
        steps, values, raw = cols.cols.pop(key)
        base = key[: -len(_ITER_SUFFIX)]
        if batch_clock or (base not in cols.cols and base + _EPOCH_SUFFIX not in cols.cols):
            cols.cols[base] = (steps, values, raw)
    for key in [k for k in cols.cols if k.endswith(_EPOCH_SUFFIX)]:
        steps, values, raw = cols.cols.pop(key)
        if steps and steps[0] == 0:
            steps = array("q", [s + 1 for s in steps])
        base = key[: -len(_EPOCH_SUFFIX)]
        cols.cols[f"{base}_epoch" if batch_clock or base in cols.cols else base] = (steps, values, raw)


def epoch_counted_heldout(cols: Columns) -> str | None:
    """Held-out tags written at the epoch number beside training tags at the iteration: PyTorch-Ignite's
    `global_step_from_engine(trainer)` on an evaluator's EPOCH_COMPLETED gives the trainer's epoch, and many loops
    call `writer.add_scalar("val/loss", v, epoch)` after `add_scalar("train/loss", v, global_step)`. Read as they
    stand, every evaluation would sit in the first few iterations. When every held-out tag counts 1..n (or 0..n-1)
    one by one and the training loss runs past 2n, evaluation e is placed at the end of epoch e: e x T / n, T the
    last training step. Returns a warning saying so, or None when nothing was moved."""
    train = cols.cols.get("loss")
    held = [k for k in cols.cols if k.startswith(("eval_", "test_"))]
    if train is None or not held or len(train[0]) < 5:
        return None
    counts = set()
    for k in held:  # first and last count decide most files at once; the full check only for what passes them
        steps = cols.cols[k][0]
        start = steps[0] if len(steps) else -1
        if start not in (0, 1) or steps[-1] != start + len(steps) - 1 or any(
                b != a + 1 for a, b in zip(steps, steps[1:], strict=False)):
            return None
        counts.add((start, len(steps)))
    last = max(train[0])
    n = max(start + size - 1 for start, size in counts) + (1 if min(start for start, _ in counts) == 0 else 0)
    if n < 2 or last < 2 * n:
        return None
    for k in held:
        steps, values, raw = cols.cols[k]
        shift = 1 if steps[0] == 0 else 0
        cols.cols[k] = (array("q", [round((e + shift) * last / n) for e in steps]), values, raw)
    return (f"held-out tags count epochs 1..{n} beside training steps up to {last}: each evaluation is placed at "
            f"the end of its epoch ({last / n:.4g} steps per epoch)")


class _State:
    def __init__(self, split: str | None, folder: str = "") -> None:
        self.split = split
        self.folder = folder
        self.cols = Columns()
        self.tags: dict[bytes, tuple] = {}  # tag bytes -> (steps, values) arrays, or () when not a scalar tag
        self.plugins: dict[bytes, str] = {}  # tag -> plugin name from the first metadata that named one
        self.records = 0
        self.corrupt = 0
        self.file_versions = 0
        self.last_wall = 0.0
        self.skipped_tags: set[str] = set()

    def arrays(self, tag: bytes) -> tuple:
        name_raw = tag.decode("utf-8", "replace")
        plugin = self.plugins.get(tag)
        if plugin is not None and plugin != "scalars":
            self.skipped_tags.add(name_raw)
            return ()
        name = scalars_name(name_raw, self.folder) or name_raw
        key = canonical_metric(name, self.split)
        if (m := _VS_ITERATIONS.match(name)) is not None:  # kept apart until the file ends: see keras_epoch_clock
            key = canonical_metric(f"epoch_{m.group(1)}", "eval") + _ITER_SUFFIX
        elif name.startswith("epoch_") and key != name:
            key += _EPOCH_SUFFIX
        c = self.cols.col(key, name)
        return (c[0], c[1])


def _scan(buf: bytes, pos: int, st: _State) -> int:
    """Decode every complete record in buf[pos:]; return the offset of the first incomplete one."""
    n = len(buf)
    tags = st.tags
    plugins = st.plugins
    while pos + 12 <= n:
        length = _U64(buf, pos)[0]
        if length > MAX_RECORD_BYTES:
            raise _Corrupt(f"record length {length} at byte {pos}")
        start = pos + 12
        end = start + length
        if end + 4 > n:
            return pos
        pos = end + 4
        st.records += 1
        try:
            p = start
            step = 0
            summaries = []
            while p < end:
                key = buf[p]
                p += 1
                if key == 0x09:  # wall_time
                    wall = _F64(buf, p)[0]
                    p += 8
                    if wall > st.last_wall:
                        st.last_wall = wall
                elif key == 0x10:  # step
                    b = buf[p]
                    if b < 0x80:
                        step = b
                        p += 1
                    else:
                        step, p = _varint(buf, p)
                        if step >= 1 << 63:
                            step -= 1 << 64
                elif key == 0x2A:  # summary
                    b = buf[p]
                    if b < 0x80:
                        ln = b
                        p += 1
                    else:
                        ln, p = _varint(buf, p)
                    summaries.append((p, p + ln))
                    p += ln
                elif key == 0x1A:  # file_version: one per file (a second one in a file is a restart)
                    ln, p = _varint(buf, p)
                    p += ln
                    st.file_versions += 1
                else:
                    if key >= 0x80:
                        key, p = _varint(buf, p - 1)
                    p = _skip(buf, p, key & 7)
            for s_start, s_end in summaries:
                q = s_start
                while q < s_end:
                    k = buf[q]
                    q += 1
                    if k != 0x0A:  # Summary.value is field 1; nothing else is expected
                        if k >= 0x80:
                            k, q = _varint(buf, q - 1)
                        q = _skip(buf, q, k & 7)
                        continue
                    b = buf[q]
                    if b < 0x80:
                        vl = b
                        q += 1
                    else:
                        vl, q = _varint(buf, q)
                    v_end = q + vl
                    tag = b""
                    value = None
                    tensor = None
                    meta = None
                    r = q
                    while r < v_end:
                        k = buf[r]
                        r += 1
                        if k == 0x0A:  # tag
                            tl = buf[r]
                            if tl < 0x80:
                                r += 1
                            else:
                                tl, r = _varint(buf, r)
                            tag = buf[r : r + tl]
                            r += tl
                        elif k == 0x15:  # simple_value
                            value = _F32(buf, r)[0]
                            r += 4
                        elif k == 0x42:  # tensor
                            tl, r = _varint(buf, r)
                            tensor = (r, r + tl)
                            r += tl
                        elif k == 0x4A:  # metadata
                            ml, r = _varint(buf, r)
                            meta = (r, r + ml)
                            r += ml
                        else:
                            if k >= 0x80:
                                k, r = _varint(buf, r - 1)
                            r = _skip(buf, r, k & 7)
                    q = v_end
                    if meta is not None and tag not in plugins:
                        plugin, data_class = _plugin(buf, meta[0], meta[1])
                        if plugin:
                            plugins[tag] = "scalars" if data_class == 1 else plugin
                            tags.pop(tag, None)
                    if value is None:
                        if tensor is None:
                            continue
                        plugin = plugins.get(tag)
                        if plugin is not None and plugin != "scalars":
                            continue
                        t0, t1 = tensor
                        # Fast paths for the layouts scalar writers produce: dtype FLOAT (1) or DOUBLE (2), no shape,
                        # one value in float_val/double_val (torch new_style) or tensor_content (TF2 / Keras).
                        if t1 - t0 == 8 and buf[t0] == 0x08 and buf[t0 + 1] == 1 and buf[t0 + 3] == 4 and (
                            buf[t0 + 2] == 0x2A or buf[t0 + 2] == 0x22
                        ):
                            value = _F32(buf, t0 + 4)[0]
                        elif t1 - t0 == 12 and buf[t0] == 0x08 and buf[t0 + 1] == 2 and buf[t0 + 3] == 8 and (
                            buf[t0 + 2] == 0x32 or buf[t0 + 2] == 0x22
                        ):
                            value = _F64(buf, t0 + 4)[0]
                        else:
                            value = _tensor_scalar(buf, t0, t1)
                            if value is None:
                                continue
                    arrs = tags.get(tag)
                    if arrs is None:
                        arrs = tags[tag] = st.arrays(tag)
                    if arrs:
                        arrs[0].append(step)
                        arrs[1].append(value)
        except (_Corrupt, IndexError, struct.error, OverflowError, ValueError):
            st.corrupt += 1
    return pos


def sniff(path: Path, head: bytes) -> float:
    name = path.name
    if ".profile-empty" in name:
        return 0.0
    looks = len(head) >= 12 and b"brain.Event:" in head[:64]
    if "tfevents" in name:
        return 0.97 if looks or not head else 0.8
    return 0.9 if looks else 0.0


def read(path: Path, run: Run) -> Source:
    source = Source(str(path), "tensorboard")
    split = "eval" if path.parent.name.lower() in _EVAL_DIRS else None
    st = _State(split, path.parent.name)
    try:
        f = budget.open_input(path)
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    leftover = b""
    stopped = None
    with f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                break
            buf = leftover + chunk if leftover else chunk
            try:
                pos = _scan(buf, 0, st)
            except _Corrupt as e:
                stopped = str(e)
                leftover = b""
                break
            leftover = buf[pos:]
            if len(leftover) > MAX_RECORD_BYTES + 16:
                stopped = "record larger than the reader accepts"
                leftover = b""
                break
    if stopped:
        source.warnings.append(f"framing corrupt ({stopped}); values before it were kept")
    elif leftover:
        source.warnings.append(
            f"last record cut off ({len(leftover)} bytes): the writer was interrupted or is still running"
        )
        run.meta["tensorboard_truncated"] = True
    if st.records == 0:
        raise ReadError("no complete TensorBoard record (empty or not an event file)")
    if st.corrupt:
        source.warnings.append(f"{st.corrupt} record(s) did not decode and were skipped")
    if st.skipped_tags:
        shown = ", ".join(sorted(st.skipped_tags)[:5])
        source.warnings.append(f"non-scalar tags skipped: {shown}" + (" ..." if len(st.skipped_tags) > 5 else ""))
    if st.last_wall:
        run.meta["tensorboard_last_wall_time"] = max(st.last_wall, run.meta.get("tensorboard_last_wall_time", 0.0))
    keras_epoch_clock(st.cols, keras_batch_clock(path))
    moved = epoch_counted_heldout(st.cols)
    if moved is not None:
        source.warnings.append(moved)
    _restarts(st, run, path)
    source.records = st.records
    source.metrics = st.cols.flush(run, str(path))
    return source


def _restarts(st: _State, run: Run, path: Path) -> None:
    """A step that goes backwards in the busiest tag means the run was restarted or resumed into the same file
    (EventAccumulator would purge the 'orphaned' values; we keep them and say where it happened)."""
    import numpy as np

    busiest = max(st.cols.cols.values(), key=lambda c: len(c[0]), default=None)
    if busiest is None or len(busiest[0]) < 2:
        return
    steps = np.frombuffer(busiest[0], dtype=np.int64)
    back = np.flatnonzero(steps[1:] < steps[:-1])
    for i in back[:20]:
        run.events.append(LogEvent("info", f"step went back from {int(steps[i])} to {int(steps[i + 1])} in "
                                   f"'{busiest[2]}' (restart or resume)", int(steps[i + 1]), "restart", str(path)))


READERS = [Reader("tensorboard", sniff, read)]
