"""Find and replace one configuration value in place, keeping every other byte of the file.

A fix to a config never re-dumps the file (that would lose comments, key order, quoting and number style). Instead
we find the exact character span of the value's text — in YAML (nested blocks or flat dotted keys), JSON, Python
assignments, dataclass field defaults, argparse `default=` and keyword arguments — and splice new text into that
span. The new text is written in the style of the old one (`1e-2` -> `5e-3`, `0.01` -> `0.005`, `True` in Python,
`true` in YAML/JSON), and the edited file is re-parsed to check that the key now holds the intended value.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from traindoc.evidence.code_sites import parse_python


class ConfigEditError(ValueError):
    """The key is not found, or the edit would not produce the intended value. One line for the user."""


@dataclass
class ValueSpan:
    file: str
    key: str
    start: int  # character offsets into the file's text
    end: int
    line: int  # 1-based line of `start`
    text: str  # text[start:end]
    kind: str  # "yaml" | "json" | "python_assign" | "dataclass_default" | "argparse_default" | "python_kwarg" | ...


def config_kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    if suffix == ".py":
        return "python"
    return "unknown"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ------------------------------------------------------------------------------------------------------------ YAML
_YAML_KEY = re.compile(r"^(?P<indent>[ ]*)(?P<key>[\"']?[^\s:#\"'][^:#]*?[\"']?)[ ]*:(?=[ \t]|$)")


def _yaml_value_end(line: str, start: int) -> int:
    """End of a scalar value starting at `start` on `line`: before a ` #` comment (outside quotes) or trailing
    blanks."""
    if start < len(line) and line[start] in "\"'":
        q = line[start]
        i = start + 1
        while i < len(line):
            if line[i] == q:
                if q == "'" and i + 1 < len(line) and line[i + 1] == "'":
                    i += 2
                    continue
                return i + 1
            if line[i] == "\\" and q == '"':
                i += 1
            i += 1
        return len(line.rstrip())
    m = re.search(r"[ \t]#", line[start:])
    end = start + m.start() if m else len(line)
    return len(line[:end].rstrip())


def find_yaml_value(text: str, key: str) -> tuple[int, int] | None:
    """Span of the scalar at dotted `key`: nested block mappings (`optim:` / `  muon_lr: 1e-2`) or a flat dotted
    key (`optim.muon_lr: 1e-2`), or any mix (`optim:` / `  muon.lr: ...`)."""
    parts = key.split(".")
    stack: list[tuple[int, str]] = []  # (indent, key) of the open mappings
    suffix_hits: list[tuple[int, int]] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        line_start = offset
        offset += len(raw)
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        m = _YAML_KEY.match(line)
        if not m:
            continue
        indent = len(m.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        k = m.group("key").strip().strip("\"'")
        path = [p for _, name in stack for p in name.split(".")] + k.split(".")
        vstart = m.end()
        while vstart < len(line) and line[vstart] in " \t":
            vstart += 1
        has_scalar = vstart < len(line) and line[vstart] != "#"
        if path == parts and has_scalar:
            return line_start + vstart, line_start + _yaml_value_end(line, vstart)
        if has_scalar and path[-len(parts):] == parts:
            suffix_hits.append((line_start + vstart, line_start + _yaml_value_end(line, vstart)))
        if not has_scalar:
            stack.append((indent, k))
    # a short key ("warmup_steps") names a nested one ("optim.warmup_steps") when exactly one matches
    return suffix_hits[0] if len(suffix_hits) == 1 else None


# ------------------------------------------------------------------------------------------------------------ JSON
class _JsonSpans:
    """A minimal JSON scanner that records the character span of every scalar by its dotted path."""

    def __init__(self, text: str):
        self.text, self.i, self.spans = text, 0, {}

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def value(self, path: str) -> None:
        self.ws()
        c = self.text[self.i]
        if c == "{":
            self.i += 1
            self.ws()
            if self.text[self.i] == "}":
                self.i += 1
                return
            while True:
                self.ws()
                k = self.string()
                self.ws()
                assert self.text[self.i] == ":"
                self.i += 1
                self.value(f"{path}.{k}" if path else k)
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                assert self.text[self.i] == "}"
                self.i += 1
                return
        if c == "[":
            self.i += 1
            idx = 0
            self.ws()
            if self.text[self.i] == "]":
                self.i += 1
                return
            while True:
                self.value(f"{path}.{idx}")
                idx += 1
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                assert self.text[self.i] == "]"
                self.i += 1
                return
        start = self.i
        if c == '"':
            self.string()
        else:
            m = re.compile(r"-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|Infinity|NaN)|true|false|null|Infinity|NaN")
            mm = m.match(self.text, self.i)
            assert mm, f"bad JSON at {self.i}"
            self.i = mm.end()
        self.spans[path] = (start, self.i)

    def string(self) -> str:
        assert self.text[self.i] == '"'
        j = self.i + 1
        while self.text[j] != '"':
            j += 2 if self.text[j] == "\\" else 1
        s = json.loads(self.text[self.i:j + 1])
        self.i = j + 1
        return s


def find_json_value(text: str, key: str) -> tuple[int, int] | None:
    scanner = _JsonSpans(text)
    try:
        scanner.value("")
    except (AssertionError, IndexError):
        return None
    if key in scanner.spans:
        return scanner.spans[key]
    hits = [span for path, span in scanner.spans.items() if path.endswith("." + key)]
    return hits[0] if len(hits) == 1 else None


# ---------------------------------------------------------------------------------------------------------- Python
def _offsets(text: str) -> list[int]:
    """Character offset of the start of every line (1-based index)."""
    out = [0, 0]
    for raw in text.splitlines(keepends=True):
        out.append(out[-1] + len(raw))
    return out


def _char_offset(text: str, starts: list[int], lineno: int, col_bytes: int) -> int:
    """ast col offsets count UTF-8 bytes; convert to a character offset."""
    line = text[starts[lineno]:starts[lineno + 1] if lineno + 1 < len(starts) else len(text)]
    return starts[lineno] + len(line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))


def find_python_value(text: str, key: str) -> tuple[tuple[int, int], str] | None:
    """Span of a Python literal that sets `key` (dotted; the last part is the name, earlier parts pick the class,
    e.g. "optim.muon_lr" prefers `class OptimConfig` / `class OptimizerConfig`), and which kind of site it is."""
    tree = parse_python(text)
    if tree is None:
        return None
    parts = key.split(".")
    name, scope = parts[-1], [p.lower() for p in parts[:-1]]
    starts = _offsets(text)
    candidates: list[tuple[int, ast.expr, str]] = []  # (preference, value node, kind)

    def score_class(cls: str) -> int:
        c = cls.lower()
        return 0 if scope and any(c.startswith(s) or s in c for s in scope) else 1

    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name \
                        and stmt.value is not None:
                    candidates.append((score_class(node.name), stmt.value, "dataclass_default"))
                elif isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                          for t in stmt.targets):
                    candidates.append((score_class(node.name) + 1, stmt.value, "dataclass_default"))
        elif isinstance(node, ast.Call):
            fname = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if fname == "add_argument":
                flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if any(f.lstrip("-").replace("-", "_") == name for f in flags):
                    default = next((k.value for k in node.keywords if k.arg == "default"), None)
                    if default is not None:
                        candidates.append((2, default, "argparse_default"))
            for k in node.keywords:
                if k.arg == name:
                    candidates.append((4, k.value, "python_kwarg"))
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=False):
                if isinstance(k, ast.Constant) and k.value in (name, key):
                    candidates.append((3, v, "python_dict"))
    for node in tree.body:  # module-level `muon_lr = 1e-2` (nanoGPT style configs)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            candidates.append((1, node.value, "python_assign"))
    literal = [c for c in candidates if _is_literal(c[1])]
    if not literal:
        return None
    _, value, kind = min(literal, key=lambda c: (c[0], c[1].lineno))
    start = _char_offset(text, starts, value.lineno, value.col_offset)
    end = _char_offset(text, starts, value.end_lineno, value.end_col_offset)
    return (start, end), kind


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


# ------------------------------------------------------------------------------------------------------ interface
def find_value(path: str, key: str, text: str | None = None) -> ValueSpan | None:
    """Where `key` is written in the config file at `path` (None if it is not)."""
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    kind = config_kind(path)
    span: tuple[int, int] | None = None
    if kind == "yaml":
        span = find_yaml_value(text, key)
    elif kind == "json":
        span = find_json_value(text, key)
    elif kind == "python":
        found = find_python_value(text, key)
        if found:
            span, kind = found
    if span is None:
        return None
    return ValueSpan(path, key, span[0], span[1], _line_of(text, span[0]), text[span[0]:span[1]], kind)


def parse_value_text(s: Any) -> Any:
    """A diagnosis writes `after` as text ("5e-3", "true", "1.0"); read it as YAML 1.2-ish would."""
    if not isinstance(s, str):
        return s
    t = s.strip()
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", t):
        return int(t) if re.fullmatch(r"[-+]?\d+", t) else float(t)
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null", "~"):
        return None
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        return t[1:-1]
    return t


def _sci(v: float, yaml_style: bool) -> str:
    """Shortest exact-enough scientific form: 0.005 -> "5e-3" (YAML: "5.0e-3", which YAML 1.1 reads as a float)."""
    mant, exp = f"{v:.6e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    if yaml_style and "." not in mant:
        mant += ".0"
    return f"{mant}e{int(exp):+d}" if yaml_style else f"{mant}e{int(exp)}"


def format_like(old_text: str, value: Any, kind: str) -> str:
    """Text for `value` in the style of `old_text` and the file kind."""
    python = kind not in ("yaml", "json")
    if isinstance(value, bool):
        if python:
            return "True" if value else "False"
        if kind == "yaml" and old_text[:1].isupper():
            return "True" if value else "False"
        return "true" if value else "false"
    if value is None:
        return "None" if python else "null"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigEditError(f"refusing to write a non-finite value {value!r}")
        if "_" in old_text and isinstance(value, int):
            return f"{value:_}"
        if isinstance(value, int):
            return str(value)
        if re.search(r"[eE]", old_text):
            return _sci(float(value), yaml_style=kind == "yaml")
        text = repr(float(value))
        if "e" in text and kind == "yaml":
            return _sci(float(value), yaml_style=True)
        return text
    if isinstance(value, str):
        q = old_text[:1] if old_text[:1] in "\"'" else ('"' if kind in ("json",) or python else "")
        return f"{q}{value}{q}" if q else value
    return json.dumps(value) if kind == "json" else repr(value)


def read_key(path: str, text: str, key: str) -> Any:
    """The value at `key` after parsing the whole file (for checking an edit)."""
    kind = config_kind(path)
    if kind in ("yaml", "json"):
        flat = _flatten(yaml.safe_load(text) if kind == "yaml" else json.loads(text))
        if key in flat:
            return flat[key]
        hits = [v for k, v in flat.items() if k.endswith("." + key)]
        return hits[0] if len(hits) == 1 else _MISSING
    found = find_python_value(text, key)
    if not found:
        return _MISSING
    (s, e), _ = found
    return ast.literal_eval(text[s:e])


_MISSING = object()


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            full = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                out.update(_flatten(v, full))
            else:
                out[full] = v
    return out


def edit_value(path: str, text: str, key: str, new_value: Any, expect_old: str | None = None) -> tuple[str, ValueSpan]:
    """Return the file's text with `key` set to `new_value` (every other byte unchanged) and the old span.

    `expect_old`, when given, must match the value text now in the file (the diagnosis's `before`); a mismatch
    means the file changed since it was diagnosed."""
    span = find_value(path, key, text)
    if span is None:
        raise ConfigEditError(f"{path}: key {key!r} not found")
    if expect_old is not None and expect_old.strip() and parse_value_text(expect_old) != parse_value_text(span.text):
        raise ConfigEditError(f"{path}:{span.line}: {key} is {span.text!r}, expected {expect_old!r}")
    new_text = format_like(span.text, new_value, span.kind)
    edited = text[:span.start] + new_text + text[span.end:]
    got = read_key(path, edited, key)
    if got is _MISSING or not _same(got, new_value):
        raise ConfigEditError(f"{path}: editing {key} to {new_text!r} reads back as {got!r}")
    return edited, span


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=0.0)
    return a == b
