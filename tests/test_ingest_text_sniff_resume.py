"""The text-log reader carries on the detection sniff() made instead of parsing the head again (a speed-up only):
what it reads must not depend on whether, or what, was sniffed before; and the binary test counts control bytes as
the per-byte definition does."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log


def _log(n: int, first: str = "epoch 1/3") -> str:
    # a header the families keep state from, then "step: N loss: x" lines: both the short (all sniffed) and the long
    # (head longer than sniff's 400 frames) case
    lines = [first, "| step | loss | lr |", "|---|---|---|"]
    lines += [f"step: {i} loss: {2.0 / (i + 1):.4f} lr: 0.001" for i in range(n)]
    return "\n".join(lines) + "\n"


def _read(path: Path) -> tuple:
    run = Run()
    src = text_log.read(path, run)
    run.finalize()
    series = {k: (s.steps.tolist(), [v if math.isfinite(v) else str(v) for v in s.values.tolist()])
              for k, s in sorted(run.metrics.items())}
    return src.format, src.records, src.warnings, series, [(e.kind, e.message, e.step) for e in run.events]


@pytest.mark.parametrize("n", [30, 1500])
def test_read_after_sniff_resumes_and_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    monkeypatch.setattr(text_log, "_SNIFFED", [])
    path = tmp_path / "train.log"
    path.write_text(_log(n))
    fresh = _read(path)  # nothing sniffed: a detection of its own
    assert text_log.sniff(path, path.read_bytes()[:64 * 1024]) >= 0.55
    assert len(text_log._SNIFFED) == 1
    assert _read(path) == fresh
    assert text_log._SNIFFED == []  # the sniffed detection was carried on (and taken)


def test_resumed_detection_counts_as_a_fresh_one() -> None:
    lines = _log(900).splitlines()
    det = text_log._Detection()
    det.feed(lines[:400])
    text_log._SNIFFED[:] = [det]
    try:
        assert text_log._resume(lines).hits == text_log.detect(lines)[0]
    finally:
        text_log._SNIFFED.clear()


def test_a_sniffed_head_that_differs_is_not_carried_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_log, "_SNIFFED", [])
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text(_log(30, first="epoch 2/3"))
    b.write_text(_log(30))
    fresh = _read(b)
    text_log.sniff(a, a.read_bytes())
    assert _read(b) == fresh
    assert len(text_log._SNIFFED) == 1  # a's detection stays unused


def test_binary_test_counts_control_bytes_as_defined() -> None:
    def by_byte(head: bytes) -> bool:
        sample = head[:8192]
        bad = sum(1 for b in sample if b < 8 or 13 < b < 27 or 27 < b < 32)
        return bool(sample) and bad > len(sample) * 0.05

    rng = random.Random(7)
    samples = [b"", b"loss 1.0\n", bytes(range(256)), b"\x1b[32mok\x1b[0m\r\n\b\t" * 50]
    alphabet = b"abc \n\x00\x01\x0e\x1b\x1f"
    samples += [bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 9000))) for _ in range(40)]
    for s in samples:
        assert text_log._looks_binary(s) == by_byte(s)
