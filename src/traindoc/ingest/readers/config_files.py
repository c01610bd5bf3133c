"""Config readers that keep WHERE every value is written: YAML, JSON, Python (module assignments, dataclass field
defaults, argparse defaults) and Hugging Face `training_args.{json,bin}`.

A diagnosis that says "muon_lr=1e-2 is 2x the recommended 5e-3" must also say "config.yaml:14", and the fix must
replace exactly the characters `1e-2`. So each value becomes a `ConfigValue` with its file, 1-based line and the
exact source text of the value (`text`, quotes included when the file quotes it), taken from the parser's own
position marks: PyYAML's node marks, a small position-keeping JSON scanner, Python's `ast` offsets.

Nothing here imports torch at module level; `training_args.bin` is a pickle inside a torch zip archive, read with a
restricted unpickler that never imports or calls anything (readers/_safe_pickle.py).
"""

from __future__ import annotations

import ast
import json
import re
from bisect import bisect_right
from pathlib import Path
from typing import Any

import yaml

from traindoc.ingest import budget
from traindoc.ingest.model import ConfigValue, Run, Source
from traindoc.ingest.readers import _safe_pickle
from traindoc.ingest.readers._safe_pickle import plain
from traindoc.ingest.readers._structured import bounded_loader
from traindoc.ingest.registry import Reader, ReadError

MAX_CONFIG_BYTES = 8 << 20  # a config bigger than this is not a config (a dataset, a dump): refuse, don't load
MAX_YAML_BYTES = 2 << 20  # PyYAML composes ~1 MB/s and ~400 bytes of nodes per node: real YAML configs are KBs
MAX_DEPTH = 12
MAX_VALUES = 20000


def _read_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    data = budget.read_whole(path, limit)  # confined to the run's folders, refused past `limit`
    if b"\x00" in data[:8192]:
        raise ReadError(f"{path.name}: binary data, not a text config")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old configs in Windows code pages: positions stay 1:1 with bytes


