"""An MLflow run's launch command, recovered from its records in the file store, never by running anything.

MLflow's file store keeps one folder per run, `mlruns/<experiment id>/<run id>/`, holding `meta.yaml` and one
file per param (`params/<name>`) and per tag (`tags/<name>`), each holding the raw value. Two tags say how the
run was launched:
- `mlflow.project.entryPoint`: the run was started by `mlflow run` as an MLflow Project. `mlflow.source.name` is
  then the project's URI (a local project's absolute path). The project's `MLproject` file declares the entry
  point's `parameters` and a `command:` template whose `{name}` placeholders MLflow filled with the run's params
  (shell-quoted), which it also logged as the run's params. Filling the template again gives the command.
- only `mlflow.source.name`: a script that called `mlflow.start_run()` itself; MLflow records its path
  (`sys.argv[0]`) but not its arguments. `python <script>` is offered only when the script's own options say how
  to name the output folder (as launch.from_code); otherwise the plan asks for `--retrain-cmd`.
Params the script logged itself are not part of the command: only the template's placeholders are filled.
MLflow's SQLite store (`mlflow.db`, the default since MLflow 3.7) holds the same params and tags in its `params` and
`tags` tables; its most recently started run that is not deleted is read, opened read-only and immutable (nothing
is written next to the user's database).
"""

from __future__ import annotations

import re
import shlex
import sqlite3
import string
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from traindoc.plan.launch import MAX_SCRIPT_BYTES, Launch, derivable, read_small, script_index

TAG_SOURCE = "mlflow.source.name"
TAG_ENTRY = "mlflow.project.entryPoint"
MAX_VALUE = 64_000  # a param or tag file larger than this is not read
MAX_RUN_FOLDERS = 200  # run folders looked at below one diagnosed folder (mlruns/ or an experiment)
_NAME = re.compile(r"[A-Za-z0-9_.\-]+")  # a param MLflow can log as a file name of params/ (no folder part)


def _is_run(d: Path) -> bool:
    return (d / "meta.yaml").is_file() and (d / "tags").is_dir() and not d.is_symlink()


def _start_time(d: Path) -> int:
    m = re.search(r"^start_time:\s*(\d+)", read_small(d / "meta.yaml", MAX_VALUE) or "", re.M)
    return int(m.group(1)) if m else 0


def run_folder(run_dirs: list[Path]) -> Path | None:
    """The diagnosed MLflow run's folder: a diagnosed folder that is one, else the most recently started run below
    it (the diagnosis may name `mlruns/` or an experiment's folder)."""
    for d in run_dirs:
        for r in (d, d.parent):  # the run, or a folder of it the diagnosis read (metrics/)
            if _is_run(r):
                return r
        below = [r for pat in ("*", "*/*") for r in sorted(islice(d.glob(pat), MAX_RUN_FOLDERS))
                 if r.is_dir() and _is_run(r)]
        if below:
            return max(below, key=_start_time)
    return None


def _value(folder: Path, name: str) -> str | None:
    """A param or tag as MLflow wrote it (the file's whole text, no trailing newline added)."""
    if not _NAME.fullmatch(name) or name in (".", ".."):
        return None
    return read_small(folder / name, MAX_VALUE)


@dataclass
class RunRecord:
    """What MLflow recorded about one run: its id and its tags and params by name."""

    name: str
    tag: Callable[[str], str | None]
    param: Callable[[str], str | None]


def _folder_record(run: Path) -> RunRecord:
    return RunRecord(run.name, lambda n: _value(run / "tags", n), lambda n: _value(run / "params", n))


