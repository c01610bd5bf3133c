"""Generated-sample files → run.samples: the evidence for degenerate generation (mode collapse, `::::` loops).

Two layouts, both streamed line by line:
- JSONL: one object per line with a text field (`text`, `sample`, `generation`, `completion`, `output`,
  `response`, `prediction`), optionally `prompt` / `input` and a step (`step`, `iter`, `global_step`, `epoch`).
- Plain text: nanoGPT's sample.py prints samples separated by a dashed line; many scripts use `=== step 500 ===`
  headers or a `step 500:` line before each sample, and `Prompt: ...` lines. Separators close a sample; a step or
  prompt in a header applies to the sample that follows. A file without separators is one sample.

Files are recognised by name (samples*, generations*, completions*, outputs*, predictions*): a text file with
another name is a log, not samples.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Sample, Source
from traindoc.ingest.registry import Reader, ReadError

MAX_SAMPLES = 10_000
MAX_SAMPLE_CHARS = 20_000
MAX_LINE = 1 << 20

TEXT_KEYS = ("text", "sample", "generation", "generated", "generated_text", "completion", "output", "response",
             "prediction", "samples")
PROMPT_KEYS = ("prompt", "input", "context", "question", "instruction")
STEP_KEYS = ("step", "global_step", "iter", "iteration", "iter_num", "epoch")
_NAME = re.compile(r"sample|generat|completion|output|prediction|decode", re.I)
_SEPARATOR = re.compile(r"^\s*(?:-{3,}|={3,}|\*{3,}|#{3,}|~{3,})(?P<title>.*?)(?:-{3,}|={3,}|\*{3,}|#{3,}|~{3,})?\s*$")
_STEP_HEADER = re.compile(
    r"^\s*\[?(?:step|iter|iteration|global[_ ]step)\s*[:=#]?\s*(\d+)\]?\s*(?:sample\w*)?\s*:?\s*$", re.I
)
_STEP_IN_TITLE = re.compile(r"(?:step|iter|iteration|global[_ ]step)\s*[:=#]?\s*(\d+)", re.I)
_LOGGY = re.compile(r"\b(?:loss|lr|learning.rate|grad.norm)\b\s*[:=]?\s*[-+]?\d|\b(?:step|iter|epoch)\b\s*[:=]?\s*\d+",
                    re.I)
_PROMPT = re.compile(r"^\s*(?:prompt|input)\s*:\s?(.*)$", re.I)


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or b"\x00" in head[:4096]:
        return 0.0
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".jsonl", ".md", ".out", ".json", ""):
        return 0.0
    named = bool(_NAME.search(path.stem))
    if suffix in (".jsonl", ".json"):
        first = head.split(b"\n", 1)[0].strip()
        try:
            obj = json.loads(first) if first else None
        except ValueError:
            obj = None
        if isinstance(obj, dict) and any(isinstance(obj.get(k), str) for k in TEXT_KEYS):
            has_metrics = any(k in obj for k in ("loss", "train_loss", "eval_loss", "type"))
            return 0.0 if has_metrics else (0.85 if named else 0.45)
        return 0.0
    if not named:
        return 0.0
    # "output.txt" is as often a captured console (python train.py > output.txt) as generations: a head full of
    # loss/step lines says log, and the text-log reader should have it.
    text = head[:16384].decode("utf-8", errors="replace")
    if len(_LOGGY.findall(text)) >= 3 or _console_family(text):
        return 0.15
    return 0.85


def _console_family(text: str) -> bool:
    """Whether the head holds >= 3 lines of one training-console family the text-log reader knows (LightGBM's
    "[100]\ttrain's rmse: 0.2248\tvalid's rmse: 0.2273" names no loss, step or LR, which _LOGGY looks for): a
    captured console named "output" (lgb_2193_output.txt, a Kaggle solution's LightGBM folds), not generations."""
    from traindoc.ingest.readers.text_log import detect  # the text-log reader imports no sample code
    from traindoc.ingest.readers.textlog_formats import FORMAT_BY_NAME

    hits, _ = detect(text.splitlines()[:400])
    return any(n >= 3 for name, n in hits.items() if FORMAT_BY_NAME[name].specific)


def _lines(f):
    """Lines capped at MAX_LINE characters; the rest of an over-long line is skipped, never held in memory."""
    while True:
        line = f.readline(MAX_LINE)
        if not line:
            return
        if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
            while True:  # drain the rest of the long line
                rest = f.readline(MAX_LINE)
                if not rest or rest.endswith(("\n", "\r")):
                    break
        yield line


def _step_of(obj: dict) -> int | None:
    for k in STEP_KEYS:
        v = obj.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) < 1e15:
            return int(v)
    return None


