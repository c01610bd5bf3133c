"""A run file's identity: sha256 of its bytes and its mtime, recorded in the diagnosis so that verify can tell a
retrained run from the diagnosed one (verify/freshness.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

MAX_HASH_BYTES = 1 << 30  # a log larger than this is not hashed (its time still counts)


def sha256_file(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_HASH_BYTES:
            return None
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def fingerprint(path: str) -> dict[str, Any]:
    """{"sha256", "mtime"} of one file a run is read from ({} for a folder or an unreadable path)."""
    p = Path(path)
    try:
        if not p.is_file():
            return {}
        mtime = p.stat().st_mtime
    except OSError:
        return {}
    sha = sha256_file(p)
    return {"sha256": sha, "mtime": mtime} if sha else {"mtime": mtime}
