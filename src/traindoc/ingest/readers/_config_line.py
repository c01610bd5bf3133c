"""A log line that prints the run's hyperparameters is configuration, not a metric series.

Training scripts print their settings once at the start: `config seed=0 optimizer=adam lr=3e-4 act=relu ...`,
`hparams: lr=0.1 batch=32`, argparse's `Namespace(lr=0.1, batch_size=32, arch='resnet18')`. Read as metrics, such
a line becomes one-point series named "adam lr" or "relu bias_init"; read as configuration, its values are what
the detectors compare against reference ranges (the LR, the activation, the bias init, the depth).

A line counts only when it *starts* with one of those words and holds >= 2 `key=value` pairs: a metric line starts
with a step, an epoch or a metric name, never with "config".
"""

from __future__ import annotations

import re
from typing import Any

from traindoc.ingest.model import ConfigValue, Run

_HEAD = re.compile(
    r"^(?:config(?:uration)?|hparams|hyper[-_ ]?param(?:eter)?s|args|arguments|options|settings|Namespace)"
    r"\s*[:=(]?\s*", re.IGNORECASE)
# key=value, the value quoted ('resnet18', "x y") or a bare token up to a separator
_KV = re.compile(r"(?<![\w.])([A-Za-z_][\w.\-]*)\s*=\s*('[^']*'|\"[^\"]*\"|[^\s,()\[\]{}]+)")
_MIN_PAIRS = 2
MAX_PAIRS = 500  # a hostile line cannot make one config with unbounded keys


def _value(text: str) -> Any:
    """The value as a config file would hold it: number, bool, None, else the string without its quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def config_pairs(text: str) -> list[tuple[str, str]] | None:
    """The (key, value text) pairs of a hyperparameter line, or None when the line is not one."""
    m = _HEAD.match(text)
    if m is None:
        return None
    found = _KV.findall(text, m.end())
    return found[:MAX_PAIRS] if len(found) >= _MIN_PAIRS else None


def record(pairs: list[tuple[str, str]], run: Run, path: str, line_no: int) -> None:
    for key, raw in pairs:
        run.put_config(ConfigValue(key=key, value=_value(raw), file=path, line=line_no, kind="log_line", text=raw))
