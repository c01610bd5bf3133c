"""Recognise the files traindoc itself writes, so that `diagnose` never reads its own outputs back in.

`traindoc diagnose . -o .traindoc/diagnosis.json` followed by a second `traindoc diagnose .` must give the same
answer: read back, a diagnosis.json would be taken for a JSON config (hundreds of keys such as `confidence`), a
plan.json's hunks for code, a report.html for a log. The `.traindoc/` folder is skipped by the walk; files written
elsewhere with `-o`/`--html` are recognised by their content, since a user may name them anything.

The shapes (src/traindoc/schemas/*.schema.json): every JSON document starts with `"schema_version"` (the builders
write it first) and carries `verdict` right after it (diagnosis), or `plan_id` (plan and apply report). The HTML
reports have a `<title>traindoc diagnosis:` or `<title>traindoc verify:` in their head. A training config or log
holds none of these pairs.
"""

from __future__ import annotations

import re

# The folder the skills and `apply` write into (see apply/transaction.py STATE_DIR).
OWN_DIR = ".traindoc"

# The first key of every JSON document traindoc writes, near the start (json.dumps with any indent).
_JSON_START = re.compile(rb'\A\s*\{\s*"schema_version"\s*:\s*"')
_HTML_TITLE = re.compile(rb"<title>traindoc (?:diagnosis|verify):", re.IGNORECASE)


def is_own_output(head: bytes) -> bool:
    """True when `head` (the first bytes of a file) is a diagnosis, plan or apply report that traindoc wrote."""
    if _JSON_START.match(head):
        return b'"verdict"' in head or b'"plan_id"' in head
    return bool(_HTML_TITLE.search(head[:4096]))
