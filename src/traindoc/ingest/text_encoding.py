"""Logs saved in an encoding other than plain UTF-8, turned into UTF-8 while they stream.

Windows PowerShell 5's `python train.py > log.txt` writes UTF-16LE with a byte-order mark (its `>` is `Out-File`,
whose default encoding is "Unicode"); Notepad and Excel's "Unicode text" do the same, and many Windows tools write
UTF-8 with a BOM. Every reader of this package parses UTF-8 bytes, so a UTF-16 log read as is has a NUL between
every two characters and matches nothing, and a UTF-8 BOM glues itself to the first line's first word.

`detect(head)` names the encoding from the BOM, or, for UTF-16 written without one, from the NUL pattern of ASCII
text (every other byte zero); `Transcoded` re-encodes the stream to UTF-8 a block at a time, so a multi-GB log
costs no more memory than a small one and the read budget (ingest/budget.py) still meters the bytes on disk.
Binary formats never match: their heads (TFRecord lengths, pickles, zips, SQLite, numpy) neither start with a BOM
nor have the strict alternating-NUL pattern over their first bytes.
"""

from __future__ import annotations

import codecs
import io

UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 4096
BLOCK = 1 << 16
# Without a BOM, UTF-16 ASCII text has a NUL in every other byte and none in the others. Real text in UTF-16 can
# hold a few non-ASCII characters (a "µs", a box-drawing bar), so the pattern must hold for nearly all pairs, not
# all; 0.95 of the pairs of the first 4 KiB leaves room for one such character in twenty while a binary header
# (a few zero bytes among counts and floats) falls far below it.
NUL_PATTERN_SHARE = 0.95
MIN_PAIRS = 8  # fewer than this: too little text to call it UTF-16


def detect(head: bytes) -> str | None:
    """The codec that turns this file into text, when it is not plain UTF-8: "utf-16" (a BOM of either order,
    consumed by the decoder), "utf-16-le" / "utf-16-be" (no BOM, from the NUL pattern), "utf-8-sig" (a UTF-8
    BOM); None for everything else."""
    # A BOM is two or three bytes that a binary header can begin with by chance (a safetensors header length of
    # 0x...FFFE), so the text after it must also read as text.
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16"), (UTF8_BOM, "utf-8-sig")):
        if head.startswith(bom):
            return codec if _reads_as_text(head[:SNIFF_BYTES], codec) else None
    sample = head[:SNIFF_BYTES]
    pairs = len(sample) // 2
    if pairs < MIN_PAIRS:
        return None
    even, odd = sample[0:pairs * 2:2], sample[1:pairs * 2:2]
    for text, zeros, codec in ((even, odd, "utf-16-le"), (odd, even, "utf-16-be")):
        nul = zeros.count(0)
        if nul >= NUL_PATTERN_SHARE * pairs and text.count(0) == 0 and _mostly_printable(text):
            return codec
    return None


def _reads_as_text(sample: bytes, codec: str) -> bool:
    """The sample decodes (a character cut at the end aside) to text with no NUL and nearly all characters
    printable or layout (tabs, line ends, the escape and backspace of terminal progress bars)."""
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(sample)
    if not text or "\x00" in text:
        return False
    ok = sum(1 for c in text if c.isprintable() or c in "\t\n\r\x1b\b\x0c")
    return text.count("\ufffd") <= 2 and ok >= NUL_PATTERN_SHARE * len(text)


def _mostly_printable(b: bytes) -> bool:
    """The low bytes of ASCII text: printable characters, tabs and line ends (not the arbitrary bytes of a binary
    header that happens to have zeros in every other place, such as an array of small int16 counts)."""
    ok = sum(1 for c in b if 32 <= c < 127 or c in (9, 10, 13))
    return ok >= NUL_PATTERN_SHARE * len(b)


class Transcoded(io.RawIOBase):
    """A raw stream giving the UTF-8 encoding of `raw` decoded with `codec`. Seekable back to the start only
    (readers re-read a file from its first byte after sniffing its head); undecodable bytes become U+FFFD."""

    def __init__(self, raw: io.RawIOBase, codec: str) -> None:
        super().__init__()
        self._raw = raw
        self._codec = codec
        self._reset()

    def _reset(self) -> None:
        self._decoder = codecs.getincrementaldecoder(self._codec)(errors="replace")
        self._pending = bytearray()
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if (whence == io.SEEK_SET and pos == self._pos) or (whence == io.SEEK_CUR and pos == 0):
            return self._pos
        if whence == io.SEEK_SET and pos == 0:
            self._raw.seek(0)
            self._reset()
            return 0
        raise io.UnsupportedOperation("a transcoded log can only be rewound to its start")

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        want = len(b)
        while len(self._pending) < want and not self._eof:
            chunk = self._raw.read(BLOCK)
            if not chunk:
                self._eof = True
                self._pending += self._decoder.decode(b"", final=True).encode("utf-8")
            else:
                self._pending += self._decoder.decode(chunk).encode("utf-8")
        n = min(want, len(self._pending))
        memoryview(b)[:n] = self._pending[:n]
        del self._pending[:n]
        self._pos += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()