def _db_record(db: Path) -> RunRecord | None:
    """The newest run of an MLflow SQLite store (None when the file is not one)."""
    if db.suffix != ".db" or not db.is_file() or db.is_symlink():
        return None
    # mode=ro and immutable=1: no lock, journal or WAL file is created beside the user's database
    uri = "file:" + str(db.resolve()).replace("%", "%25").replace("?", "%3f").replace("#", "%23") + \
        "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            con.text_factory = lambda b: b.decode("utf-8", "replace")
            row = con.execute("SELECT run_uuid FROM runs WHERE lifecycle_stage IS NOT 'deleted' "
                              "ORDER BY start_time DESC LIMIT 1").fetchone()
            if row is None:
                return None
            tags = dict(con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", row).fetchmany(1000))
            params = dict(con.execute("SELECT key, value FROM params WHERE run_uuid = ?", row).fetchmany(1000))
        finally:
            con.close()
    except (sqlite3.Error, ValueError):
        return None
    return RunRecord(str(row[0]), tags.get, params.get)


def _mlproject(folder: Path) -> Path | None:
    """MLflow finds the project file by name, in any case (`MLproject`)."""
    try:
        return next((f for f in sorted(folder.iterdir()) if f.name.lower() == "mlproject" and f.is_file()), None)
    except OSError:
        return None


def _entry_command(mlproject: Path, entry: str, param: Callable[[str], str | None]) -> tuple[str | None, str]:
    """(the entry point's command with its placeholders filled, why not when None)."""
    import yaml

    try:
        data = yaml.safe_load(read_small(mlproject, MAX_SCRIPT_BYTES) or "")
    except yaml.YAMLError as e:
        return None, f"{mlproject.name} is not valid YAML ({str(e).splitlines()[0]})"
    points = data.get("entry_points") if isinstance(data, dict) else None
    point = points.get(entry) if isinstance(points, dict) else None
    if not isinstance(point, dict) or not isinstance(point.get("command"), str):
        return None, f"{mlproject.name} declares no command for the entry point {entry!r}"
    declared = point.get("parameters") if isinstance(point.get("parameters"), dict) else {}
    template = point["command"]
    values: dict[str, str] = {}
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        return None, f"the entry point {entry!r} command is not a template MLflow can fill ({e})"
    for name in names:
        value = param(name) if _NAME.fullmatch(name) else None
        if value is None:  # not logged: the declared default was used
            spec = declared.get(name)
            value = spec.get("default") if isinstance(spec, dict) else None
            value = None if value is None else str(value)
        if value is None:
            return None, f"the run records no value for the parameter {name!r} of the entry point {entry!r}"
        values[name] = shlex.quote(value)  # as MLflow quotes a parameter before filling the command
    try:
        return template.format(**values), ""
    except (KeyError, IndexError, ValueError) as e:
        return None, f"the entry point {entry!r} command is not a template MLflow can fill ({e})"


def _project(run: RunRecord, source: str | None, entry: str, root: Path) -> tuple[Launch | None, list[str]]:
    """The command of an MLflow Project run: its MLproject entry point filled with the run's params."""
    src = Path(source) if source and not re.match(r"^[a-z][a-z0-9+.\-]*://", source) else None
    folder = src if src is not None and src.is_absolute() and src.is_dir() and src.resolve().is_relative_to(root) \
        else root
    notes = []
    if folder == root and source and (src is None or src.resolve() != root):
        notes.append(f"MLflow recorded the project as {source}; using the MLproject of the project at {root}")
    mlproject = _mlproject(folder)
    ask = "pass --retrain-cmd 'THE COMMAND YOU TRAIN WITH'"
    if mlproject is None:
        return None, notes + [f"MLflow run {run.name} was launched as an MLflow Project (entry point {entry!r}) but "
                              f"no MLproject file is in {folder}: {ask}"]
    command, why = _entry_command(mlproject, entry, run.param)
    if command is None:
        return None, notes + [f"MLflow run {run.name}: {why}: {ask}"]
    try:
        argv = shlex.split(command)
    except ValueError as e:
        return None, notes + [f"MLflow run {run.name}: the filled command is not a command line ({e}): {ask}"]
    idx = script_index(argv, folder, root)
    if idx is None:
        return None, notes + [f"MLflow run {run.name}: the entry point {entry!r} does not run a Python script of "
                              f"the project ({command}): {ask}"]
    where = mlproject.relative_to(root)
    return Launch(argv, idx, folder, f"MLflow run {run.name}: entry point {entry!r} of {where} with the run's "
                                     "params"), notes


def _source_script(run: RunRecord, source: str, root: Path) -> tuple[Launch | None, list[str]]:
    """The entry script MLflow recorded, when its own options name the output folder (MLflow keeps no argv)."""
    path = Path(source) if Path(source).is_absolute() else root / source
    ok = path.suffix == ".py" and path.is_file() and path.resolve().is_relative_to(root)
    if ok and derivable(path):
        name = str(path.resolve().relative_to(root))
        return Launch(["python", name], 1, root, f"derived from {name}'s own options, the entry script MLflow run "
                                                 f"{run.name} recorded (MLflow keeps no command-line arguments)"), []
    what = "its own options do not name an output folder" if ok else "it is not a Python script of the project"
    return None, [f"MLflow run {run.name} recorded the entry script {source} but not its arguments, and {what}: "
                  "pass --retrain-cmd 'THE COMMAND YOU TRAIN WITH'"]


def from_mlflow(run_dirs: list[Path], sources: list[Path], root: Path) -> tuple[Launch | None, list[str], bool]:
    """(command, notes, whether an MLflow run said how it was launched: then no other guess replaces it)."""
    folder = run_folder(run_dirs)
    run = _folder_record(folder) if folder is not None else next(
        (r for r in map(_db_record, sources[:20]) if r is not None), None)
    if run is None:
        return None, [], False
    source, entry = run.tag(TAG_SOURCE), run.tag(TAG_ENTRY)
    if entry:
        return (*_project(run, source, entry, root), True)
    if source:
        return (*_source_script(run, source, root), True)
    return None, [], False
