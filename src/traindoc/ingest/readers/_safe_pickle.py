"""A pickle loader that never imports a module and never calls anything from the file.

Checkpoints (`torch.save`) and `training_args.bin` are pickles; `pickle.load` on a user's file can run arbitrary
code, and `torch.load(weights_only=True)` refuses most of them (custom config classes, TrainingArguments). What we
need from them is structure: names, shapes and plain values. So every global the pickle names becomes a `Stub`
class that records its constructor arguments and state, and tensor storages (torch's persistent ids) become
`StorageRef`s that say which storage and how many elements, without reading any tensor data. The result can be
walked like plain data (see `tensors_in`).
"""

from __future__ import annotations

import io
import pickle
import pickletools
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from traindoc.ingest import budget

MAX_PICKLE_BYTES = 256 << 20  # data.pkl of a huge model is still a few MB; refuse anything absurd


class Stub:
    """Stands in for any class or function named in the pickle."""

    stub_module = ""
    stub_name = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> Stub:  # NEWOBJ calls only __new__; REDUCE calls both
        obj = object.__new__(cls)
        obj.args = args
        obj.state = None
        obj.items = {}
        obj.list = []
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:  # OrderedDict and dict subclasses fill via SETITEMS
        self.items[key] = value

    def append(self, value: Any) -> None:
        self.list.append(value)

    def extend(self, values: Any) -> None:
        self.list.extend(values)

    def __call__(self, *args: Any, **kwargs: Any) -> Stub:
        return type(self)(*args)

    @property
    def qualname(self) -> str:
        return f"{self.stub_module}.{self.stub_name}"


@dataclass(frozen=True)
class StorageRef:
    key: str  # storage id inside the archive: tensors sharing it share memory (tied weights)
    numel: int | None


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return type(name, (Stub,), {"stub_module": module, "stub_name": name})

    def persistent_load(self, pid: Any) -> Any:
        # torch zip format: ('storage', storage_type, key, location, numel); legacy: (..., key, location, size, view)
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage":
            numel = pid[4] if len(pid) > 4 and isinstance(pid[4], int) else None
            return StorageRef(str(pid[2]), numel)
        return None


_MEMO_OPS = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}


def check_budget(data: bytes) -> None:
    """Refuse a pickle with more opcodes or memo entries than the file's budget allows (ingest/budget.py), before
    anything is built: every opcode makes at most one object, so this bounds what unpickling can allocate. A
    30 KB deflated archive can hold a 30 MB pickle of 30M empty lists (~2 GB once built)."""
    fb = budget.current()
    lim = fb.limits
    ops = memo = 0
    try:
        for op, _arg, _pos in pickletools.genops(data):
            ops += 1
            if op.name in _MEMO_OPS:
                memo += 1
            if ops > lim.pickle_ops or memo > lim.pickle_memo:
                raise budget.BudgetExceeded(f"pickle has over {lim.pickle_ops:,} opcodes or {lim.pickle_memo:,} "
                                            "memo entries (over the budget); not unpickled")
    except budget.BudgetExceeded:
        raise
    except Exception as exc:  # noqa: BLE001 - genops raises ValueError & co on garbage: the load says it better
        raise ValueError(f"not a readable pickle ({type(exc).__name__})") from None


def load_bytes(data: bytes) -> Any:
    check_budget(data)
    return _Unpickler(io.BytesIO(data)).load()