class _Lines:
    """Offset -> 1-based line number."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def line(self, offset: int) -> int:
        return bisect_right(self.starts, offset)


def _add(run: Run, src: Source, key: str, value: Any, file: str, line: int | None, kind: str, text: str) -> None:
    if len(run.config) >= MAX_VALUES and key not in run.config:
        return
    run.put_config(ConfigValue(key=key, value=value, file=file, line=line, kind=kind, text=text))
    src.records += 1


_NUMERIC = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _coerce_number(value: Any) -> Any:
    """YAML 1.1 reads `5e-05` or `1e3` as strings (no dot): give them back as numbers."""
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        s = value.strip()
        try:
            return int(s) if re.fullmatch(r"[-+]?\d+", s) else float(s)
        except ValueError:
            return value
    return value


# ------------------------------------------------------------------------------------------------------------ YAML

_NOT_CONFIG_YAML = {"environment.yml", "environment.yaml", "docker-compose.yml", "docker-compose.yaml",
                    ".pre-commit-config.yaml", "mkdocs.yml", "mkdocs.yaml", "codecov.yml", ".readthedocs.yaml",
                    "pubspec.yaml", "action.yml", "action.yaml",
                    "hydra.yaml", "overrides.yaml"}  # Hydra's own settings; .hydra/config.yaml is the run's config


def sniff_yaml(path: Path, head: bytes) -> float:
    if path.is_dir() or path.suffix.lower() not in (".yaml", ".yml"):
        return 0.0
    if path.name in _NOT_CONFIG_YAML or ".github" in path.parts or b"\x00" in head:
        return 0.05
    return 0.6


_SAFE_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _yaml_scalar(node: yaml.ScalarNode) -> Any:
    """Python value of a scalar node as SafeLoader builds it; never fails, never builds a tagged Python object."""
    if node.style in ("'", '"'):
        return node.value
    try:
        value = _SAFE_CONSTRUCTOR.construct_object(node, deep=True)
    except Exception:  # noqa: BLE001 - unknown tags (!!python/...), odd ints: keep the text
        value = node.value
    finally:
        _SAFE_CONSTRUCTOR.constructed_objects.clear()
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        value = node.value  # timestamps, binary: the text is what a config means
    return _coerce_number(value)


def _yaml_plain(node: yaml.Node, fb: budget.FileBudget, depth: int = 0) -> Any:
    """A node as plain Python data (lists/dicts of scalars), never constructing Python objects."""
    if depth > MAX_DEPTH or not fb.spend():
        return None
    if isinstance(node, yaml.ScalarNode):
        return _yaml_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_plain(n, fb, depth + 1) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        return {str(getattr(k, "value", k)): _yaml_plain(v, fb, depth + 1) for k, v in node.value}
    return None


def read_yaml(path: Path, run: Run) -> Source:
    text = _read_text(path, MAX_YAML_BYTES)
    src = Source(str(path), "yaml_config")
    fb = budget.current()
    try:
        # compose() builds nodes with positions and never constructs tagged objects, so `!!python/object` tags
        # (Lightning hparams.yaml) are harmless here; the bounded loader charges every alias its expanded size.
        loader = bounded_loader(yaml.SafeLoader)(text)
        try:
            nodes = []
            while loader.check_node():
                nodes.append(loader.get_node())
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "parse error"
        raise ReadError(f"{path.name}: not valid YAML{where} ({problem})") from None
    except RecursionError:
        raise ReadError(f"{path.name}: YAML nested too deeply") from None
    lines = _Lines(text)
    prefix = "training_args" if path.stem == "training_args" else ""
    for node in nodes:
        if node is not None:
            _walk_yaml(node, prefix, text, lines, run, src, str(path), 0, fb)
    return src


def _walk_yaml(node: yaml.Node, key: str, text: str, lines: _Lines, run: Run, src: Source, file: str,
               depth: int, fb: budget.FileBudget) -> None:
    if not fb.spend():
        return
    if depth > MAX_DEPTH:
        src.warnings.append(f"nesting deeper than {MAX_DEPTH} at {key}: not read further")
        return
    if isinstance(node, yaml.MappingNode):
        items = node.value
        # W&B config.yaml wraps each value as `key: {value: ..., desc: ...}`: unwrap to `key`.
        subkeys = {str(getattr(k, "value", "")) for k, _ in items}
        if key and "value" in subkeys and subkeys <= {"value", "desc"}:
            for k, v in items:
                if getattr(k, "value", None) == "value":
                    _walk_yaml(v, key, text, lines, run, src, file, depth + 1, fb)
            return
        for k, v in items:
            name = str(getattr(k, "value", k)) if isinstance(k, yaml.ScalarNode) else "?"
            if name == "<<":  # merge key (`<<: *defaults`): the merged values belong to this mapping
                merged = v.value if isinstance(v, yaml.SequenceNode) else [v]
                for m in merged:
                    _walk_yaml(m, key, text, lines, run, src, file, depth + 1, fb)
                continue
            _walk_yaml(v, f"{key}.{name}" if key else name, text, lines, run, src, file, depth + 1, fb)
        return
    if not key:
        return
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end].rstrip() if 0 <= start <= end <= len(text) else ""
    if isinstance(node, yaml.SequenceNode) and any(isinstance(n, yaml.MappingNode) for n in node.value):
        for i, item in enumerate(node.value):
            _walk_yaml(item, f"{key}.{i}", text, lines, run, src, file, depth + 1, fb)
        return
    value = _yaml_plain(node, fb)
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        raw = ""  # block scalars span lines; a byte-exact replacement is not offered for them
    _add(run, src, key, value, file, lines.line(start), "yaml", raw)


# ------------------------------------------------------------------------------------------------------------ JSON

# opt.json / opts.json / options.json: the options dump of scripts that keep them in one dict (Snell et al.'s
# protonets writes `opt.json` beside its trace.txt, {"data.way": 60, "train.learning_rate": 0.001, ...}); read as
# metrics, each option was a one-point series
_JSON_NAMES = ("training_args.json", "config.json", "args.json", "hparams.json", "params.json", "hyperparameters.json",
               "generation_config.json", "adapter_config.json", "ds_config.json", "deepspeed_config.json", "opt.json",
               "opts.json", "options.json")
# JSON files that are metric logs or results (the structured readers' business), not configs.
_JSON_NOT_CONFIG = re.compile(r"trainer_state|results|wandb-summary|metrics|\.log\.json$|tokenizer|vocab|"
                              r"index\.json$|special_tokens_map")


def sniff_json(path: Path, head: bytes) -> float:
    if path.is_dir() or path.suffix.lower() != ".json":
        return 0.0
    name = path.name.lower()
    if not head.lstrip().startswith(b"{"):
        return 0.0
    if name in _JSON_NAMES or name.endswith(("_config.json", "_args.json", "-config.json")):
        return 0.65
    if _JSON_NOT_CONFIG.search(name) or b'"log_history"' in head:
        return 0.0
    return 0.25


class _JsonSpans:
    """A JSON scanner that records the character span of every value. Accepts NaN/Infinity like Python's json."""

    _WS = re.compile(r"[ \t\n\r]*")
    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|NaN|-?Infinity")
    _STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.S)

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[tuple[str, Any, int, int]] = []  # (dotted key, value, start, end)

    def fail(self, pos: int, what: str) -> ReadError:
        return ReadError(f"not valid JSON near character {pos} ({what})")

    def ws(self, pos: int) -> int:
        return self._WS.match(self.text, pos).end()

    def value(self, pos: int, key: str, depth: int) -> tuple[Any, int]:
        if depth > 64:
            raise self.fail(pos, "nested too deeply")
        pos = self.ws(pos)
        if pos >= len(self.text):
            raise self.fail(pos, "unexpected end, file truncated?")
        c = self.text[pos]
        if c == "{":
            obj: dict[str, Any] = {}
            pos = self.ws(pos + 1)
            if self.text.startswith("}", pos):
                self._leaf(key, obj, pos - 1, pos + 1)
                return obj, pos + 1
            while True:
                pos = self.ws(pos)
                m = self._STRING.match(self.text, pos)
                if not m:
                    raise self.fail(pos, "expected a key")
                name = json.loads(m.group())
                pos = self.ws(m.end())
                if not self.text.startswith(":", pos):
                    raise self.fail(pos, "expected ':'")
                obj[name], pos = self.value(pos + 1, f"{key}.{name}" if key else name, depth + 1)
                pos = self.ws(pos)
                if self.text.startswith(",", pos):
                    pos += 1
                    continue
                if self.text.startswith("}", pos):
                    return obj, pos + 1
                raise self.fail(pos, "expected ',' or '}'")
        start = pos
        if c == "[":
            arr: list[Any] = []
            pos = self.ws(pos + 1)
            if not self.text.startswith("]", pos):
                while True:
                    item, pos = self.value(pos, "", depth + 1)  # list items are kept whole, not as keys
                    arr.append(item)
                    pos = self.ws(pos)
                    if self.text.startswith(",", pos):
                        pos += 1
                        continue
                    if self.text.startswith("]", pos):
                        break
                    raise self.fail(pos, "expected ',' or ']'")
            self._leaf(key, arr, start, pos + 1)
            return arr, pos + 1
        if c == '"':
            m = self._STRING.match(self.text, pos)
            if not m:
                raise self.fail(pos, "unterminated string")
            v: Any = json.loads(m.group())
            end = m.end()
        else:
            for word, lit in (("true", True), ("false", False), ("null", None)):
                if self.text.startswith(word, pos):
                    self._leaf(key, lit, pos, pos + len(word))
                    return lit, pos + len(word)
            m = self._NUMBER.match(self.text, pos)
            if not m:
                raise self.fail(pos, "unexpected character")
            tok = m.group()
            v = float(tok) if any(ch in tok for ch in ".eEIN") else int(tok)
            end = m.end()
        self._leaf(key, v, start, end)
        return v, end

    def _leaf(self, key: str, value: Any, start: int, end: int) -> None:
        if key and len(self.out) < MAX_VALUES:
            self.out.append((key, value, start, end))


