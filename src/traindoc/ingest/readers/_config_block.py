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

A nested config printed with no header of its own opens on its first section: minGPT's `CfgNode` (and nanoGPT
forks, yacs/OmegaConf `print(cfg)`) prints `system:` at column 0 and the settings indented under it (`    seed:
3407`, `trainer:` then `    learning_rate: 0.0005`, `    grad_norm_clip: 1.0`). Read line by line, those became a
one-point "lr" series and a "grad_norm_clip" metric. Such a section block opens on a line at column 0 that is a bare
identifier and a colon, and takes only what YAML nesting puts under a section: indented pairs, and further bare
section lines at column 0. A pair at column 0 ends it (a section holds nothing unindented), and so does any other
line. A heading that names a measurement or a split (`loss:`, `val:`, `metrics:`) never opens one: the indented
pairs under it are metrics (the metric block's case, _metric_block.py).
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


# a section heading alone at column 0: "trainer:" (an identifier, no value)
_SECTION = re.compile(r"^(?P<key>[A-Za-z_][\w\-]*):[ \t]*$")
# heading words whose indented lines are measurements, not settings: a metric, a split, a report or a counter
# (`val:`, `train_metrics:`, `epoch_3:`); "trainer" or "optimizer" are settings sections and stay allowed
_NOT_SECTION = frozenset(
    "loss losses acc accuracy score scores metric metrics result results eval evaluation val valid validation test "
    "testing train training dev error errors ppl perplexity reward summary stats statistics epoch step iter "
    "iteration".split())


class ConfigBlock:
    """The open block of one file: the section stack (indent, key) and how many pairs it took."""

    def __init__(self, nested_only: bool = False) -> None:
        self.sections: list[tuple[int, str]] = []
        self.pairs = 0
        # opened by a bare section line (see the module docstring): a pair at column 0 ends the block
        self.nested_only = nested_only

    def take(self, raw: str, run: Run, path: str, line_no: int) -> bool:
        """Record `raw` when it is a line of the block; False when it ends the block."""
        m = _PAIR.match(raw.rstrip("\r\n"))
        if m is None or self.pairs >= MAX_PAIRS:
            return False
        indent, key, value = len(m.group("indent")), m.group("key"), m.group("value")
        value = value.rstrip() if value is not None else None
        if self.nested_only and indent == 0 and value is not None:
            return False
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


def opens_section(raw: str) -> bool:
    """True for a raw line that is a bare config section heading at column 0 (`trainer:`), never a metric or
    split heading (`val:`, `loss:`)."""
    m = _SECTION.match(raw.rstrip("\r\n"))
    return m is not None and not _NOT_SECTION.intersection(re.split(r"[_\-]+", m.group("key").lower()))
