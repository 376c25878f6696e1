"""The wire scan's nanos check: a five-byte varint after the nanos tag is flagged exactly when
its value is 1e9 or more (the check reads the bytes with regular expressions, not a loop)."""

from __future__ import annotations

import itertools

from engine._wire import may_be_out_of_range


def _value(low: bytes, last: int) -> int:
    return sum((byte & 0x7F) << (7 * i) for i, byte in enumerate(low)) | last << 28


def test_every_last_and_fourth_byte_is_judged_by_the_value() -> None:
    firsts = (0x80, 0x81, 0xC0, 0xFE, 0xFF)
    for last, fourth in itertools.product(range(0x80), range(0x80, 0x100)):
        for first in firsts:
            low = bytes((first, 0xFF - (first & 0x0F), first ^ 0x7F | 0x80, fourth))
            wire = b"\x0a\x02ab" + b"\x10" + low + bytes((last,)) + b"\x18\x01"
            assert may_be_out_of_range(wire) == (_value(low, last) >= 1_000_000_000), wire


def test_the_boundary() -> None:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    for nanos in (999_999_999, 1_000_000_000, 805_306_368, 999_000_000, 1_073_741_823):
        wire = b"\x10" + varint(nanos)
        assert len(wire) == 6
        assert may_be_out_of_range(wire) == (nanos >= 1_000_000_000), nanos