def read_json(path: Path, run: Run) -> Source:
    text = _read_text(path)
    src = Source(str(path), "json_config")
    scanner = _JsonSpans(text)
    try:
        top, end = scanner.value(0, "", 0)
    except ReadError as exc:
        raise ReadError(f"{path.name}: {exc}") from None
    if not isinstance(top, dict):
        raise ReadError(f"{path.name}: a JSON config must be an object, found {type(top).__name__}")
    if text[scanner.ws(end):].strip():
        src.warnings.append("text after the JSON object ignored")
    prefix = "training_args." if path.stem == "training_args" else ""
    lines = _Lines(text)
    for key, value, start, stop in scanner.out:
        _add(run, src, prefix + key, value, str(path), lines.line(start), "json", text[start:stop])
    return src


# ---------------------------------------------------------------------------------------------------------- Python

_PY_CONFIG_HINT = re.compile(rb"add_argument\(|DEFINE_\w+\(|click\.option\(|@(?:dataclasses\.)?dataclass"
                             rb"|^[A-Za-z_]\w*\s*(?::\s*[\w\[\]., ]+)?="
                             rb"\s*(?:[-+]?[\d.]|True|False|None|['\"])", re.M)


def sniff_python(path: Path, head: bytes) -> float:
    if path.is_dir() or path.suffix != ".py" or b"\x00" in head:
        return 0.0
    hits = len(_PY_CONFIG_HINT.findall(head))
    in_config_dir = any(p.lower() in ("config", "configs", "conf") for p in path.parts[:-1])
    if in_config_dir or "config" in path.stem.lower():
        return 0.55 if hits else 0.2
    return 0.35 if hits >= 3 else 0.0


