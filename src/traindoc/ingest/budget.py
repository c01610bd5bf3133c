"""Reading budgets: how much of an untrusted run folder any reader may read, keep, expand or walk.

The threat model (docs/architecture.md) is a run folder someone else prepared. A few hundred bytes can still ask for
unbounded work: a pickle whose objects refer to themselves, a YAML "billion laughs" of aliases, an MLflow
`artifacts -> .` symlink loop, a 20 MB Python file handed to `ast.parse`. So the loader gives every run a
`RunBudget` and every file it hands to a reader a `FileBudget`; readers reach theirs with `current()` (a fresh
default one when a reader is called on its own) and spend it through a few shared doors:

- `open_input(path)`: a file opened for streaming. It refuses paths outside the run's roots (after resolving
  symlinks) and anything but a regular file (a FIFO would block forever), and meters every byte: past the per-file
  or per-run allowance it reads as end of file, so a streaming reader simply stops with what it has.
- `read_whole(path)`: a file parsed in one piece (configs, headers), refused past `whole_file_bytes`.
- `FileBudget.spend(n)`: one unit per node when a reader walks a parsed tree (YAML after alias expansion, an
  unpickled object graph); False once the per-file node allowance is gone, so walkers stop and keep what they have.
- `FileBudget.keep(nbytes)`: bytes of numbers a reader holds (its value columns); False past the run's allowance.

Whatever was cut is recorded in `FileBudget.notes`; the loader turns each into a warning on the file's `Source`, so
an over-budget file always gives a partial result plus one clear line, never a hang or a traceback.

The limits are chosen so that one input costs at most about a minute and 1.5 GB of memory on a 2-core machine while
real artifacts never reach them: a 1 GB text log (several million steps) streams whole; configs are kilobytes;
a checkpoint's data.pkl is kilobytes to a few MB (tensor data lives in separate archive members).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from traindoc.ingest import text_encoding
from traindoc.ingest.registry import ReadError

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    # Bytes streamed from one file and from all files of a run. A 1 GB log must stream whole (bench_ingest.py).
    file_bytes: int = 4 * GiB
    run_bytes: int = 16 * GiB
    # Bytes of a file parsed in one piece (configs, trainer_state.json, W&B summary). Parsed JSON costs up to ~30
    # bytes of objects per byte of text, so 32 MiB stays under 1 GB; real configs are kilobytes and a
    # trainer_state.json of a 1M-step run logged every 10 steps is ~15 MB.
    whole_file_bytes: int = 32 * MiB
    # Bytes of numbers kept per run (value columns: 8-16 bytes per logged value). The 1 GB bench log keeps ~390 MB.
    kept_bytes: int = 1 * GiB
    # Nodes (and children visited) walked in one file's parsed tree, shared references expanded (YAML, pickles).
    # Real configs have a few thousand; a checkpoint's state dict a few thousand tensors, an optimizer state ~10x.
    nodes: int = 250_000
    # Nesting depth of a JSON record or YAML document that is still read (deeper parts are cut).
    depth: int = 64
    # YAML aliases per file (real configs use a handful of `<<: *defaults`), and the nodes they may add once
    # expanded (a real config has a few thousand nodes in all).
    yaml_aliases: int = 10_000
    yaml_nodes: int = 100_000
    # A pickle (bare, or data.pkl inside a torch archive): its size and how many opcodes / memo entries it may
    # have. ~1.3 us per opcode to check, ~100 bytes of objects each at most: 2M opcodes is ~3 s and ~200 MB.
    pickle_bytes: int = 16 * MiB
    pickle_ops: int = 2_000_000
    pickle_memo: int = 1_000_000
    # Python files parsed with `ast` (for config values and fix sites): an AST costs up to ~500 bytes per byte of
    # source, so one file stays under 1 MiB; training scripts are tens of KB.
    code_file_bytes: int = 1 * MiB
    code_run_bytes: int = 2 * MiB
    # Files offered to readers in one run (a mistaken `traindoc diagnose /`).
    files: int = 20_000


DEFAULT_LIMITS = Limits()


class BudgetExceeded(ReadError):
    """A file wanted more than its budget and nothing of it could be kept; one line for the user."""


def _size(n: int) -> str:
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / MiB:g} MiB" if n >= MiB else f"{n} bytes"


@dataclass
class RunBudget:
    """What one `load_run` may spend in all, and where it may read. `roots` None: no confinement (a reader called
    directly by a caller that chose the file itself)."""

    limits: Limits = DEFAULT_LIMITS
    roots: list[str] | None = None
    bytes_read: int = 0
    kept: int = 0
    code_bytes: int = 0
    visited: set[str] = field(default_factory=set)  # real paths of the files and folders already walked

    def add_root(self, path: str | os.PathLike[str]) -> None:
        if self.roots is None:
            self.roots = []
        real = os.path.realpath(path)
        if real not in self.roots:
            self.roots.append(real)

    def inside(self, path: str | os.PathLike[str]) -> bool:
        """True when `path`, with every symlink resolved, lies in one of the roots."""
        if self.roots is None:
            return True
        real = os.path.realpath(path)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def first_visit(self, path: str | os.PathLike[str]) -> bool:
        """True the first time this real path is seen in the run (a symlink loop, or two names for one file)."""
        real = os.path.realpath(path)
        if real in self.visited:
            return False
        self.visited.add(real)
        return True


@dataclass
class FileBudget:
    """The allowance of one reader call on one file (or folder), and the notes of what it cut."""

    run: RunBudget
    path: str = ""
    bytes_read: int = 0
    nodes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def limits(self) -> Limits:
        return self.run.limits

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def allowance(self) -> int:
        return max(0, min(self.limits.file_bytes - self.bytes_read, self.limits.run_bytes - self.run.bytes_read))

    def charge_bytes(self, n: int) -> None:
        self.bytes_read += n
        self.run.bytes_read += n

    def spend(self, n: int = 1) -> bool:
        """Spend `n` tree nodes; False (and a note) once the file's node allowance is gone."""
        self.nodes += n
        if self.nodes <= self.limits.nodes:
            return True
        self.note(f"structure larger than {self.limits.nodes:,} nodes (aliases or shared references expanded): "
                  "read in part")
        return False

    def keep(self, nbytes: int) -> bool:
        """Account for `nbytes` more bytes of kept numbers; False (and a note) past the run's allowance."""
        self.run.kept += nbytes
        if self.run.kept <= self.limits.kept_bytes:
            return True
        self.note(f"values beyond {_size(self.limits.kept_bytes)} of numbers for the whole run not kept: read in part")
        return False

    def admit(self, path: str | os.PathLike[str]) -> os.stat_result:
        """Check that `path` may be read: inside the run's roots and a regular file. Raises ReadError."""
        if not self.run.inside(path):
            raise ReadError(f"{Path(path).name}: links outside the folders being read; not followed")
        try:
            st = os.stat(path)
        except OSError as exc:
            raise ReadError(f"{Path(path).name}: cannot read ({exc.strerror or exc})") from None
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(f"{Path(path).name}: not a regular file")
        return st


