"""Jupyter notebooks (`.ipynb`, Colab and Kaggle included): the training output their cells kept.

A notebook is JSON: each code cell keeps its outputs, and the console a training run printed is there as `stream`
outputs (Keras's epoch lines, tqdm bars, plain prints, logging), while libraries that draw a live table in a
notebook (the Hugging Face Trainer's and fastai's progress tables) leave it as `text/html` in `display_data` /
`execute_result` outputs. An `error` output keeps the exception that ended a run (a NaN check, an out-of-memory).

The outputs are put back into the console text they were, in cell order: stream text as is, each HTML table as
Markdown table rows (`| Step | Training Loss | ... |`, a format the text-log reader knows), other rich outputs by
their `text/plain` form, an error as its `Name: value` line and traceback with the terminal colours removed. That
text is then read by the console reader that claims it (the HF console reader or the text-log reader, by their own
sniffing), so a notebook reads exactly as the same console saved to a `.log` would. Images and widgets are skipped.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.readers import hf_trainer, text_log
from traindoc.ingest.registry import Reader, ReadError

MAX_BYTES = 64 << 20  # notebooks carry base64 images; beyond this the outputs are not worth parsing the JSON for
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.IGNORECASE | re.DOTALL)
_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or path.suffix.lower() != ".ipynb":
        return 0.0
    start = head.lstrip()[:1]
    # Jupyter writes the top-level keys sorted (`cells` first); Colab writes `nbformat`, `nbformat_minor` and
    # `metadata` first, and a metadata holding the widgets' state can push `cells` past the head. Both keys are
    # required by every nbformat version (nbformat 3 names the cells `worksheets`).
    return 0.9 if start == b"{" and (b'"cells"' in head or b'"nbformat"' in head) else 0.0


def _text(value: Any) -> str:
    """A notebook text field: a string or a list of line strings."""
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _table_rows(markup: str) -> list[str]:
    """Each HTML table row as a Markdown table row, the header followed by its separator."""
    out: list[str] = []
    for i, row in enumerate(_ROW.findall(markup)):
        cells = [html.unescape(_TAG.sub("", c)).strip().replace("|", "/") for c in _CELL.findall(row)]
        if not cells:
            continue
        out.append("| " + " | ".join(cells) + " |")
        if i == 0:
            out.append("|" + "---|" * len(cells))
    return out


def _output_text(out: dict[str, Any]) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return _text(out.get("text"))
    if kind in ("execute_result", "display_data", "update_display_data"):
        data = out.get("data") if isinstance(out.get("data"), dict) else {}
        markup = _text(data.get("text/html"))
        if "<table" in markup.lower():
            return "\n".join(_table_rows(markup))
        plain = _text(data.get("text/plain"))
        return "" if plain.startswith("<IPython.core.display") else plain
    if kind == "error":
        lines = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        tb = out.get("traceback")
        lines += [_ANSI.sub("", t) for t in tb if isinstance(t, str)] if isinstance(tb, list) else []
        return "\n".join(lines)
    return ""


def _code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    cells = nb.get("cells")
    if not isinstance(cells, list):  # nbformat 3 kept cells under worksheets
        sheets = nb.get("worksheets") if isinstance(nb.get("worksheets"), list) else []
        cells = [c for w in sheets if isinstance(w, dict) for c in (w.get("cells") or [])]
    return [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]


def console_text(nb: dict[str, Any]) -> str:
    """The console text of every code cell's outputs, in cell order."""
    parts: list[str] = []
    for cell in _code_cells(nb):
        for out in cell.get("outputs") or []:
            if isinstance(out, dict):
                text = _output_text(out)
                if text.strip():
                    parts.append(text if text.endswith("\n") else text + "\n")
    return "".join(parts)


def read(path: Path, run: Run) -> Source:
    with budget.open_input(path) as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ReadError(f"{path.name}: notebook over {MAX_BYTES >> 20} MiB; its outputs were not read")
    try:
        nb = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        raise ReadError(f"{path.name}: not a readable notebook (invalid JSON)") from None
    if not isinstance(nb, dict):
        raise ReadError(f"{path.name}: not a notebook (no cells)")
    text = console_text(nb).encode("utf-8")
    if not text.strip():
        raise ReadError(f"{path.name}: the notebook keeps no cell output (cleared, or never run)")
    head = text[: 64 * 1024]
    console = path.with_suffix(".log")  # the outputs are a console capture: sniffed as one
    readers = sorted([(hf_trainer.sniff_console(console, head), hf_trainer.read_console_stream),
                      (text_log.sniff(console, head), text_log.read_stream)], key=lambda r: -r[0])
    first_error: ReadError | None = None
    for score, read_stream in readers:
        if score <= 0:
            continue
        try:
            source = read_stream(io.BytesIO(text), str(path), run)
        except ReadError as exc:
            first_error = first_error or exc
            continue
        source.format = f"notebook:{source.format}"
        return source
    raise first_error or ReadError(f"{path.name}: no training output recognised in the notebook's cells")


# IPython lines that are not Python: shell escapes (`!pip install`), line magics (`%matplotlib inline`), help (`x?`).
# `!=` or `%` opening a continuation line is Python: `as_python` is only for a cell that does not parse as it is.
_IPYTHON_LINE = re.compile(r"^(\s*)(?:![^=]|%|\?\w|\w[\w.]*\?+\s*$)")
# Cell magics whose body is still Python (timing or capturing it); any other (`%%bash`, `%%writefile`) is not.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


def code_cells(nb: dict[str, Any]) -> list[tuple[int, str]]:
    """(1-based index among the code cells, source) of each code cell; a cell under a non-Python cell magic is left
    out, a Python one (`%%time`) keeps its body (the magic's line left blank, so line numbers hold)."""
    out: list[tuple[int, str]] = []
    for i, cell in enumerate(_code_cells(nb), start=1):
        src = _text(cell.get("source", cell.get("input")))  # nbformat 3 named it `input`
        first, _, rest = src.partition("\n")
        if first.lstrip().startswith("%%"):
            magic = first.lstrip()[2:].split(None, 1)
            if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
                continue
            src = "\n" + rest
        out.append((i, src))
    return out


def as_python(src: str) -> str:
    """A cell's source with each IPython-only line made `pass` at its indentation (a block it sits in still parses,
    line numbers hold)."""
    return "\n".join(m.group(1) + "pass" if (m := _IPYTHON_LINE.match(ln)) else ln for ln in src.splitlines())


def load(path: str) -> dict[str, Any] | None:
    """The notebook's JSON, or None when it is unreadable, over MAX_BYTES or not a notebook (read after ingest, by
    the code readers: the file was already admitted by the run's reading)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES:
        return None
    try:
        nb = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return nb if isinstance(nb, dict) else None


READERS = [Reader(name="notebook", sniff=sniff, read=read)]