_SAFE_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b}
_NO_VALUE = object()


def _literal(node: ast.AST, depth: int = 0) -> Any:
    """Value of a literal or of simple constant arithmetic (`6e-4`, `-1`, `2**10`, `1024*4`), else _NO_VALUE."""
    if depth > 20:
        return _NO_VALUE
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.BinOp):
        a, b = _literal(node.left, depth + 1), _literal(node.right, depth + 1)
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
            return _NO_VALUE
        if isinstance(node.op, ast.Pow):
            if abs(b) > 64 or abs(a) > 1e6:  # no 10**10**10 bombs
                return _NO_VALUE
            return a**b
        op = _SAFE_BINOPS.get(type(node.op))
        try:
            return op(a, b) if op else _NO_VALUE
        except (ZeroDivisionError, OverflowError):
            return _NO_VALUE
    return _NO_VALUE


def _segment(lines: list[str], node: ast.AST) -> str:
    """Exact source text of `node` (single-line nodes only; multi-line values get "")."""
    if getattr(node, "end_lineno", None) != node.lineno:
        return ""
    line = lines[node.lineno - 1]
    # ast offsets are UTF-8 byte offsets: slice the encoded line.
    b = line.encode("utf-8")
    return b[node.col_offset:node.end_col_offset].decode("utf-8", errors="replace")


def _is_dataclass_decorator(d: ast.AST) -> bool:
    target = d.func if isinstance(d, ast.Call) else d
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in ("dataclass", "define", "frozen", "attrs", "attrib") or name.endswith("dataclass")


def _config_like_class(cls: ast.ClassDef) -> bool:
    if any(_is_dataclass_decorator(d) for d in cls.decorator_list):
        return True
    bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in cls.bases}
    return bool(bases & {"BaseModel", "BaseSettings", "TrainingArguments", "Config", "PretrainedConfig",
                         "NamedTuple"}) or cls.name.endswith(("Config", "Args", "Arguments", "Params", "Settings"))


def _field_default(call: ast.AST) -> ast.AST | None:
    """`field(default=1e-3, metadata=...)` -> the default node."""
    if isinstance(call, ast.Call):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if name in ("field", "Field", "attrib", "ib"):
            for kw in call.keywords:
                if kw.arg == "default":
                    return kw.value
            return None
    return call


