"""MLflow tracking data: the file store (`mlruns/<exp>/<run>/{meta.yaml,metrics,params,tags}`) and the SQLite
store (`mlflow.db`, the default since MLflow 3.7), both read without mlflow.

File store metric files hold one `<timestamp ms> <value> <step>` line per logged value (2 fields in very old files,
step 0); keys containing `/` are nested folders (`metrics/train/loss`); NaN/Inf are written `nan`/`inf`. Params are
one file each holding the raw value. `status: 1` (RUNNING) with no `end_time` in a run that is not live means it
crashed or was killed without `end_run`.

SQLite stores NaN as `value 0, is_nan 1` and +/-Inf as +/-1.7976931348623157e308 (sqlalchemy_store
`_get_metric_value_details`); both are mapped back. The database is opened read-only and immutable, so reading can
never write a journal next to (or lock) the user's file.

A store can hold many runs; one `Run` is one training run, so the most recently started active run is read and a
warning names the others (pass that run's folder to choose another).
"""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers._structured import (
    Columns,
    LineStats,
    add_config,
    coerce_yaml_scalar,
    line_blocks,
    to_float,
)
from traindoc.ingest.registry import Reader, ReadError

_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_DBL_MAX = 1.7976931348623157e308
# A damaged database can fail in sqlite itself, or while Python decodes its text (schema, messages, values).
_DB_ERRORS = (sqlite3.Error, UnicodeDecodeError, ValueError, OverflowError)
MAX_METRIC_LINE = 512


def _meta(path: Path) -> dict:
    import yaml

    from traindoc.ingest.readers._structured import bounded_loader

    try:
        loader = bounded_loader(yaml.SafeLoader)(budget.read_head(path, 1 << 20).decode("utf-8", "replace"))
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except (OSError, ReadError, yaml.YAMLError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_run_dir(d: Path) -> bool:
    return (d / "meta.yaml").is_file() and ((d / "metrics").is_dir() or (d / "params").is_dir())


def _run_dirs(root: Path) -> list[Path]:
    """Run folders at `root`, one level down (experiment) or two (store root). Skips .trash and deleted runs."""
    if _is_run_dir(root):
        return [root]
    found: list[Path] = []
    try:
        level1 = [p for p in root.iterdir() if p.is_dir() and p.name != ".trash"]
    except OSError:
        return []
    for d1 in level1:
        if _is_run_dir(d1):
            found.append(d1)
            continue
        if not (d1 / "meta.yaml").is_file():
            continue
        try:
            found.extend(d2 for d2 in d1.iterdir() if d2.is_dir() and _is_run_dir(d2))
        except OSError:
            continue
    return found


def sniff_store(path: Path, head: bytes) -> float:
    if not path.is_dir():
        return 0.0
    if _is_run_dir(path):
        return 0.95
    if path.name == "mlruns" or (path / "meta.yaml").is_file():
        return 0.9 if _run_dirs(path) else 0.0
    # a store root without the usual name: experiment folders with meta.yaml holding run folders
    try:
        for d1 in path.iterdir():
            if d1.is_dir() and (d1 / "meta.yaml").is_file() and b"artifact_location" in budget.read_head(
                d1 / "meta.yaml", 4096
            ):
                return 0.85 if _run_dirs(path) else 0.0
    except (OSError, ReadError):
        return 0.0
    return 0.0


def _choose(candidates: list[tuple[object, str]], source: Source, what: str) -> None:
    if len(candidates) > 1:
        others = ", ".join(str(c[1]) for c in candidates[1:4])
        source.warnings.append(f"{len(candidates)} {what} found; read the latest started (others: {others} ...)")


def read_store(path: Path, run: Run) -> Source:
    source = Source(str(path), "mlflow_store")
    dirs = _run_dirs(path)
    if not dirs:
        raise ReadError("no MLflow run folder (meta.yaml + metrics/) found")
    metas = []
    for d in dirs:
        m = _meta(d / "meta.yaml")
        if m.get("lifecycle_stage") == "deleted":
            continue
        start = m.get("start_time") if isinstance(m.get("start_time"), (int, float)) else 0
        metas.append((start, d.name, d, m))
    if not metas:
        raise ReadError("every MLflow run here is deleted")
    metas.sort(key=lambda t: (t[0], t[1]), reverse=True)
    _choose([(m[0], m[1]) for m in metas], source, "MLflow runs")
    _, _, run_dir, meta = metas[0]
    source.path = str(run_dir)
    _store_meta(run, meta, source)
    cols = Columns()
    metrics_dir = run_dir / "metrics"
    bad = 0
    if metrics_dir.is_dir():
        for dirpath, _, filenames in os.walk(metrics_dir):
            for name in sorted(filenames):
                file = Path(dirpath) / name
                key = file.relative_to(metrics_dir).as_posix()
                canon = canonical_metric(key)
                stats = LineStats()
                try:
                    with budget.open_input(file) as f:
                        for raw in (line for block in line_blocks(f, stats) for line in block):
                            if len(raw) > MAX_METRIC_LINE:
                                bad += 1
                                continue
                            parts = raw.split()
                            if len(parts) not in (2, 3):
                                if parts:
                                    bad += 1
                                continue
                            try:
                                value = float(parts[1])
                                step = int(parts[2]) if len(parts) == 3 else 0
                            except ValueError:
                                bad += 1
                                continue
                            cols.add(canon, step, value, key)
                            source.records += 1
                except OSError as e:
                    source.warnings.append(f"metric {key}: cannot read ({e.strerror})")
                except ReadError as e:
                    source.warnings.append(f"metric {key}: {e}")
                bad += stats.overlong
    if bad:
        source.warnings.append(f"{bad} malformed metric line(s) skipped (expected '<timestamp> <value> <step>')")
    params_dir = run_dir / "params"
    if params_dir.is_dir():
        for dirpath, _, filenames in os.walk(params_dir):
            for name in sorted(filenames):
                file = Path(dirpath) / name
                try:
                    text = budget.read_head(file, 4096).decode("utf-8", errors="replace")
                except (OSError, ReadError):
                    continue
                key = file.relative_to(params_dir).as_posix()
                add_config(run, key, coerce_yaml_scalar(text.strip()), file, 1, "mlflow_param", text.strip())
    tags_dir = run_dir / "tags"
    if (tags_dir / "mlflow.runName").is_file():
        try:
            run.meta["mlflow_run_name"] = budget.read_head(tags_dir / "mlflow.runName", 200).decode("utf-8", "replace")
        except (OSError, ReadError):
            pass
    source.metrics = cols.flush(run, str(run_dir))
    return source


def _store_meta(run: Run, meta: dict, source: Source) -> None:
    status = meta.get("status")
    status_name = _STATUS.get(status, str(status)) if not isinstance(status, str) else status
    run.meta["mlflow_run_id"] = meta.get("run_id") or meta.get("run_uuid")
    run.meta["mlflow_status"] = status_name
    if meta.get("run_name"):
        run.meta["mlflow_run_name"] = meta.get("run_name")
    if status_name == "RUNNING" and not meta.get("end_time"):
        run.meta["end_status"] = "unfinished"
        source.warnings.append("run status RUNNING with no end_time: it crashed or was killed (or is still live)")
    elif status_name in ("FAILED", "KILLED"):
        run.meta["end_status"] = "error"
    elif status_name == "FINISHED":
        run.meta["end_status"] = "completed"


# ---------------------------------------------------------------------------------------------------------------
# SQLite store


def _connect(path: Path) -> sqlite3.Connection:
    # immutable=1: no locks, no journal, no WAL files created next to the user's database.
    quoted = Path(os.path.abspath(path)).as_posix().replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    uri = f"file:{quoted}?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True)
    con.text_factory = lambda b: b.decode("utf-8", "replace")  # a damaged row must not raise UnicodeDecodeError
    return con


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())[:200]