_CURRENT: ContextVar[FileBudget | None] = ContextVar("traindoc_file_budget", default=None)


def current() -> FileBudget:
    """The budget of the file being read; a fresh default one outside `load_run` (a reader called on its own)."""
    fb = _CURRENT.get()
    return fb if fb is not None else FileBudget(RunBudget())


@contextmanager
def reading(run: RunBudget, path: str | os.PathLike[str]) -> Iterator[FileBudget]:
    """Make a fresh `FileBudget` for `path` the current one while a reader runs."""
    fb = FileBudget(run, str(path))
    token = _CURRENT.set(fb)
    try:
        yield fb
    finally:
        _CURRENT.reset(token)


class _Metered(io.RawIOBase):
    """A raw file that charges every byte read to a FileBudget and reads as end of file once it is spent."""

    def __init__(self, raw: io.FileIO, fb: FileBudget) -> None:
        super().__init__()
        self._raw = raw
        self._fb = fb

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._raw.seek(pos, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        room = self._fb.allowance()
        if room <= 0:
            if self._raw.read(1):  # only a cut when something was left to read
                lim = self._fb.limits
                which = "per-file" if self._fb.bytes_read >= lim.file_bytes else "per-run"
                self._fb.note(f"stopped after {_size(self._fb.bytes_read)} ({which} read budget): read in part")
            return 0
        view = memoryview(b)[:room]
        n = self._raw.readinto(view)
        if n:
            self._fb.charge_bytes(n)
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_input(path: str | os.PathLike[str]) -> io.BufferedReader:
    """Open a file of the run for streaming, confined and metered (see the module docstring); a UTF-16 or
    BOM-marked text file comes out as UTF-8 (ingest/text_encoding.py). Raises ReadError."""
    fb = current()
    fb.admit(path)
    try:
        raw = io.FileIO(os.fspath(path), "rb")
        head = raw.read(text_encoding.SNIFF_BYTES)  # not charged: a peek to name the encoding, read again below
        raw.seek(0)
    except OSError as exc:
        raise ReadError(f"{Path(path).name}: cannot open ({exc.strerror or exc})") from None
    metered: io.RawIOBase = _Metered(raw, fb)
    codec = text_encoding.detect(head)
    if codec is not None:  # a UTF-16 or BOM-marked log: every reader gets UTF-8 (ingest/text_encoding.py)
        metered = text_encoding.Transcoded(metered, codec)
    return io.BufferedReader(metered, 1 << 16)


def read_whole(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of a file parsed in one piece, refused (BudgetExceeded) when larger than `limit` (default
    `whole_file_bytes`). Raises ReadError."""
    fb = current()
    st = fb.admit(path)
    cap = min(limit or fb.limits.whole_file_bytes, fb.limits.whole_file_bytes)
    if st.st_size > cap:
        raise BudgetExceeded(f"{Path(path).name}: {_size(st.st_size)} is over the {_size(cap)} budget for a file "
                             "parsed whole; not read")
    with open_input(path) as f:
        data = f.read(cap + 1)
    if len(data) > cap:  # it grew while we looked
        raise BudgetExceeded(f"{Path(path).name}: over the {_size(cap)} budget for a file parsed whole; not read")
    return data


def read_head(path: str | os.PathLike[str], n: int) -> bytes:
    """The first `n` bytes of a small side file (an MLflow param, a tag), confined like `open_input`."""
    with open_input(path) as f:
        return f.read(n)


def kept_meter(measure: Callable[[], int]) -> Callable[[], bool]:
    """A `keep_going` for readers.line_blocks: charges the growth of `measure()` (bytes of numbers a reader holds)
    to the current file's budget since the last call; False once the run's allowance is spent."""
    fb = current()
    last = 0

    def keep_going() -> bool:
        nonlocal last
        now = measure()
        ok = fb.keep(now - last)
        last = now
        return ok

    return keep_going
