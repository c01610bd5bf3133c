"""A configuration printed as a YAML block under a header line is configuration, not metric series.

JAX/Flax scripts log their `ml_collections.ConfigDict`, whose text form is YAML, under a header
(`logging.info("Config:\\n%s", config)`): a line `Config:` and then one bare `key: value` line per setting, nested
sections indented under a `section:` line. Many PyTorch scripts print `yaml.dump(cfg)` the same way. Read line by line
as metrics, `lr: 0.0009` becomes a one-point "lr" series (which tells every rule that reads a logged LR schedule that
one was logged) and `seed: 0`, `steps: 300` one-point series of their own. Read as a block, they are config values
the detectors compare against reference ranges.

A block opens only on a line that is nothing but a config header word and a colon (`Config:`, `hparams:`,
`FLAGS:` ...); it holds the bare `key: value` lines right after it and ends at the first line that is not one (a
logger-prefixed line, a blank line, a metric line with two pairs). A metric line never is a lone header word.
"""

from __future__ import annotations

import re

from traindoc.ingest.model import ConfigValue, Run
from traindoc.ingest.readers._config_line import MAX_PAIRS, scalar

_HEADER = re.compile(
    r"^(?:config(?:uration)?|cfg|hparams|hyper[-_ ]?param(?:eter)?s|args|arguments|flags|options|settings)\s*:\s*$",
    re.IGNORECASE)
# one YAML mapping line: indentation, a key, a colon, and a scalar value (or none: a nested section's header)
# (a flow list or tuple whole; else no comma: "loss: 0.5, acc: 0.9" is a metric line, and it ends the block)
_PAIR = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w.\-]*):"
                   r"(?:[ \t]+(?P<value>\[[^\]]*\]|\([^)]*\)|[^\s:,\[(][^,]*))?$")  # greedy: linear time


class ConfigBlock:
    """The open block of one file: the section stack (indent, key) and how many pairs it took."""

    def __init__(self) -> None:
        self.sections: list[tuple[int, str]] = []
        self.pairs = 0

    def take(self, raw: str, run: Run, path: str, line_no: int) -> bool:
        """Record `raw` when it is a line of the block; False when it ends the block."""
        m = _PAIR.match(raw.rstrip("\r\n"))
        if m is None or self.pairs >= MAX_PAIRS:
            return False
        indent, key, value = len(m.group("indent")), m.group("key"), m.group("value")
        value = value.rstrip() if value is not None else None
        while self.sections and self.sections[-1][0] >= indent:
            self.sections.pop()
        if value is None:  # "model:" opens a nested section
            self.sections.append((indent, key))
            return True
        dotted = ".".join([*(k for _, k in self.sections), key])
        run.put_config(ConfigValue(key=dotted, value=scalar(value), file=path, line=line_no, kind="log_line",
                                   text=value))
        self.pairs += 1
        return True


def opens_block(text: str) -> bool:
    """True for a line (logger prefix already stripped) that is a config header alone: `Config:`."""
    return _HEADER.match(text.strip()) is not None
