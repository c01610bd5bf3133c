"""Logs saved as UTF-16 or with a BOM read as their UTF-8 originals (ingest/text_encoding.py).

Windows PowerShell 5's `python train.py > log.txt` writes UTF-16LE with a BOM and CRLF line ends; Notepad and many
Windows tools write a UTF-8 BOM. We cannot run PowerShell here, so each case re-encodes a log a real library wrote
(tests/data/ingest: the HF Trainer's console, Keras's CSVLogger and printed history, Rich's table; a printed array
of the real-world corpus) exactly as those tools would, in
the test, and the run read from it must be the run read from the original.
"""

from __future__ import annotations

import codecs
import io
import struct
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest import budget, text_encoding
from traindoc.ingest.loader import load_run

DATA = Path(__file__).parent / "data"
LOGS = [DATA / "ingest" / "hf_console_healthy.log", DATA / "ingest" / "keras_history" / "training.log",
        DATA / "ingest" / "rich_tables" / "epochs.log", DATA / "text_logs" / "pytorch_mnist.log",
        DATA / "ingest" / "keras_history" / "printed_history.txt",
        Path(__file__).parent / "corpus" / "realworld" / "g1-kur-22-val-loss-history-array-rises" / "run"
        / "val_loss_history.txt"]


def _powershell(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-16-le")


ENCODINGS = {
    "powershell_utf16le_bom_crlf": _powershell,
    "utf16be_bom": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf8_bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf8_bom_crlf": lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r\n").encode("utf-8"),
}


def _same_run(a_path: Path, b_path: Path) -> None:
    a, b = load_run([a_path]), load_run([b_path])
    assert a.metrics, "the original must read"
    assert sorted(a.metrics) == sorted(b.metrics)
    for name, s in a.metrics.items():
        t = b.metrics[name]
        assert s.raw_name == t.raw_name
        np.testing.assert_array_equal(s.steps, t.steps)
        np.testing.assert_array_equal(s.values, t.values)
    assert [(e.tag, e.step) for e in a.events] == [(e.tag, e.step) for e in b.events]


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("log", LOGS, ids=[p.name for p in LOGS])
def test_a_re_encoded_log_reads_as_its_original(tmp_path: Path, log: Path, encoding: str) -> None:
    copy = tmp_path / log.name
    copy.write_bytes(ENCODINGS[encoding](log.read_text(encoding="utf-8")))
    _same_run(log, copy)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_known_by_its_nul_pattern(tmp_path: Path, codec: str) -> None:
    log = DATA / "text_logs" / "pytorch_mnist.log"  # ASCII: every other byte is NUL once encoded
    copy = tmp_path / "log.txt"
    copy.write_bytes(log.read_text(encoding="utf-8").encode(codec))
    assert text_encoding.detect(copy.read_bytes()[:4096]) == codec
    _same_run(log, copy)


@pytest.mark.parametrize("binary", [
    DATA / "ingest" / "lightning_tb" / "version_0" / "events.out.tfevents.0.host",
    DATA / "ingest" / "mlflow_db" / "mlflow.db",
    DATA / "checkpoints" / "tiny_tied.pt",
    DATA / "checkpoints" / "tiny_tied.safetensors",
], ids=lambda p: p.name)
def test_binary_formats_are_never_transcoded(binary: Path) -> None:
    assert text_encoding.detect(binary.read_bytes()[:4096]) is None


def test_plain_utf8_is_passed_through_untouched() -> None:
    log = DATA / "ingest" / "hf_console_healthy.log"
    with budget.open_input(log) as f:
        assert f.read() == log.read_bytes()


def test_a_big_utf16_log_streams_in_blocks(tmp_path: Path) -> None:
    # 8 MiB of UTF-16 text read 1 MiB at a time: the transcoder holds no more than what was asked plus a block or
    # two (a whole-file decode would hold the file twice over), and a rewind to the start gives the same bytes
    # again (text_log re-reads its head)
    line = "iter 1: loss 2.5000\n"
    p = tmp_path / "big.log"
    p.write_bytes(_powershell(line * 200_000))
    with budget.open_input(p) as f:
        raw = f.raw
        assert isinstance(raw, text_encoding.Transcoded)
        first = f.read(4096)
        f.seek(0)
        assert f.read(4096) == first == (line * 300).replace("\n", "\r\n").encode()[:4096]
        peak = 0
        while chunk := f.read(1 << 20):
            peak = max(peak, len(raw._pending))
            assert chunk.count(b"\x00") == 0
    assert peak <= (1 << 20) + 2 * text_encoding.BLOCK


def test_a_transcoded_stream_refuses_a_seek_it_cannot_do() -> None:
    stream = text_encoding.Transcoded(io.BytesIO(_powershell("a\nb\n")), "utf-16")  # type: ignore[arg-type]
    assert stream.read() == b"a\r\nb\r\n"
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(3)


@pytest.mark.parametrize("length", [0x063FFFFE, 0x063FFEFF, 0x00BFBBEF])
def test_a_binary_header_starting_like_a_bom_is_not_text(length: int) -> None:
    # a safetensors file: an 8-byte little-endian header length, then JSON; lengths ending in FE FF / FF FE / EF BB BF
    # put a byte-order mark at the start of the file by chance (the budget tests' 100 MiB header did)
    data = struct.pack("<Q", length) + b'{"a": [{},{},{},{},{},{},{},{},{},{},{},{},{},{}]}'
    assert text_encoding.detect(data) is None
