"""The few protobuf wire-format primitives the binary readers need (TensorBoard events, W&B `.wandb` records),
decoded by hand so that neither TensorFlow nor the wandb SDK is required. Not a reader: it exposes no READERS."""

from __future__ import annotations


class Corrupt(Exception):
    """Bytes that do not decode as protobuf; callers turn it into a warning or a ReadError."""


def varint(buf: bytes, p: int) -> tuple[int, int]:
    """(value, next offset) of the base-128 varint at `p`."""
    result = shift = 0
    while True:
        b = buf[p]
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, p
        shift += 7
        if shift > 63:
            raise Corrupt("varint too long")


def skip(buf: bytes, p: int, wire: int) -> int:
    """Offset just past a field of wire type `wire` whose value starts at `p`."""
    if wire == 0:
        return varint(buf, p)[1]
    if wire == 1:
        return p + 8
    if wire == 2:
        n, p = varint(buf, p)
        return p + n
    if wire == 5:
        return p + 4
    raise Corrupt(f"wire type {wire}")
