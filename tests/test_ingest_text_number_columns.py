"""The bulk path's number parser gives exactly Python's float() / int() of every printed number, or refuses the
block (None), whichever way the numbers are printed: fixed-width columns take the numpy read, others float()."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindoc.ingest.readers._number_columns import MIN_FIXED_ROWS, number_columns

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
    want = expected(column, kind)
    for min_fixed_rows in (1, MIN_FIXED_ROWS):  # the numpy read on these few rows, and float() per value
        got = number_columns(rows, [kind], min_fixed_rows)
        if want is None:
            assert got is None
        elif kind is int:
            assert got is not None and got[0].dtype == np.int64 and got[0].tolist() == want
        else:
            assert got is not None and got[0].dtype == np.float64 and bits(got[0]) == bits(want)


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


@st.composite
def one_width_column(draw) -> list[bytes]:
    """Strings of one width: digits with the point anywhere or nowhere, so the first string's point place need
    not be the others'."""
    width = draw(st.integers(1, 17))
    points = st.one_of(st.none(), st.integers(0, width - 1))
    return [b"".join(b"." if i == at else b"%d" % d for i, d in enumerate(digits)) for digits, at in draw(
        st.lists(st.tuples(st.lists(st.integers(0, 9), min_size=width, max_size=width), points), min_size=1,
                 max_size=20))]


@FUZZ
@given(column=one_width_column())
def test_one_width_columns_with_points_anywhere(column):
    check(column, float)
    check(column, int)


@FUZZ
@given(values=st.lists(st.integers(0, 10 ** 19), min_size=1, max_size=40), width=st.integers(1, 20))
def test_integer_columns_read_as_int_does(values, width):
    check([str(v).encode() for v in values], int)
    check([str(v).zfill(width).encode() for v in values], int)  # up to 18 digits: the numpy read


@pytest.mark.parametrize("column", [
    [b"1.234", b"1.23", b"12.345"],  # the right total length for three of width 5, but not one width
    [b"1.5", b"2.5", b"3.x"], [b"1.5", b"125"], [b"1.5", b"1-5"], [b"125", b"1.5"],
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
    check([b"9223372036854775808"], int)
    assert number_columns([(b"9223372036854775808", b"")], [int]) is None
    assert number_columns([(b"9223372036854775807", b"")], [int])[0].tolist() == [2 ** 63 - 1]


@pytest.mark.parametrize("n", [10, 1000])
def test_several_columns_and_kinds(n):
    """A block of nanoGPT lines: steps crossing a power of ten (two widths), one varying and one constant column."""
    rows = [(b"%d" % i, b"%.4f" % (2 + i / 7e4), b"152.33", b"", b"") for i in range(995, 995 + n)]
    steps, loss, time_ms = number_columns(rows, [int, float, float])
    assert steps.tolist() == list(range(995, 995 + n))
    assert bits(loss) == bits(float(r[1]) for r in rows) and time_ms.tolist() == [152.33] * n
    assert math.isnan(number_columns([(b"nan", b"")], [float])[0][0])
