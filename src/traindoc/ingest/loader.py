"""Walk a run's artifacts and hand each file to the reader that is most sure it can read it.

Formats are detected, never declared: every reader's `sniff(path, head)` scores a file (or a folder, for the folder
formats: MLflow store, W&B run) from its name and its first 64 KiB, and the highest score wins. A reader that then
fails leaves a warning on its `Source` and in `run.warnings`; it never stops the load. Unknown files are skipped
quietly, but when nothing at all could be read the files that were tried are listed in `run.meta["tried"]` and in a
warning, so the CLI can say what it looked at.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.budget import RunBudget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.own_outputs import OWN_DIR, is_own_output
from traindoc.ingest.registry import Reader, ReadError, all_readers

HEAD_BYTES = 64 * 1024
# A reader must be at least this sure; below it a file is "unknown" (e.g. a README that mentions "loss").
MIN_SCORE = 0.2

# Folders that never hold run artifacts, and are often huge.
SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints", "site-packages", ".hypothesis", ".idea",
    ".vscode", ".cache", OWN_DIR,
}
# File types that are never training artifacts we read (media, archives, compiled code, datasets). Checkpoints
# (.pt, .pth, .bin, .safetensors, .ckpt) are NOT here: the checkpoint reader wants them; nor are pickles, which hold
# a pickled Keras `History.history` as often as a dataset (readers/history_dict.py claims only the former, by its
# head; the no-import unpickler reads it, capped), nor numpy's .npy/.npz, which hold saved loss curves
# (readers/numpy_arrays.py reads only 1-D numeric arrays named by a metric word, without unpickling).
SKIP_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg", ".ico", ".mp3", ".mp4", ".wav", ".avi", ".mov",
    ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".zst", ".whl", ".so", ".dylib", ".dll", ".o", ".a",
    ".pyc", ".pyo", ".parquet", ".arrow", ".feather", ".h5", ".hdf5", ".onnx",
    ".lock", ".woff", ".woff2", ".ttf", ".pdf",
}
# Inside a folder that a folder reader consumed, these parts are still offered to the file readers: they are
# artifacts of their own (W&B's captured console, MLflow artifacts such as logs, configs and checkpoints).
FOLDER_PASSTHROUGH = (
    "files/output.log", "latest-run/files/output.log", "artifacts", "*/artifacts", "*/*/artifacts",
)


def _read_head(path: Path) -> bytes:
    try:
        return budget.read_head(path, HEAD_BYTES)
    except (OSError, ReadError):
        return b""


def _best_reader(readers: list[Reader], path: Path, head: bytes) -> tuple[Reader | None, float]:
    best: Reader | None = None
    best_score = 0.0
    for reader in readers:
        try:
            score = float(reader.sniff(path, head))
        except Exception:  # a sniffer must never break the walk
            score = 0.0
        if score > best_score:
            best, best_score = reader, score
    return best, best_score


def _run_reader(reader: Reader, path: Path, run: Run, spend: RunBudget) -> None:
    """Run one reader on one file under a fresh file budget; what the budget cut becomes the source's warnings."""
    with budget.reading(spend, path) as fb:
        source = _call_reader(reader, path, run)
    source.warnings.extend(n for n in fb.notes if n not in source.warnings)
    run.sources.append(source)
    for w in source.warnings:
        run.warnings.append(f"{path}: {w}")


def _call_reader(reader: Reader, path: Path, run: Run) -> Source:
    try:
        source = reader.read(path, run)
    except ReadError as e:
        source = Source(str(path), reader.name, warnings=[" ".join(str(e).split())[:300] or "unreadable"])
    except MemoryError:
        source = Source(str(path), reader.name, warnings=["out of memory while reading; file skipped"])
    except Exception as e:  # last line of defence: a reader bug is a warning, not a crash
        detail = " ".join(str(e).split())
        source = Source(str(path), reader.name, warnings=[f"could not be read ({type(e).__name__}: {detail})"[:300]])
    return source if source is not None else Source(str(path), reader.name)