def read_python(path: Path, run: Run) -> Source:
    text = _read_text(path, budget.current().limits.code_file_bytes)  # an AST costs up to ~500x its source
    src = Source(str(path), "python_config")
    try:
        tree = ast.parse(text, filename=path.name)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        raise ReadError(f"{path.name}: not valid Python{f' (line {line})' if line else ''}") from None
    lines = text.splitlines()
    file = str(path)

    def put(key: str, value_node: ast.AST, kind: str) -> None:
        value = _literal(value_node)
        if value is _NO_VALUE:
            return
        if isinstance(value, (bytes, set, frozenset, complex)):
            return
        _add(run, src, key, value, file, value_node.lineno, kind, _segment(lines, value_node))

    def put_tree(name: str, value: ast.AST, depth: int = 0) -> None:
        """A module-level value; dict literals, dict(...) and Config(...) calls are opened so each inner value
        keeps its own position: `config = {"lr": 1e-3}` -> config.lr, `cfg = GPTConfig(n_layer=12)` -> cfg.n_layer."""
        if isinstance(value, ast.Dict) and depth < 6 and value.keys and all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys):
            for k, v in zip(value.keys, value.values, strict=True):
                put_tree(f"{name}.{k.value}", v, depth + 1)  # type: ignore[union-attr]
            return
        if isinstance(value, ast.Call) and depth < 6 and value.keywords and not value.args:
            for kw in value.keywords:
                if kw.arg:
                    put_tree(f"{name}.{kw.arg}", kw.value, depth + 1)
            return
        put(name, value, "python_assign" if depth == 0 else "python_kwarg")

    # Module-level assignments: nanoGPT's config/*.py and the globals at the top of its train.py.
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if not name.startswith("__"):
                put_tree(name, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            put_tree(stmt.target.id, stmt.value)

    for node in ast.walk(tree):
        # Dataclass-style field defaults: `muon_lr: float = 1e-2`, `lr: float = field(default=1e-3)`.
        if isinstance(node, ast.ClassDef) and _config_like_class(node):
            for stmt in node.body:
                target = value = None
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                    target, value = stmt.target.id, _field_default(stmt.value)
                elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    target, value = stmt.targets[0].id, stmt.value
                if target and value is not None and not target.startswith("_"):
                    put(f"{node.name}.{target}", value, "dataclass_default")
        # argparse: `parser.add_argument("--lr", "--learning-rate", type=float, default=1e-3)`.
        # absl: `flags.DEFINE_float("learning_rate", 1e-3, "help")`.
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr.startswith("DEFINE_") and len(node.args) >= 2 and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            put(f"flags.{node.args[0].value}", node.args[1], "argparse_default")
        # argparse `add_argument("--lr", default=...)` and click `@click.option("--lr", default=...)`.
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("add_argument", "option"):
            default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
            if default is None:
                continue
            dest = next((kw.value.value for kw in node.keywords if kw.arg == "dest"
                         and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)), None)
            if dest is None:
                flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                longs = [f for f in flags if f.startswith("--")]
                chosen = longs[0] if longs else (flags[0] if flags else None)
                if chosen is None:
                    continue
                dest = chosen.lstrip("-").replace("-", "_")
            put(f"args.{dest}", default, "argparse_default")
    if not src.records:
        src.warnings.append("no literal config values found")
    return src


# ---------------------------------------------------------------------------------------- HF training_args.bin


def sniff_training_args_bin(path: Path, head: bytes) -> float:
    return 0.9 if path.name == "training_args.bin" and not path.is_dir() else 0.0


def read_training_args_bin(path: Path, run: Run) -> Source:
    src = Source(str(path), "hf_training_args_bin")
    try:
        obj = _safe_pickle.load_file(path)
    except (ValueError, OSError) as exc:
        raise ReadError(f"{path.name}: {exc}") from None
    state = plain(obj)
    if not isinstance(state, dict):
        raise ReadError(f"{path.name}: no argument fields found in the pickle")
    for k, v in state.items():
        if isinstance(k, str) and not k.startswith("_"):
            _add(run, src, f"training_args.{k}", v, str(path), None, "pickle", "")
    # No line numbers here (kind "pickle"): a fix goes to the script that built TrainingArguments.
    return src


READERS = [
    Reader("yaml_config", sniff_yaml, read_yaml),
    Reader("json_config", sniff_json, read_json),
    Reader("python_config", sniff_python, read_python),
    Reader("hf_training_args_bin", sniff_training_args_bin, read_training_args_bin),
]
