"""Where a protobuf message's bytes go wrong: a walk over the wire format, for error messages.

The protobuf parser says only that bytes are bad; this walk names the first problem with its
byte offset and field path (``OrchestratorRequest.newEvents[1].timestamp``), so a truncated or
damaged file is reported the way a person can act on.
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from engine.proto import orchestrator_service_pb2 as pb

MAX_DEPTH = 64
"""Nesting deeper than this is reported rather than walked."""


def walk_problem(data: bytes, descriptor: Descriptor) -> str:
    problem = _walk(data, 0, len(data), descriptor, descriptor.name, 0)
    return problem or "the protobuf parser rejected it (no offset found)"


def _read_varint(data: bytes, pos: int, end: int) -> tuple[int, int] | None:
    value = 0
    shift = 0
    while pos < end and shift < 70:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None


def _walk(data: bytes, pos: int, end: int, desc: Descriptor | None, path: str, depth: int) -> str:
    """Walk the wire format; return the first problem as text, or "" if none was found."""
    if depth > MAX_DEPTH:
        return f"{path}: nested more than {MAX_DEPTH} levels deep"
    counts: dict[int, int] = {}
    while pos < end:
        start = pos
        tag = _read_varint(data, pos, end)
        if tag is None:
            return f"{path}: field tag at byte {start} runs past the end of the input"
        key, pos = tag
        number, wire = key >> 3, key & 7
        field = desc.fields_by_number.get(number) if desc is not None else None
        name = _field_label(field, number, counts)
        where = f"{path}.{name}"
        if number == 0:
            return f"{path}: invalid field number 0 at byte {start}"
        if wire == 0:
            value = _read_varint(data, pos, end)
            if value is None:
                return f"{where} (varint at byte {start}) runs past the end of the input"
            pos = value[1]
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > end:
                return (
                    f"{where} (fixed {size}-byte value at byte {start}) runs past the end:"
                    f" {end - pos} bytes left"
                )
            pos += size
        elif wire == 2:
            length = _read_varint(data, pos, end)
            if length is None:
                return f"{where} (length at byte {pos}) runs past the end of the input"
            size, pos = length
            if pos + size > end:
                return (
                    f"{where} at byte {start} declares {size} bytes but only {end - pos}"
                    " remain (truncated)"
                )
            if field is not None and field.type == FieldDescriptor.TYPE_MESSAGE:
                inner = _walk(data, pos, pos + size, field.message_type, where, depth + 1)
                if inner:
                    return inner
            elif field is not None and field.type == FieldDescriptor.TYPE_STRING:
                try:
                    data[pos : pos + size].decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = pos + exc.start
                    return f"{where} (string at byte {pos}) is not valid UTF-8 at byte {bad}"
            pos += size
        else:
            return f"{path}: invalid wire type {wire} for field {number} at byte {start}"
    return ""


def is_repeated(field: FieldDescriptor) -> bool:
    repeated = getattr(field, "is_repeated", None)  # protobuf >= 6 drops ``label`` in time
    if repeated is None:
        return bool(field.label == FieldDescriptor.LABEL_REPEATED)
    return bool(repeated)


def _field_label(field: FieldDescriptor | None, number: int, counts: dict[int, int]) -> str:
    if field is None:
        return f"field#{number}"
    if is_repeated(field):
        index = counts.get(number, 0)
        counts[number] = index + 1
        return f"{field.name}[{index}]"
    return field.name


def fully_known(msg: Message, depth: int = 0) -> bool:
    """Whether every field of ``msg``, at every depth, is one its schema declares.

    Bytes of one message kind often parse as another (protobuf keeps what it does not know as
    unknown fields), so a kind is only recognised when nothing in it is unknown.
    """
    if depth > MAX_DEPTH or len(UnknownFieldSet(msg)):
        return False
    for field, value in msg.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            entry_value = field.message_type.fields_by_name["value"]
            if entry_value.type != FieldDescriptor.TYPE_MESSAGE:
                continue
            items = list(value.values())
        else:
            items = list(value) if is_repeated(field) else [value]
        if not all(fully_known(item, depth + 1) for item in items):
            return False
    return True


def first_field_problem(data: bytes) -> str:
    """Why the first field of ``data`` starts none of the messages a file may hold ("" if one)."""
    tag, pos = 0, 0
    for shift in range(0, 35, 7):
        if pos >= len(data):
            return "ends inside the first field's tag"
        byte = data[pos]
        pos += 1
        tag |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
    number, wire = tag >> 3, tag & 7
    if (number, wire) in FIRST_FIELDS:
        return ""
    return f"the first field (number {number}, wire type {wire}) starts no OrchestratorRequest"


def _wire_types(descriptor: Descriptor) -> set[tuple[int, int]]:
    """The ``(field number, wire type)`` pairs a message of ``descriptor`` may start with."""
    found: set[tuple[int, int]] = set()
    for field in descriptor.fields:
        name = field.type
        if name in (field.TYPE_STRING, field.TYPE_BYTES, field.TYPE_MESSAGE):
            found.add((field.number, 2))
        elif name in (field.TYPE_DOUBLE, field.TYPE_FIXED64, field.TYPE_SFIXED64):
            found.add((field.number, 1))
        elif name in (field.TYPE_FLOAT, field.TYPE_FIXED32, field.TYPE_SFIXED32):
            found.add((field.number, 5))
        elif name == field.TYPE_GROUP:
            found.add((field.number, 3))
        else:
            found.update({(field.number, 0), (field.number, 2)})  # packed repeated too
    return found


FIRST_FIELDS: set[tuple[int, int]] = set().union(
    *(
        _wire_types(kind.DESCRIPTOR)
        for kind in (
            pb.OrchestratorRequest,
            pb.WorkItem,
            pb.OrchestratorResponse,
            pb.ActivityRequest,
            pb.ActivityResponse,
        )
    )
)


# On the wire (the canonical encoding upb writes), a Timestamp or Duration value out of range
# takes a varint of six bytes or more (five continuation bytes in a row), or nanos of at least
# 1e9 in a five-byte varint after the nanos tag; a non-finite Value number is the
# number_value tag and eight bytes whose exponent bits are all ones. ``eventId -1`` (field 1,
# ten bytes), which sidecars write on most events, is not counted: it holds no time.
_EVENT_ID_MINUS_ONE = b"\x08" + b"\xff" * 9 + b"\x01"
_HIGH_BITS = bytes.maketrans(bytes(range(256)), bytes(b >> 7 for b in range(256)))
_FIVE_HIGH = b"\x01" * 5
# Nanos in a five-byte varint are 1e9 or more when the last byte is 4 or more, or when it is 3
# and the fourth byte's low bits are 93 or more; at 92 only the sum tells (the loop below: the
# match then holds the first three bytes in group 1 and the fourth in group 2). One scan finds
# both (each match is the tag alone, so no candidate hides another).
_NANOS_FIVE = re.compile(
    rb"\x10(?=([\x80-\xff]{3})(?:[\x80-\xff][\x04-\x7f]|[\xdd-\xff]\x03|(\xdc)\x03))"
)
# A non-finite double whose last two bytes are not both 0xff cannot overlap an eventId -1; one
# whose last two are is looked for only where no eventId -1 starts within its eight bytes (no
# real double can overlap one: the byte after it would start a tag of wire type 7, invalid).
_NON_FINITE_DOUBLE = re.compile(
    rb"\x11[\x00-\xff]{6}(?:[\xf0-\xfe][\x7f\xff]|\xff\x7f)"
    rb"|\x11(?![\x00-\xff]{0,5}\x08\xff{9}\x01)[\x00-\xff]{6}\xff\xff"
)


def may_be_out_of_range(wire: bytes) -> bool:
    """Whether serialized ``wire`` may hold a value a datetime or JSON cannot hold.

    A conservative scan in C: ``False`` means no Timestamp or Duration out of range and no
    non-finite ``Value`` number anywhere in it (nested or not, known field or not), so the
    event-by-event check can be skipped; ``True`` only means that check must run. Any
    encoding of a message will do (the bytes it was parsed from, or its serialization).
    """
    # Each eventId -1 holds one run of nine continuation bytes, so one run of five: any other
    # run of five or more is a varint of six bytes or more.
    if wire.translate(_HIGH_BITS).count(_FIVE_HIGH) != wire.count(_EVENT_ID_MINUS_ONE):
        return True
    if _NON_FINITE_DOUBLE.search(wire):
        return True
    for match in _NANOS_FIVE.finditer(wire):
        first, fourth = match.groups()
        if fourth is None:
            return True  # 1e9 or more by its last two bytes alone
        low = first + fourth
        value = sum((byte & 0x7F) << (7 * i) for i, byte in enumerate(low)) | 3 << 28
        if value >= 1_000_000_000:
            return True
    return False