def sniff_db(path: Path, head: bytes) -> float:
    if not head.startswith(b"SQLite format 3\x00"):
        return 0.0
    try:
        con = _connect(path)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except _DB_ERRORS:
        return 0.3 if "mlflow" in path.name else 0.0  # let the reader report the broken database
    return 0.97 if {"metrics", "runs", "params"} <= tables else 0.0


def read_db(path: Path, run: Run) -> Source:
    source = Source(str(path), "mlflow_db")
    try:
        con = _connect(path)
    except _DB_ERRORS as e:
        raise ReadError(f"cannot open the SQLite database ({_one_line(e)})") from None
    try:
        try:
            runs = con.execute(
                "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage FROM runs "
                "ORDER BY start_time DESC"
            ).fetchall()
        except _DB_ERRORS as e:
            raise ReadError(f"not a readable MLflow database ({_one_line(e)})") from None
        runs = [r for r in runs if r[5] != "deleted"] or runs
        if not runs:
            raise ReadError("the MLflow database holds no run")
        _choose([(r[3], r[1] or r[0]) for r in runs], source, "MLflow runs")
        run_uuid, name, status, _start, end_time, _ = runs[0]
        meta = {"run_id": run_uuid, "run_name": name, "status": status, "end_time": end_time}
        _store_meta(run, meta, source)
        cols = Columns()
        try:
            cursor = con.execute(
                "SELECT key, value, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY key, step, timestamp",
                (run_uuid,),
            )
            canon: dict[str, str] = {}
            for key, value, step, is_nan in cursor:
                if is_nan:
                    value = math.nan
                else:
                    value = to_float(value)
                    if value is None:
                        continue
                    if value >= _DBL_MAX:
                        value = math.inf
                    elif value <= -_DBL_MAX:
                        value = -math.inf
                c = canon.get(key)
                if c is None:
                    c = canon[key] = canonical_metric(str(key))
                cols.add(c, int(step or 0), value, str(key))
                source.records += 1
            for key, value in con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_uuid,)):
                add_config(run, str(key), coerce_yaml_scalar(str(value)), path, None, "mlflow_param", str(value))
        except _DB_ERRORS as e:
            source.warnings.append(f"database read stopped early ({_one_line(e)}); values before it were kept")
        source.metrics = cols.flush(run, str(path))
    finally:
        con.close()
    return source


READERS = [
    Reader("mlflow_store", sniff_store, read_store, handles_dirs=True),
    Reader("mlflow_db", sniff_db, read_db),
]
