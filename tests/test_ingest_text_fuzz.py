"""Bad input for every reader of this area: truncated, binary, empty, wrong encoding, NaN/Inf, huge lines.

The contract (registry.py): a reader returns a Source (warnings allowed) or raises ReadError with one line. Any
other exception is a bug. Sniffers return a number in [0, 1] and never raise.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindoc.ingest import catalogue
from traindoc.ingest.model import Run, Source
from traindoc.ingest.readers import checkpoints, config_files, samples, text_log
from traindoc.ingest.readers.textlog_formats import FORMATS, State, normalise, parse_number
from traindoc.ingest.registry import ReadError

DATA = Path(__file__).parent / "data"

# (file name, sniff, read) for every reader this area owns.
READERS = [
    ("train.log", text_log.sniff, text_log.read),
    ("config.yaml", config_files.sniff_yaml, config_files.read_yaml),
    ("config.json", config_files.sniff_json, config_files.read_json),
    ("config.py", config_files.sniff_python, config_files.read_python),
    ("training_args.bin", config_files.sniff_training_args_bin, config_files.read_training_args_bin),
    ("model.safetensors", checkpoints.sniff, checkpoints.read),
    ("model.pt", checkpoints.sniff, checkpoints.read),
    ("samples.txt", samples.sniff, samples.read),
    ("samples.jsonl", samples.sniff, samples.read),
]

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check(tmp_path: Path, name: str, sniff, read, data: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    score = sniff(p, data[:65536])
    assert 0.0 <= score <= 1.0
    run = Run()
    try:
        src = read(p, run)
    except ReadError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg
        return
    assert isinstance(src, Source)
    run.finalize()


def _fixture_bytes() -> list[bytes]:
    files = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md")
    return [p.read_bytes() for p in files]


FIXTURES = _fixture_bytes()


@pytest.mark.parametrize("name, sniff, read", READERS, ids=[r[0] for r in READERS])
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(tmp_path, name, sniff, read, data):
    check(tmp_path, name, sniff, read, data)


@pytest.mark.parametrize("name, sniff, read", READERS, ids=[r[0] for r in READERS])
@FUZZ
@given(which=st.integers(min_value=0, max_value=max(len(FIXTURES) - 1, 0)), cut=st.floats(0, 1),
       flip=st.integers(min_value=0, max_value=255))
def test_truncated_and_corrupted_fixtures(tmp_path, name, sniff, read, which, cut, flip):
    """Real-looking files cut anywhere and with one byte changed: what a crash or a bad disk leaves."""
    data = FIXTURES[which]
    data = data[: int(len(data) * cut)]
    if data:
        i = flip % len(data)
        data = data[:i] + bytes([flip]) + data[i + 1:]
    check(tmp_path, name, sniff, read, data)


@pytest.mark.parametrize("name, sniff, read", READERS, ids=[r[0] for r in READERS])
@pytest.mark.parametrize("data", [
    b"",
    b"\n\n\n",
    b"\xff\xfe" + "iter 1: loss 2.0\n".encode("utf-16-le"),  # UTF-16 with BOM: the wrong encoding
    "itér 1: loss 2,5 - ünïcode\n".encode("latin-1"),
    b"iter 1: loss nan\niter 2: loss inf\niter 3: loss -inf\n",
    b"a: .nan\nb: -.inf\nc: NaN\n",
    b'{"lr": NaN, "x": Infinity}',
    b"x" * (300 * 1024) + b"\niter 5: loss 1.0\n",  # one huge line
    b"\r" * 10000,
    struct.pack("<Q", 2**63) + b"{}",
    b"PK\x03\x04" + b"\x00" * 100,
    b"\x80\x02}q\x00.",  # a pickled empty dict
], ids=["empty", "newlines", "utf16", "latin1", "nonfinite_log", "nonfinite_yaml", "nonfinite_json", "huge_line",
        "carriage_returns", "absurd_header", "empty_zip", "empty_pickle"])
def test_edge_cases(tmp_path, name, sniff, read, data):
    check(tmp_path, name, sniff, read, data)


@FUZZ
@given(text=st.text(max_size=400))
def test_line_parsers_and_catalogue_never_raise(text):
    line = normalise(text)
    for fmt in FORMATS:
        rec = fmt.parse(line.text, State())
        if rec is not None:
            assert all(isinstance(v, float) for v in rec.metrics.values())
    catalogue.classify(line.text)


@FUZZ
@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_numbers_round_trip(x):
    for text in (repr(x), f"{x:.6E}" if math.isfinite(x) else str(x)):
        got = parse_number(text)
        assert got is not None
        assert (math.isnan(got) and math.isnan(x)) or got == pytest.approx(x, rel=1e-6, abs=0)


def test_huge_log_line_memory_is_capped(tmp_path):
    p = tmp_path / "bar.log"
    with open(p, "wb") as f:
        f.write(b"iter 1: loss 2.0\n")
        for _ in range(40):
            f.write(b"\xe2\x96\x88" * (256 * 1024))  # 30 MB of progress-bar blocks on one line
        f.write(b"\niter 2: loss 1.0\n")
    run = Run()
    src = text_log.read(p, run)
    run.finalize()
    assert run.series("loss").values.tolist() == [2.0, 1.0]
    assert any("over-long" in w for w in src.warnings)
