"""Printed numbers, a table of them (one row of byte strings per log line), to numpy columns, for the text-log
reader's bulk path.

Every value is exactly Python's `int()` or `float()` of its string; when one string is not a number those read, the
answer is None and the caller reads the lines one by one. Speed comes from the usual case of a column printed with
one format ("%.4f" losses of one magnitude, "%d" steps of one digit count): such a column is a fixed-width matrix of
digits, read with a few numpy operations instead of one Python call per value (bench/RESULTS.md, "Text logs"). Any
other column takes `float()` per value.

Why the fixed-width read equals `float()`: d <= 15 digits with the point f digits from the end are the decimal
M / 10**f with M < 10**15 < 2**53, so M and 10**f are exact doubles and IEEE division rounds the exact quotient to
the nearest double, which is what `float()` returns for the decimal string.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

Kind = type  # `int` or `float`: what each string is read with
_MAX_DIGITS = {float: 15, int: 18}  # float: every mantissa an exact double; int: every value fits int64
_DTYPE = {float: np.float64, int: np.int64}
# Below this many rows the numpy read's fixed cost per column (a dozen numpy calls, ~30 us) exceeds float() per value
# (~0.25 us each): a log whose common lines alternate with others gives many short runs of rows.
MIN_FIXED_ROWS = 128
_ZERO, _POINT = ord("0"), ord(".")


def number_columns(rows: Sequence[tuple[bytes, ...]], kinds: Sequence[Kind],
                   min_fixed_rows: int = MIN_FIXED_ROWS) -> list[np.ndarray] | None:
    """The first len(kinds) groups of every row as arrays, int64 for `int` and float64 for `float`, or None.
    Later groups are not read (the bulk path's rows end with the group of the raw line, empty in its rows).
    The numpy read is tried on columns of at least `min_fixed_rows` rows."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(kinds)
    out = []
    for column, kind in zip(columns, kinds, strict=False):
        got = _fixed_width(column, kind) if len(column) >= min_fixed_rows else None
        if got is None:
            try:
                got = np.fromiter(map(kind, column), _DTYPE[kind], len(column))
            except (ValueError, OverflowError):  # not a number, or an integer that int64 cannot hold
                return None
        out.append(got)
    return out


def _fixed_width(column: tuple[bytes, ...], kind: Kind) -> np.ndarray | None:
    """The column's values when every string is digits of one width with (for `float`) at most one decimal point,
    at the same place in every string; else None."""
    if not column:
        return None
    n, width = len(column), len(column[0])
    point = column[0].find(b".")
    if (point >= 0 and kind is int) or not 0 < width - (point >= 0) <= _MAX_DIGITS[kind]:
        return None
    # each string followed by a "\n", as n rows of width + 1 bytes: when all bytes but the last of each row are
    # digits (or the point), the n newlines are all in the last column, so every string has the first one's width
    joined = b"\n".join(column) + b"\n"
    if len(joined) != n * (width + 1):
        return None
    table = np.frombuffer(joined, dtype=np.uint8).reshape(n, width + 1)
    if point >= 0 and not (table[:, point] == _POINT).all():
        return None
    digits = table - _ZERO  # uint8: every byte below "0" wraps round to above 9
    digits[:, width] = 0
    if point >= 0:
        digits[:, point] = 0
    if (digits > 9).any():
        return None
    weights, divisor = _place_values(width, point)
    mantissas = digits.astype(np.int64) @ weights
    if kind is int:
        return mantissas
    return mantissas / divisor if divisor != 1 else mantissas.astype(np.float64)


@cache  # few keys: widths are at most _MAX_DIGITS + 1
def _place_values(width: int, point: int) -> tuple[np.ndarray, float]:
    """Each byte's place value in the mantissa (0 for the point and the newline), and 10 ** (digits after the
    point)."""
    places = [i for i in range(width) if i != point]
    weights = np.zeros(width + 1, dtype=np.int64)
    weights[places] = 10 ** np.arange(len(places) - 1, -1, -1, dtype=np.int64)
    fraction = width - 1 - point if point >= 0 else 0
    return weights, float(f"1e{fraction}")  # parsed, so the nearest double: 10**f exactly for f <= 22


def table_columns(digits: np.ndarray, first: Sequence[bytes], starts: Sequence[int], kinds: Sequence[Kind]
                  ) -> list[np.ndarray] | None:
    """Numbers at fixed places of equal-length lines, for the bulk path's lines that differ from their first line
    only in digits (text_log._FastLines.same_shape_runs): `digits` is the lines as an (n, length) uint8 matrix less
    ord("0"), `first` the first line's number strings and `starts` where each begins. Each column must be digits
    with (for `float`) at most one decimal point, as `_fixed_width` takes it, else None; the values are the ones
    `_fixed_width` gives, i.e. exactly `int()` / `float()` of each string."""
    out = []
    for text, start, kind in zip(first, starts, kinds, strict=True):
        width, point = len(text), text.find(b".")
        if (point >= 0 and kind is int) or not 0 < width - (point >= 0) <= _MAX_DIGITS[kind]:
            return None
        if not text.replace(b".", b"", 1).isdigit():  # (bytes.isdigit: ASCII digits only)
            return None
        weights, divisor = _place_values(width, point)
        # the point's byte (ord(".") - ord("0") wrapped round) meets a place value of 0
        mantissas = digits[:, start:start + width] @ weights[:width]
        if kind is int:
            out.append(mantissas)
        else:
            out.append(mantissas / divisor if divisor != 1 else mantissas.astype(np.float64))
    return out
