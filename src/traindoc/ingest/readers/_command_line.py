"""A command line that launched the run is configuration: `python train.py --lr 0.1 --batch-size 64`.

People paste the command above a log (`+ python train.py ... -learning_rate 1.0`, a shell's `$ torchrun ...`) or
keep it beside the log (`command.txt`, `run.sh`). Read as metrics, `--batch-size 32 --workers 10` becomes one-point
series named "batch-size" and "workers"; read as flags, its values are what the detectors compare against
references (the LR, the optimiser, the batch size).

Two shapes count:
- a line that starts with a launcher (python, torchrun, accelerate launch, deepspeed, a `*.py` script; after an
  optional shell prompt or `set -x` mark) and holds >= 1 flag. Old Lua-era and OpenNMT-py scripts take single-dash
  long flags (`-learning_rate 2`), so after a launcher `-name value` with a name of >= 2 letters counts too;
- any other line with >= 2 `--name` flags (a console script such as `cgcnn-tr`, or a command wrapped onto a
  second line): a metric line never writes its names with a leading `--`.
A flag's value is the next token unless that is another flag (then the flag is a switch, `True`); argparse turns
`--batch-size` into `batch_size`, and so does this reader. A flag pasted into CJK prose is glued to the full-width
punctuation before it (`参数设置：--lr_scheduler_type "cosine" ，--num_train_epochs 200`): that colon, comma,
semicolon or enumeration comma separates like a space, since no flag name or shell word starts with one.
"""

from __future__ import annotations

import re
import shlex

from traindoc.ingest.model import ConfigValue, Run
from traindoc.ingest.readers._config_line import scalar

_PROMPT = r"(?:[+$>#!]+\s*)?"
_ENV = r"(?:[A-Z_][A-Z0-9_]*=\S*\s+)*"
_LAUNCHER = re.compile(
    rf"^{_PROMPT}{_ENV}(?:(?:python[\d.]*|torchrun|accelerate\s+launch|deepspeed|horovodrun|th)\s|\S*\.(?:py|lua)\s)")
_LONG_IN_TEXT = re.compile(r"(?:^|\s)--[A-Za-z]")
_LONG = re.compile(r"^--[A-Za-z][\w.-]*(?:=.*)?$")
_SINGLE = re.compile(r"^-[A-Za-z][A-Za-z_][\w.-]*$")  # -learning_rate, -optim (not -v, not -1e-3)
# "\d+(?:\.\d*)?" rather than "\d+\.?\d*": the same numbers, but a run of digits has one split, so a long token that
# is not a number (a "-", thousands of digits, an "x") is rejected in linear time, not quadratic (docs/architecture.md)
_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_MIN_BARE_FLAGS = 2
# full-width colon, comma, semicolon and the ideographic enumeration comma, directly before a `--name` flag
_CJK_SEPARATOR = re.compile("[\uff1a\uff0c\uff1b\u3001](?=--[A-Za-z])")
MAX_FLAGS = 500  # a hostile line cannot make one config with unbounded keys


def command_flags(text: str) -> list[tuple[str, str | None]] | None:
    """(name, value text or None for a switch) of a command line, or None when the line is not one."""
    if "-" not in text:
        return None
    text = _CJK_SEPARATOR.sub(" ", text)
    launched = _LAUNCHER.match(text) is not None
    # a separator line ("-------") is not two flags: only "--" starting a word and followed by a letter counts
    if not launched and len(_LONG_IN_TEXT.findall(text, 0, 4096)) < _MIN_BARE_FLAGS:
        return None
    try:
        tokens = shlex.split(text, comments=False, posix=True)
    except ValueError:  # an unbalanced quote: the plain split is still the best reading
        tokens = text.split()
    flags: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens) and len(flags) < MAX_FLAGS:
        tok = tokens[i]
        i += 1
        if not (_LONG.match(tok) or (launched and _SINGLE.match(tok))):
            continue
        name, eq, val = tok.lstrip("-").partition("=")
        if not eq:
            nxt = tokens[i] if i < len(tokens) else None
            if nxt is not None and (not nxt.startswith("-") or _NUMBER.match(nxt)):
                val, i = nxt, i + 1
            else:
                val = None
        flags.append((name.replace("-", "_"), val))
    if not flags or (not launched and len(flags) < _MIN_BARE_FLAGS):
        return None
    return flags


def record(flags: list[tuple[str, str | None]], run: Run, path: str, line_no: int) -> None:
    for name, raw in flags:
        value = True if raw is None else scalar(raw)
        run.put_config(ConfigValue(key=name, value=value, file=path, line=line_no, kind="command_line",
                                   text="" if raw is None else raw))
