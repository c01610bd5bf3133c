"""Numbers a console prints as quoted strings inside key/value text: `'loss': '1.024392'`, `'loss': 'nan'`.

PaddleDetection's static-graph trainer formats each loss with '%.6f' and prints the dict of those strings after
`iter: N, lr: x,` (docs/references.md, Log formats); other scripts do the same whenever they log `str(value)` or a
formatted string in a dict. The quotes say nothing about the value, so the general key/value rules read the pair
once they are gone. Only Python-repr pairs (single quotes) on lines that are not themselves a dict are touched: a
`{'loss': ...}` line belongs to the Hugging Face console reader and a JSON object to the JSON-line rules, both of
which read quoted values themselves.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM

# 'key': 'number' (the key a metric-like identifier, the value one number and nothing else inside its quotes)
_QUOTED_PAIR = re.compile(rf"'([A-Za-z_][\w./@\-]*)'(\s*:\s*)'({NUM})'")


def unquote_numbers(text: str) -> str:
    """`iter: 20, 'loss': 'nan', 'name': 'ssd'` -> `iter: 20, loss: nan, 'name': 'ssd'`; other text unchanged."""
    if "'" not in text or text.lstrip().startswith("{"):
        return text
    return _QUOTED_PAIR.sub(r"\1\2\3", text)
