"""The bulk path's number parser gives exactly Python's float() / int() of every printed number, or refuses the
block (None), whichever way the numbers are printed: fixed-width columns take the numpy read, others float()."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindoc.ingest.readers._number_columns import number_columns

FUZZ = settings(max_examples=300, deadline=None)


def bits(values) -> list[bytes]:
    """Bit patterns, so -0.0 differs from 0.0 and a NaN equals itself."""
    return [struct.pack("<d", float(v)) for v in values]


def expected(column: list[bytes], kind: type) -> list | None:
    try:
        values = [kind(s) for s in column]
    except ValueError:
        return None
    if kind is int and not all(-(2 ** 63) <= v < 2 ** 63 for v in values):
        return None
    return values


def check(column: list[bytes], kind: type) -> None:
    rows = [(s, b"") for s in column]  # the bulk path's rows end with the empty raw-line group
    got = number_columns(rows, [kind])
    want = expected(column, kind)
    if want is None:
        assert got is None
        return
    assert got is not None
    if kind is int:
        assert got[0].dtype == np.int64 and got[0].tolist() == want
    else:
        assert got[0].dtype == np.float64 and bits(got[0]) == bits(want)


@FUZZ
@given(values=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=60),
       decimals=st.integers(0, 12))
def test_fixed_point_columns_read_as_float_does(values, decimals):
    """The common case: "%.{d}f" numbers, of one width (the numpy read) or of several (float() per value)."""
    column = [f"{v:.{decimals}f}".encode() for v in values]
    check(column, float)
    width = max(map(len, column))
    check([s.rjust(width, b"0") for s in column], float)  # one width: zero-padded on the left


@FUZZ
@given(column=st.lists(st.text("0123456789.eE+-", min_size=1, max_size=18).map(str.encode), min_size=1,
                       max_size=30))
def test_any_string_of_the_layout_characters(column):
    """Strings the layout's number class lets through, numbers or not, e.g. "1-2", "1.2.3", "e5", "."."""
    check(column, float)
    width = len(column[0])
    check([s[:width].ljust(width, b"0") for s in column], float)  # the same width: the numpy read's checks


@FUZZ
@given(values=st.lists(st.integers(0, 10 ** 19), min_size=1, max_size=40), width=st.integers(1, 20))
def test_integer_columns_read_as_int_does(values, width):
    check([str(v).encode() for v in values], int)
    check([str(v).zfill(width).encode() for v in values], int)  # up to 18 digits: the numpy read


@pytest.mark.parametrize("column", [
    [b"1.234", b"1.23", b"12.345"],  # the right total length for three of width 5, but not one width
    [b"1.5", b"2.5", b"3.x"],
    [b"0.1", b"0.2", b"0.3"],
    [b"123456789012345", b"999999999999999"],  # 15 digits: the numpy read
    [b"9007199254740993", b"9007199254740995"],  # 16 digits: past 2**53, float() per value
    [b"1.00000000000001", b"9.99999999999999"],
    [b".5", b".7"], [b"5.", b"7."], [b".", b"."], [b"00", b"01"],
    [b"nan", b"inf"], [b"1e5", b"2E5"], [b"-1.5", b"-2.5"], [b"+1.5", b"+2.5"],
])
def test_edge_columns(column):
    check(column, float)


def test_steps_beyond_int64_refuse_the_block():
    assert number_columns([(b"9223372036854775808", b"")], [int]) is None
    assert number_columns([(b"9223372036854775807", b"")], [int])[0].tolist() == [2 ** 63 - 1]


def test_several_columns_and_kinds():
    rows = [(b"%d" % i, b"%.4f" % (2 + i / 7), b"152.33", b"", b"") for i in range(95, 105)]
    steps, loss, time_ms = number_columns(rows, [int, float, float])
    assert steps.tolist() == list(range(95, 105))
    assert bits(loss) == bits(float(r[1]) for r in rows) and time_ms.tolist() == [152.33] * 10
    assert math.isnan(number_columns([(b"nan", b"")], [float])[0][0])