def _read_jsonl(f, path: Path, run: Run, src: Source) -> None:
    bad = 0
    for line in _lines(f):
        if len(run.samples) >= MAX_SAMPLES:
            src.warnings.append(f"only the first {MAX_SAMPLES} samples kept")
            break
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            bad += 1
            continue
        if not isinstance(obj, dict):
            bad += 1
            continue
        text = next((obj[k] for k in TEXT_KEYS if isinstance(obj.get(k), str)), None)
        if text is None:
            lists = next((obj[k] for k in TEXT_KEYS if isinstance(obj.get(k), list)), None)
            texts = [t for t in (lists or []) if isinstance(t, str)]
        else:
            texts = [text]
        prompt = next((obj[k] for k in PROMPT_KEYS if isinstance(obj.get(k), str)), None)
        for t in texts:
            run.samples.append(Sample(t[:MAX_SAMPLE_CHARS], _step_of(obj), prompt, str(path)))
            src.records += 1
    if bad:
        src.warnings.append(f"{bad} lines were not JSON objects (truncated file?)")


def _read_text(f, path: Path, run: Run, src: Source) -> None:
    buf: list[str] = []
    size = 0
    step: int | None = None
    prompt: str | None = None
    separators = 0

    def flush() -> None:
        nonlocal buf, size, prompt
        text = "\n".join(buf).strip("\n")
        if text.strip() and len(run.samples) < MAX_SAMPLES:
            run.samples.append(Sample(text[:MAX_SAMPLE_CHARS], step, prompt, str(path)))
            src.records += 1
        buf, size, prompt = [], 0, None

    for raw in _lines(f):
        line = raw.rstrip("\r\n")
        m = _SEPARATOR.match(line)
        if m:
            separators += 1
            flush()
            t = _STEP_IN_TITLE.search(m.group("title") or "")
            if t:
                step = int(t.group(1))
            continue
        m = _STEP_HEADER.match(line)
        if m:
            flush()
            step = int(m.group(1))
            continue
        m = _PROMPT.match(line)
        if m and not buf:
            prompt = m.group(1)
            continue
        if size < MAX_SAMPLE_CHARS:
            buf.append(line)
            size += len(line) + 1
    flush()
    if len(run.samples) >= MAX_SAMPLES:
        src.warnings.append(f"only the first {MAX_SAMPLES} samples kept")
    if not separators and src.records == 1:
        src.warnings.append("no separators between samples: the whole file is one sample")


def read(path: Path, run: Run) -> Source:
    src = Source(str(path), "samples_jsonl" if path.suffix.lower() in (".jsonl", ".json") else "samples_text")
    try:
        with io.TextIOWrapper(budget.open_input(path), encoding="utf-8", errors="replace", newline="") as f:
            if src.format == "samples_jsonl":
                _read_jsonl(f, path, run, src)
            else:
                _read_text(f, path, run, src)
    except OSError as exc:
        raise ReadError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    if not src.records:
        src.warnings.append("no samples found")
    return src


READERS = [Reader("samples", sniff, read)]
