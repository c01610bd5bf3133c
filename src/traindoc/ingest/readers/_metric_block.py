"""Metrics printed as a block under a split heading are that split's metrics, read as one line.

PyTorch-Ignite's examples log each evaluation as a heading and one indented `name: value` line per metric
(`log_metrics` in its cifar10 example; many scripts print `for k, v in metrics.items(): print(f"\\t{k}: {v}")`):

    Epoch 1 - Evaluation time (seconds): 0.10 - val metrics:
     <TAB>loss: 1.5982478857040405
    <TAB>accuracy: 0.6796875

Read line by line, `loss: 1.598` joins the training loss (nothing on its line names the split). A heading is a line
that ends with a split word, optionally followed by "metrics"/"results"/"scores", and a colon (`val metrics:`,
`Validation:`, `Test results:`); the block holds the indented `name: value` lines right after it and ends at the
first line that is not one. It is handed on as one line, `<heading text> <split>: name: value name: value`, so the
generic rules read it as any line with a split marker (the heading's epoch or step included).
"""

from __future__ import annotations

import re

MAX_LINES = 64  # a block is a handful of metrics; a longer run of indented pairs is something else (a config dump)
_WORDS = r"train|training|valid|validation|val|eval|evaluation|test|testing|dev"
_HEADING = re.compile(rf"^(?P<head>.*?)(?<![\w/.-])(?P<word>{_WORDS})(?:\s+(?:metrics|results|scores))?\s*:\s*$",
                      re.IGNORECASE)
# an indented metric line: indentation, a name, a colon, one number (the reader's own number syntax parses it)
_PAIR = re.compile(r"^[ \t]+(?P<key>[A-Za-z_][\w./@-]*)\s*:\s*(?P<value>[-+]?[\w.]+)\s*$")


class MetricBlock:
    """The open block: its heading and the pairs taken so far."""

    def __init__(self, head: str, word: str, at: int) -> None:
        self.head, self.word, self.at = head.strip(" -|"), word, at
        self.pairs: list[str] = []

    def take(self, raw: str) -> bool:
        """Keep `raw` when it is an indented metric line of the block; False when it ends the block."""
        m = _PAIR.match(raw.rstrip("\r\n"))
        if m is None or len(self.pairs) >= MAX_LINES:
            return False
        self.pairs.append(f"{m.group('key')}: {m.group('value')}")
        return True

    def line(self) -> str | None:
        """The block as one line, or None when no metric line followed the heading."""
        if not self.pairs:
            return None
        return f"{self.head} {self.word}: {' '.join(self.pairs)}".strip()


def opens_block(text: str, line_no: int) -> MetricBlock | None:
    """A block for a heading line (logger prefix already stripped) that ends with a split word and a colon."""
    if not text or text[-1] != ":" or len(text) > 400:
        return None
    m = _HEADING.match(text.rstrip())
    return MetricBlock(m.group("head"), m.group("word"), line_no) if m else None
