"""Walk a run's artifacts and hand each file to the reader that is most sure it can read it.

Formats are detected, never declared: every reader's `sniff(path, head)` scores a file (or a folder, for the folder
formats: MLflow store, W&B run) from its name and its first 64 KiB, and the highest score wins. A reader that then
fails leaves a warning on its `Source` and in `run.warnings`; it never stops the load. Unknown files are skipped
quietly, but when nothing at all could be read the files that were tried are listed in `run.meta["tried"]` and in a
warning, so the CLI can say what it looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from traindoc.ingest.model import Run, Source
from traindoc.ingest.registry import Reader, ReadError, all_readers

HEAD_BYTES = 64 * 1024
# A reader must be at least this sure; below it a file is "unknown" (e.g. a README that mentions "loss").
MIN_SCORE = 0.2

# Folders that never hold run artifacts, and are often huge.
SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints", "site-packages", ".hypothesis", ".idea",
    ".vscode", ".cache",
}
# File types that are never training artifacts we read (media, archives, compiled code, datasets). Checkpoints
# (.pt, .pth, .bin, .safetensors, .ckpt) are NOT here: the checkpoint reader wants them.
SKIP_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg", ".ico", ".mp3", ".mp4", ".wav", ".avi", ".mov",
    ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".zst", ".whl", ".so", ".dylib", ".dll", ".o", ".a",
    ".pyc", ".pyo", ".npy", ".npz", ".parquet", ".arrow", ".feather", ".h5", ".hdf5", ".pkl", ".pickle", ".onnx",
    ".lock", ".woff", ".woff2", ".ttf", ".pdf",
}
# Inside a folder that a folder reader consumed, these parts are still offered to the file readers: they are
# artifacts of their own (W&B's captured console, MLflow artifacts such as logs, configs and checkpoints).
FOLDER_PASSTHROUGH = (
    "files/output.log", "latest-run/files/output.log", "artifacts", "*/artifacts", "*/*/artifacts",
)
# Safety valve for a mistaken `traindoc diagnose /` : stop walking after this many files.
MAX_FILES = 20_000


def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError:
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


def _run_reader(reader: Reader, path: Path, run: Run) -> None:
    try:
        source = reader.read(path, run)
    except ReadError as e:
        source = Source(str(path), reader.name, warnings=[" ".join(str(e).split())[:300] or "unreadable"])
    except MemoryError:
        source = Source(str(path), reader.name, warnings=["out of memory while reading; file skipped"])
    except Exception as e:  # last line of defence: a reader bug is a warning, not a crash
        detail = " ".join(str(e).split())
        source = Source(str(path), reader.name, warnings=[f"could not be read ({type(e).__name__}: {detail})"[:300]])
    if source is None:
        source = Source(str(path), reader.name)
    run.sources.append(source)
    for w in source.warnings:
        run.warnings.append(f"{path}: {w}")


class _Walker:
    def __init__(self, run: Run, readers: list[Reader]) -> None:
        self.run = run
        self.file_readers = [r for r in readers if not r.handles_dirs]
        self.dir_readers = [r for r in readers if r.handles_dirs]
        self.seen: set[str] = set()
        self.tried: list[str] = []
        self.count = 0

    def offer_file(self, path: Path, *, as_config: bool = False) -> None:
        key = os.path.realpath(path)
        if key in self.seen:
            return
        self.seen.add(key)
        self.count += 1
        if path.suffix == ".py" and str(path) not in self.run.code_files:
            self.run.code_files.append(str(path))
        if path.suffix.lower() in SKIP_SUFFIXES and not as_config:
            return
        head = _read_head(path)
        reader, score = _best_reader(self.file_readers, path, head)
        if reader is None or score < (0.05 if as_config else MIN_SCORE):
            self.tried.append(str(path))
            return
        _run_reader(reader, path, self.run)

    def offer_dir(self, root: Path) -> None:
        """Walk `root`; a folder claimed by a folder reader is read once and only its passthrough parts descend."""
        stack = [root]
        while stack and self.count < MAX_FILES:
            d = stack.pop()
            reader, score = _best_reader(self.dir_readers, d, b"")
            if reader is not None and score >= MIN_SCORE:
                key = os.path.realpath(d)
                if key not in self.seen:
                    self.seen.add(key)
                    _run_reader(reader, d, self.run)
                for pattern in FOLDER_PASSTHROUGH:
                    for p in sorted(d.glob(pattern)):
                        if p.is_dir():
                            stack.append(p)
                        elif p.is_file():
                            self.offer_file(p)
                continue
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as e:
                self.run.warnings.append(f"{d}: cannot list folder ({e.strerror or e})")
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
                if self.count >= MAX_FILES:
                    self.run.warnings.append(f"{root}: stopped after {MAX_FILES} files; pass the run folder itself")
                    break
            stack.extend(reversed(subdirs))


def load_run(
    paths: Iterable[str | os.PathLike[str]],
    configs: Iterable[str | os.PathLike[str]] = (),
    code_dirs: Iterable[str | os.PathLike[str]] = (),
) -> Run:
    """Read every artifact under `paths` (files or folders) into one `Run`.

    `configs` are extra config files (offered to the readers even when their name says little); `code_dirs` are
    source folders whose `.py` files are collected into `run.code_files` for locating fixes.
    """
    run = Run()
    walker = _Walker(run, all_readers())
    for p in paths:
        path = Path(p)
        if path.is_dir():
            walker.offer_dir(path)
        elif path.is_file():
            walker.offer_file(path)
        else:
            run.warnings.append(f"{path}: no such file or folder")
    for p in configs:
        path = Path(p)
        if path.is_file():
            walker.offer_file(path, as_config=True)
        else:
            run.warnings.append(f"{path}: config file not found")
    for p in code_dirs:
        _collect_code(Path(p), run)
    # Several sources can report the same boundary (trainer_state.json and the console log, CSV and TensorBoard).
    run.epoch_starts = sorted(set(run.epoch_starts))
    run.stages = sorted(set(run.stages))
    if not run.sources and walker.tried:
        run.meta["tried"] = walker.tried[:50]
        shown = ", ".join(walker.tried[:5]) + (f" and {len(walker.tried) - 5} more" if len(walker.tried) > 5 else "")
        run.warnings.append(f"no file in a known format among: {shown}")
    return run.finalize()


def _collect_code(root: Path, run: Run) -> None:
    if root.is_file():
        if root.suffix == ".py" and str(root) not in run.code_files:
            run.code_files.append(str(root))
        return
    if not root.is_dir():
        run.warnings.append(f"{root}: code folder not found")
        return
    known = set(run.code_files)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                if full not in known:
                    known.add(full)
                    run.code_files.append(full)