def load_file(path: Any) -> Any:
    """Unpickle a torch archive's data.pkl (or a bare pickle) safely. Raises ValueError with one line, or
    budget.BudgetExceeded (a ReadError) when the pickle is over the file's budget."""
    cap = min(MAX_PICKLE_BYTES, budget.current().limits.pickle_bytes)
    try:
        with budget.open_input(path) as raw, zipfile.ZipFile(raw) as zf:
            names = [n for n in zf.namelist() if n.endswith("data.pkl")]
            if not names:
                raise ValueError("torch archive without data.pkl")
            info = zf.getinfo(names[0])
            if info.file_size > cap:
                raise budget.BudgetExceeded(f"pickle inside the archive is {info.file_size:,} bytes, over the "
                                            f"{cap:,}-byte budget; not read")
            with zf.open(info) as member:
                data = member.read(cap + 1)  # the size in the directory may lie: never inflate past the cap
            if len(data) > cap:
                raise budget.BudgetExceeded(f"pickle inside the archive is over the {cap:,}-byte budget; not read")
    except zipfile.BadZipFile:
        with budget.open_input(path) as f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise budget.BudgetExceeded(f"bare pickle over the {cap:,}-byte budget; not read") from None
    except (RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:  # encrypted, unknown compression
        raise ValueError(f"unreadable archive ({type(exc).__name__})") from None
    try:
        return load_bytes(data)
    except budget.BudgetExceeded:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed pickle is one line for the user
        raise ValueError(f"not a readable pickle ({type(exc).__name__})") from None


@dataclass
class TensorInfo:
    shape: tuple[int, ...]
    storage: str | None
    offset: int
    requires_grad: bool | None = None

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= int(d)
        return n


def as_tensor(obj: Any) -> TensorInfo | None:
    """TensorInfo for a rebuilt-tensor stub (`torch._utils._rebuild_tensor_v2` & co), else None."""
    if not isinstance(obj, Stub):
        return None
    name = obj.stub_name
    args = obj.args
    if name == "_rebuild_parameter" or name == "_rebuild_parameter_with_state":
        inner = as_tensor(args[0]) if args else None
        if inner is not None and len(args) > 1 and isinstance(args[1], bool):
            inner.requires_grad = args[1]
        return inner
    if name in ("_rebuild_tensor_v2", "_rebuild_tensor", "_rebuild_tensor_v3") and len(args) >= 3:
        storage, offset, size = args[0], args[1], args[2]
        if isinstance(size, (tuple, list)) and all(isinstance(d, int) and d >= 0 for d in size):
            return TensorInfo(tuple(size), storage.key if isinstance(storage, StorageRef) else None,
                              offset if isinstance(offset, int) else 0)
    if name == "_rebuild_from_type_v2" and len(args) >= 3 and isinstance(args[2], tuple) and args[2]:
        return as_tensor(args[2][0])  # tensor subclasses (Parameter subclasses, DTensor-free wrappers)
    return None


def children(obj: Any) -> list[tuple[str, Any]]:
    """(name, child) pairs of a container: dicts, stub-dicts (OrderedDict), lists, stub state dicts."""
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj)]
    if isinstance(obj, Stub):
        out = [(str(k), v) for k, v in obj.items.items()]
        if isinstance(obj.state, dict):
            out.extend((str(k), v) for k, v in obj.state.items())
        out.extend((str(i), v) for i, v in enumerate(obj.list))
        return out
    return []


def _width(value: Any) -> int:
    if isinstance(value, (list, tuple, dict)):
        return min(len(value), 500)
    if isinstance(value, Stub):
        return min(len(value.items) + len(value.list) + (len(value.state) if isinstance(value.state, dict) else 0)
                   + len(value.args), 500)
    return 0


def plain(value: Any, depth: int = 0, fb: budget.FileBudget | None = None, path: frozenset[int] = frozenset()
          ) -> Any:
    """Plain Python data (for config values) from an unpickled tree; stubs become their args/state or None.

    A pickle can share one object many times or contain itself: a container already on the way down reads as None
    (a cycle), and every node is charged to the file's node budget (shared references expand)."""
    if depth > 6:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    fb = fb or budget.current()
    # Each child visited is charged, so the work stays within the budget however wide the shared lists are.
    if id(value) in path or not fb.spend(1 + _width(value)):
        return None
    path = path | {id(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1, fb, path) for v in value[:200]]
    if isinstance(value, dict):
        return {str(k)[:200]: plain(v, depth + 1, fb, path) for k, v in list(value.items())[:500]}
    if isinstance(value, Stub):
        if value.items:
            return {str(k)[:200]: plain(v, depth + 1, fb, path) for k, v in list(value.items.items())[:500]}
        if isinstance(value.state, dict):
            return {str(k)[:200]: plain(v, depth + 1, fb, path) for k, v in list(value.state.items())[:500]}
        if len(value.args) == 1:  # enums pickle as Class(value): keep the value ("linear", "steps")
            return plain(value.args[0], depth + 1, fb, path)
    return None
