"""CSV metric logs: Lightning CSVLogger `metrics.csv` (+ its `hparams.yaml`), W&B UI exports, and generic CSV
dumps (Keras CSVLogger, YOLO results.csv, timm summary.csv, pandas `to_csv` of a metrics frame).

Lightning's file is sparse: each `log_metrics` call is a row with the keys it logged and empty cells elsewhere,
validation metrics sit on their own rows, and `<name>_step` / `<name>_epoch` columns appear for metrics logged both
ways. Empty cells are simply "no value at this step". The file is flushed every 100 logging calls, so a crashed run
loses its tail: the last complete row is the last evidence.

W&B exports name columns `"<run> - <key>"`, plus `__MIN` / `__MAX` band columns; the export is DOWNSAMPLED by the UI
(wandb/wandb#5349), which the source's warning says, so a detector knows a spike may be missing.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.names import ID_KEYS, STEP_KEYS, canonical_metric
from traindoc.ingest.readers._structured import (
    Columns,
    LineStats,
    add_config,
    coerce_yaml_scalar,
    head_lines,
    is_text,
    line_blocks,
    to_float,
    to_step,
    yaml_with_lines,
)
from traindoc.ingest.registry import Reader, ReadError

_STEP_COLUMNS = {k.lower() for k in STEP_KEYS} | {"global step", "iterations", "batch", "update", "updates"}
# Clock columns: their series would "climb" with the wall time (NequIP's metrics_epoch.csv `wall`: seconds since start)
_SKIP_COLUMNS = {"time", "timestamp", "wall time", "wall_time", "relative time (process)", "relative time (wall)",
                 "created", "created_at", "_timestamp", "_runtime", "date", "datetime", "epoch_time", "wall",
                 "wallclock", "wall_clock", "elapsed", "elapsed_time", "time_elapsed", "duration"}
# Counters of the examples trained on so far: OpenAI's `logger` (improved-diffusion, guided-diffusion, consistency
# models) writes `samples`, (step + 1) * global batch, beside `step` in its progress.csv; Megatron-style loops count
# `consumed_samples`. A second clock, no measurement: read as a metric it is a series that rises with the step
# (tests/corpus/realworld/g15s35-improved-diffusion-kernel-prior-progress-csv-10k-steps read it so blind).
_COUNTER_COLUMNS = {"samples", "consumed_samples", "samples_seen", "total_samples"}
_NOT_METRIC_COLUMNS = _SKIP_COLUMNS | _COUNTER_COLUMNS
# Identifier columns (names.ID_KEYS, which the text-log reader drops too) are skipped: a pandas table of a pathology
# sweep (`pathology,seed,epoch,train_loss,...`) otherwise gets a constant "seed" metric beside its losses.


def _delimiter(path: Path) -> str:
    """Tab for `.tsv` (DVCLive's plots/metrics files, pandas `to_csv(sep="\\t")`), else the comma."""
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _header(head: bytes, delimiter: str = ",") -> list[str]:
    lines = head_lines(head, 3)
    if not lines:
        return []
    try:
        return [c.strip() for c in next(csv.reader([lines[0]], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def _numeric_rows(head: bytes, delimiter: str = ",") -> int:
    n = 0
    for line in head_lines(head, 12)[1:]:
        try:
            cells = next(csv.reader([line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        if any(to_float(c) is not None for c in cells):
            n += 1
    return n


class _Rows:
    """Stream parsed CSV rows (lists of cells), one line at a time so that a malformed line costs only itself;
    lines capped at 1 MiB, undecodable bytes replaced. `lineno` is the 1-based line of the row last yielded;
    `keep_going` (set by the reader once it holds its columns) stops the stream at the run's budget."""

    def __init__(self, path: Path, source: Source) -> None:
        self.path, self.source = path, source
        self.delimiter = _delimiter(path)
        self.lineno = 0
        self.keep_going: Callable[[], bool] | None = None
        self._it = self._iter()

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> list[str]:
        return next(self._it)

    def _iter(self):  # type: ignore[no-untyped-def]
        stats = LineStats()
        try:
            f = budget.open_input(self.path)  # confined and metered: ends early when the read budget is spent
        except OSError as e:
            raise ReadError(f"cannot open ({e.strerror})") from None
        bad = first_bad = 0
        with f:
            for block in line_blocks(f, stats, keep_going=lambda: self.keep_going is None or self.keep_going()):
                for raw in block:
                    self.lineno += 1
                    try:
                        row = next(csv.reader([raw.decode("utf-8", errors="replace").rstrip("\r")],
                                              delimiter=self.delimiter), None)
                    except csv.Error:
                        bad += 1
                        first_bad = first_bad or self.lineno
                        continue
                    if row is not None:
                        yield row
        if stats.overlong:
            self.source.warnings.append(f"{stats.overlong} line(s) longer than 1 MiB skipped")
        if bad:
            self.source.warnings.append(f"{bad} malformed CSV line(s) skipped (first at line {first_bad})")
        if stats.unterminated_tail:
            self.source.warnings.append("the last line has no newline: the file may be cut off")


def _read_table(path: Path, run: Run, source: Source, *, step_col: str | None, split_of=None,
                rename: dict[str, str] | None = None) -> list[str]:
    """Read a wide CSV (one column per metric; `rename` gives a column the metric name it stands for). Returns the
    header."""
    rows = _Rows(path, source)
    header = None
    for row in rows:
        if any(c.strip() for c in row):
            header = [c.strip() for c in row]
            break
    if header is None:
        raise ReadError("empty CSV")
    lower = [h.lower() for h in header]
    if step_col is None:
        for cand in STEP_KEYS:
            if cand.lower() in lower:
                step_col = header[lower.index(cand.lower())]
                break
    step_i = header.index(step_col) if step_col in header else None
    epoch_i = lower.index("epoch") if "epoch" in lower else None
    epoch_clock = step_i is None and epoch_i is not None
    if epoch_clock:
        step_i = epoch_i  # per-epoch logs (Keras CSVLogger, YOLO): the epoch is the clock
    # A per-epoch table whose epoch column counts from 0 (Keras's CSVLogger, fastai, timm) is read as epochs
    # completed, 1..n, the clock of the same run's console (`Epoch 1/N`) and of a saved history's list positions
    # (readers/history_dict.py): one run seen through its CSV and its console is then one series, not two series
    # one epoch apart. A table that already counts from 1 (Ultralytics' results.csv) is left as it is.
    offset: int | None = None if epoch_clock else 0
    cols = Columns()
    rows.keep_going = budget.kept_meter(cols.nbytes)
    targets: list[tuple[int, str, str]] = []  # (column index, canonical name, raw name)
    for i, h in enumerate(header):
        if i == step_i or not h or h.lower() in _NOT_METRIC_COLUMNS or h.lower() in ID_KEYS:
            continue
        split = split_of(h) if split_of else None
        raw = rename.get(h, h) if rename else h
        targets.append((i, canonical_metric(raw, split), raw))
    row_no = 0
    last_epoch: int | None = None
    bad = first_bad = 0
    for row in rows:
        if not row:
            continue
        row_no += 1
        if step_i is None:
            step = row_no - 1
        else:
            step = to_step(row[step_i]) if step_i < len(row) else None
            if step is None:
                bad += 1
                first_bad = first_bad or rows.lineno
                continue
            if offset is None:
                offset = 1 if step == 0 else 0
            step += offset
        n = len(row)
        for i, name, raw in targets:
            if i < n:
                cell = row[i]
                if cell:
                    v = to_float(cell)
                    if v is not None:
                        cols.add(name, step, v, raw)
        if epoch_i is not None and epoch_i < n:
            e = to_float(row[epoch_i])
            if e is not None and math.isfinite(e) and int(e) != last_epoch:
                run.epoch_starts.append((step, int(e) + (offset or 0)))
                last_epoch = int(e)
        source.records += 1
    if bad:
        source.warnings.append(f"{bad} row(s) without a valid {step_col or 'step'} value skipped "
                               f"(first at line {first_bad})")
    source.metrics = cols.flush(run, str(path))
    if not source.records:
        raise ReadError("CSV has a header but no data rows")
    return header


# ---------------------------------------------------------------------------------------------------------------
# Lightning CSVLogger


def sniff_lightning(path: Path, head: bytes) -> float:
    if not is_text(head):
        return 0.0
    cols = {c.lower() for c in _header(head)}
    if "step" not in cols or len(cols) < 2:
        return 0.0
    score = 0.6
    if path.name == "metrics.csv":
        score += 0.2
    if "epoch" in cols:
        score += 0.1
    if (path.parent / "hparams.yaml").exists() or path.parent.name.startswith("version_"):
        score += 0.1
    return min(score, 0.95)


def read_lightning(path: Path, run: Run) -> Source:
    source = Source(str(path), "lightning_csv")
    _read_table(path, run, source, step_col="step")
    return source


def sniff_hparams(path: Path, head: bytes) -> float:
    if path.name != "hparams.yaml" or not is_text(head):
        return 0.0
    sib = path.parent
    if (sib / "metrics.csv").exists() or any(sib.glob("events.out.tfevents.*")) or sib.name.startswith("version_"):
        return 0.95  # Lightning's logger folder
    return 0.5


def read_hparams(path: Path, run: Run) -> Source:
    source = Source(str(path), "lightning_hparams")
    try:
        # PyYAML parses ~1 MB/s; real hparams files are a few KB
        text = budget.read_whole(path, 1 << 20).decode("utf-8", errors="replace")
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    try:
        items = yaml_with_lines(text)
    except ValueError as e:
        raise ReadError(str(e)) from None
    for key, value, line, src in items:
        add_config(run, key, coerce_yaml_scalar(value), path, line, "hparams", src)
        source.records += 1
    return source


# ---------------------------------------------------------------------------------------------------------------
# W&B UI export

_WB_BAND = re.compile(r"__(MIN|MAX)$")


def _wandb_columns(header: list[str]) -> bool:
    return sum(1 for h in header if " - " in h) >= 1 and any(h.lower() in _STEP_COLUMNS for h in header[:1])


def sniff_wandb_csv(path: Path, head: bytes) -> float:
    if not is_text(head):
        return 0.0
    header = _header(head)
    if path.name.startswith("wandb_export_") and header:
        return 0.95
    return 0.9 if _wandb_columns(header) else 0.0


def read_wandb_csv(path: Path, run: Run) -> Source:
    source = Source(str(path), "wandb_csv")
    rows = _Rows(path, source)
    header = next((r for r in rows if any(c.strip() for c in r)), None)
    if header is None:
        raise ReadError("empty CSV")
    header = [h.strip() for h in header]
    step_i = 0
    runs: dict[str, list[tuple[int, str]]] = {}
    bands = 0
    for i, h in enumerate(header):
        if i == step_i:
            continue
        if _WB_BAND.search(h):
            bands += 1
            continue
        run_name, _, key = h.rpartition(" - ")
        if not key:
            run_name, key = "", h
        runs.setdefault(run_name, []).append((i, key))
    if not runs:
        raise ReadError("W&B export without metric columns")
    chosen = next(iter(runs))
    if len(runs) > 1:
        others = ", ".join(list(runs)[1:4])
        source.warnings.append(f"export holds {len(runs)} runs; read '{chosen}' (others: {others})")
    run.meta["wandb_run_name"] = chosen
    cols = Columns()
    rows.keep_going = budget.kept_meter(cols.nbytes)
    targets = [(i, canonical_metric(k), k) for i, k in runs[chosen]]
    for row in rows:
        if not row or step_i >= len(row):
            continue
        step = to_step(row[step_i])
        if step is None:
            continue
        n = len(row)
        for i, name, raw in targets:
            if i < n and row[i]:
                v = to_float(row[i])
                if v is not None:
                    cols.add(name, step, v, raw)
        source.records += 1
    source.metrics = cols.flush(run, str(path))
    source.warnings.append(
        "W&B UI exports are downsampled: short spikes may be missing"
        + (" (the __MIN/__MAX band columns were ignored)" if bands else "")
    )
    run.meta["downsampled"] = True
    return source


# ---------------------------------------------------------------------------------------------------------------
# TensorBoard's "download CSV": one tag per file, `Wall time,Step,Value`, the tag only in the file name the dashboard
# gives it (`run-<run>-tag-<tag>.csv`, a `/` in the tag written as `_`), which people often keep or rename to the tag.

_TB_HEADER = ["wall time", "step", "value"]
_TB_NAME = re.compile(r"-tag-(.+)$")


def sniff_tensorboard_csv(path: Path, head: bytes) -> float:
    if not is_text(head) or path.suffix.lower() != ".csv":
        return 0.0
    return 0.95 if [h.lower() for h in _header(head)] == _TB_HEADER else 0.0


def read_tensorboard_csv(path: Path, run: Run) -> Source:
    m = _TB_NAME.search(path.stem)
    tag = m.group(1) if m else path.stem
    source = Source(str(path), "tensorboard_csv")
    header = _read_table(path, run, source, step_col=None, rename={"Value": tag, "value": tag})
    if [h.lower() for h in header] != _TB_HEADER:
        raise ReadError(f"{path.name}: not a TensorBoard CSV export (header {header[:3]})")
    if not m:
        source.warnings.append(f"the metric's name is taken from the file name ({tag!r}): TensorBoard's export keeps "
                               "the tag only there")
    return source


# ---------------------------------------------------------------------------------------------------------------
# Generic CSV


# Keras's CSVLogger writes CSV under whatever name it is given, and its own docstring's example is `training.log`:
# a `.log` file is a table only when it is one beyond doubt (identifier-like header cells with an epoch/step
# column, every early row numeric and as wide as the header); it then outranks the text-log reader (0.8).
_IDENT = re.compile(r"[A-Za-z_][\w./-]*")


def _strict_table(head: bytes) -> bool:
    lines = head_lines(head, 8)
    try:
        rows = list(csv.reader(lines))
    except csv.Error:
        return False
    if len(rows) < 3 or len(rows[0]) < 2 or not all(_IDENT.fullmatch(c.strip()) for c in rows[0]):
        return False
    if not any(c.strip().lower() in _STEP_COLUMNS or c.strip().lower() == "epoch" for c in rows[0]):
        return False
    return all(len(r) == len(rows[0]) and all(to_float(c) is not None for c in r) for r in rows[1:] if r)


def sniff_csv(path: Path, head: bytes) -> float:
    if is_text(head) and path.suffix.lower() == ".log" and _strict_table(head):
        return 0.85
    if not is_text(head) or path.suffix.lower() not in (".csv", ".tsv", ".txt", ""):
        return 0.0
    header = _header(head, _delimiter(path))
    if len(header) < 2 or any(to_float(h) is not None for h in header):
        return 0.0  # no header row
    if _numeric_rows(head, _delimiter(path)) == 0:
        return 0.0
    names = {canonical_metric(h) for h in header}
    metricish = bool(names & {"loss", "eval_loss", "lr", "grad_norm", "accuracy", "eval_accuracy"})
    clock = any(h.lower() in _STEP_COLUMNS or h.lower() == "epoch" for h in header)
    return 0.35 + (0.25 if metricish else 0) + (0.1 if clock else 0) + (0.05 if path.suffix == ".csv" else 0)


# A table inside a folder named for a held-out split holds that split's metrics under bare names (DVCLive writes
# `plots/metrics/eval/loss.tsv` with a `loss` column beside `plots/metrics/train/loss.tsv`).
_SPLIT_DIRS = {"eval", "val", "valid", "validation", "test", "evaluation"}


def _fastai_split(header: list[str]):  # type: ignore[no-untyped-def]
    """fastai's CSVLogger (`history.csv`: "epoch,train_loss,valid_loss,<metrics>,time") logs its metrics on the
    validation set only (Learner.validate), as its printed table does (readers/textlog_formats.py parse_table): those
    columns are held-out metrics under bare names."""
    low = [h.strip().lower() for h in header]
    if len(low) < 4 or low[0] != "epoch" or low[-1] != "time" or not {"train_loss", "valid_loss"} <= set(low):
        return None
    return lambda h: None if "loss" in h.lower() else "eval"


def read_csv(path: Path, run: Run) -> Source:
    source = Source(str(path), "csv_metrics")
    held_out = path.parent.name.lower() in _SPLIT_DIRS
    split_of = (lambda _h: "eval") if held_out else _fastai_split(_header(budget.read_head(path, 4096)))
    _read_table(path, run, source, step_col=None, split_of=split_of)
    return source


READERS = [
    Reader("lightning_csv", sniff_lightning, read_lightning),
    Reader("lightning_hparams", sniff_hparams, read_hparams),
    Reader("wandb_csv", sniff_wandb_csv, read_wandb_csv),
    Reader("tensorboard_csv", sniff_tensorboard_csv, read_tensorboard_csv),
    Reader("csv_metrics", sniff_csv, read_csv),
]