def add_code_file(run: Run, path: str, spend: RunBudget) -> None:
    """List a .py file for the fix-site search (evidence/code_sites.py parses it with `ast`), within the code
    budget: an AST costs up to ~500 bytes per byte of source, so a 20 MB file would need 10 GB."""
    if path in run.code_files:
        return
    lim = spend.limits
    try:
        size = os.stat(path).st_size
    except OSError:
        return
    if size > lim.code_file_bytes or spend.code_bytes + size > lim.code_run_bytes:
        which = f"{size / (1 << 20):.1f} MiB is over the {lim.code_file_bytes >> 20} MiB budget for a parsed file" \
            if size > lim.code_file_bytes else f"over the {lim.code_run_bytes >> 20} MiB budget of Python per run"
        run.warnings.append(f"{path}: {which}; not searched for fix sites")
        return
    spend.code_bytes += size
    run.code_files.append(path)


class _Walker:
    """Find what to read, then read it in one canonical order.

    The walk only decides which reader takes which file (sniffing heads); the reads happen afterwards, sorted by
    real path, so the `Run` is a function of the set of files and not of the order the paths were named in, nor of
    whether a folder or its files were given (issue 8: the same run scored 1.00 or 0.62 by the order of its paths).
    Everything a reader leaves first-seen or last-wins (series merged from two files, config values, meta) then
    comes out the same every time.
    """

    def __init__(self, run: Run, readers: list[Reader], spend: RunBudget) -> None:
        self.run = run
        self.spend = spend
        self.file_readers = [r for r in readers if not r.handles_dirs]
        self.dir_readers = [r for r in readers if r.handles_dirs]
        self.tried: list[str] = []
        self.count = 0
        self.jobs: list[tuple[str, Path, Reader]] = []  # (real path, path as named, reader)
        self.code: list[str] = []  # .py files met, admitted under the code budget in sorted order at the end
        self.notes: list[str] = []  # what the walk itself has to say (sorted at the end)

    def _admit(self, path: Path) -> bool:
        """A path is read once (by its real path: symlink loops and aliases end here) and only inside the roots."""
        if not self.spend.inside(path):
            self.notes.append(f"{path}: links outside the folders being read; not followed")
            return False
        return self.spend.first_visit(path)

    def offer_file(self, path: Path, *, as_config: bool = False, named: bool = False) -> None:
        """Sniff one file and queue it for its reader. `named`: the user gave this file itself (not met in a walk)."""
        if not self._admit(path):
            return
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return  # a FIFO or device would block or never end
        except OSError:
            return
        self.count += 1
        if path.suffix == ".py":
            self.code.append(str(path))
        if path.suffix.lower() in SKIP_SUFFIXES and not as_config:
            return
        with budget.reading(self.spend, path):
            head = _read_head(path)
            if is_own_output(head):  # our own diagnosis/plan/report: never evidence about the run
                if named:
                    self.notes.append(f"{path}: a traindoc output (diagnosis, plan or report), not a run artifact; "
                                      "not read")
                return
            reader, score = _best_reader(self.file_readers, path, head)
        if reader is None or score < (0.05 if as_config else MIN_SCORE):
            self.tried.append(str(path))
            return
        self.jobs.append((os.path.realpath(path), path, reader))

    def offer_dir(self, root: Path) -> None:
        """Walk `root`; a folder claimed by a folder reader is read once and only its passthrough parts descend.
        Every folder is entered once by its real path, so a symlink loop (`artifacts -> .`) ends at once."""
        stack = [root]
        limit = self.spend.limits.files
        while stack and self.count < limit:
            d = stack.pop()
            if not self._admit(d):
                continue
            with budget.reading(self.spend, d):
                reader, score = _best_reader(self.dir_readers, d, b"")
            if reader is not None and score >= MIN_SCORE:
                self.jobs.append((os.path.realpath(d), d, reader))
                for pattern in FOLDER_PASSTHROUGH:
                    for p in sorted(d.glob(pattern))[:limit]:
                        if p.is_dir():
                            stack.append(p)
                        elif p.is_file():
                            self.offer_file(p)
                for p in reader.passthrough(d) if reader.passthrough is not None else []:
                    if p.is_file():
                        self.offer_file(p)  # a path met above already is not read twice (_admit)
                continue
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as e:
                self.notes.append(f"{d}: cannot list folder ({e.strerror or e})")
                continue
            subdirs = []
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIP_DIRS:
                            subdirs.append(Path(entry.path))
                    elif entry.is_file():
                        self.offer_file(Path(entry.path))
                except OSError:
                    continue
                if self.count >= limit:
                    self.notes.append(f"{root}: stopped after {limit} files; pass the run folder itself")
                    break
            stack.extend(reversed(subdirs))

    def read_all(self) -> None:
        """Run the queued readers in real-path order, then admit the code files in the same order."""
        for _, path, reader in sorted(self.jobs, key=lambda j: (j[0], str(j[1]), j[2].name)):
            _run_reader(reader, path, self.run, self.spend)
        for path in sorted(set(self.code), key=lambda p: (os.path.realpath(p), p)):
            add_code_file(self.run, path, self.spend)
        # The walk's own notes first, sorted and once each; then each file's warnings in reading order.
        self.run.warnings[:0] = sorted(set(self.notes))


