"""Just enough of the protobuf wire format to read one top-level string field of any message.

Completion requests of kinds our generated module lacks (``EntityBatchResult``) carry their
token at a known field number; reading it from the wire needs no schema.
"""

from __future__ import annotations


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def string_field(data: bytes, number: int) -> str:
    """The last value of top-level field ``number`` read as UTF-8 text ("" when absent).

    Raises:
        ValueError: The bytes are not a well-formed protobuf message.
    """
    found = b""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            if field == number:
                found = data[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated field")
    return found.decode("utf-8", errors="replace")