def _canonical(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """The paths as given, once each, in real-path order (the order they were named in must not matter)."""
    seen: dict[str, Path] = {}
    for p in paths:
        seen.setdefault(os.path.realpath(p), Path(p))
    return [seen[k] for k in sorted(seen)]


def _as_list(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[str | os.PathLike[str]]:
    """`paths` as a list; a single path (a string or a path object) is a list of one."""
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def load_run(
    paths: Iterable[str | os.PathLike[str]],
    configs: Iterable[str | os.PathLike[str]] = (),
    code_dirs: Iterable[str | os.PathLike[str]] = (),
    budget: RunBudget | None = None,
) -> Run:
    """Read every artifact under `paths` (files or folders) into one `Run`.

    `configs` are extra config files (offered to the readers even when their name says little); `code_dirs` are
    source folders whose `.py` files are collected into `run.code_files` for locating fixes. Reading stays inside
    the folders given (a given file's folder counts) and within `budget` (ingest/budget.py; default limits).
    The result does not depend on the order of the paths (see `_Walker`); traindoc's own outputs (the `.traindoc/`
    folder, and a diagnosis, plan or report wherever it was written: ingest/own_outputs.py) are never read.
    """
    # one path given bare, not in a list: listed, a string is its characters, and "/" the whole file system
    paths, configs, code_dirs = (_canonical(_as_list(x)) for x in (paths, configs, code_dirs))
    spend = budget or RunBudget()
    for p in [*paths, *configs, *code_dirs]:
        spend.add_root(p if p.is_dir() else p.parent)
    run = Run()
    walker = _Walker(run, all_readers(), spend)
    for path in paths:
        if path.is_dir():
            walker.offer_dir(path)
        elif path.is_file():
            walker.offer_file(path, named=True)
        else:
            walker.notes.append(f"{path}: no such file or folder")
    for path in configs:
        if path.is_file():
            walker.offer_file(path, as_config=True, named=True)
        else:
            walker.notes.append(f"{path}: config file not found")
    for path in code_dirs:
        _collect_code(path, walker)
    walker.read_all()
    # Several sources can report the same boundary (trainer_state.json and the console log, CSV and TensorBoard).
    run.epoch_starts = sorted(set(run.epoch_starts))
    run.stages = sorted(set(run.stages))
    if not run.sources and walker.tried:
        tried = sorted(walker.tried)
        run.meta["tried"] = tried[:50]
        shown = ", ".join(tried[:5]) + (f" and {len(tried) - 5} more" if len(tried) > 5 else "")
        run.warnings.append(f"no file in a known format among: {shown}")
    return run.finalize()


def _collect_code(root: Path, walker: _Walker) -> None:
    if root.is_file():
        if root.suffix == ".py":
            walker.code.append(str(root))
        return
    if not root.is_dir():
        walker.notes.append(f"{root}: code folder not found")
        return
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow symlinked folders
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name.endswith(".py") and walker.spend.inside(full) and os.path.isfile(full):
                walker.code.append(full)
