"""A deterministic filler for protobuf messages, driven only by their descriptors.

Shared by the wire tests of both dialects (``tests/test_wire.py`` for Microsoft's,
``tests/dapr_workflow/wire_check.py`` for Dapr's). It imports no generated module, so it can run in
a process that holds either SDK's.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

MAX_DEPTH = 4


_INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_UINT_TYPES = {
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
}


class Filler:
    """Sets every field of a message from a running counter.

    Two fillers walking structurally identical descriptors produce identical messages, whatever
    file or package the descriptors come from.

    Args:
        forced: Oneof choices for the top-level message, ``{oneof name: member name}``.
    """

    def __init__(self, forced: dict[str, str] | None = None) -> None:
        self.counter = 0
        self.forced = forced or {}

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def scalar(self, field: FieldDescriptor) -> Any:
        n = self._next()
        t = field.type
        if t in _INT_TYPES:
            return -n if n % 2 else n * 1000  # negative values exercise 10-byte varints
        if t in _UINT_TYPES:
            return n * 7
        if t == FieldDescriptor.TYPE_BOOL:
            return True
        if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return n + 0.5
        if t == FieldDescriptor.TYPE_STRING:
            return f"{field.name}-{n}-\u00e9\u2603"
        if t == FieldDescriptor.TYPE_BYTES:
            return bytes([0, 255, n % 256])
        if t == FieldDescriptor.TYPE_ENUM:
            nonzero = [v.number for v in field.enum_type.values if v.number != 0]
            return nonzero[n % len(nonzero)] if nonzero else 0
        raise AssertionError(f"unhandled field type {t} on {field.full_name}")

    def fill(self, msg: Any, depth: int = 0, top: bool = True) -> Any:
        desc: Descriptor = msg.DESCRIPTOR
        name = desc.full_name
        if name == "google.protobuf.Timestamp":
            msg.seconds = 1_700_000_000 + self._next()
            msg.nanos = 123_000_000
            return msg
        if name == "google.protobuf.Duration":
            msg.seconds = self._next()
            msg.nanos = 500_000_000
            return msg
        if name == "google.protobuf.Value":
            self._fill_value(msg, depth)
            return msg

        chosen: dict[str, str] = {}
        for oneof in desc.oneofs:
            members = sorted(oneof.fields, key=lambda f: f.number)
            if top and oneof.name in self.forced:
                chosen[oneof.name] = self.forced[oneof.name]
                continue
            usable = [f for f in members if f.message_type is None or depth < MAX_DEPTH]
            if usable:
                chosen[oneof.name] = usable[self._next() % len(usable)].name

        for field in sorted(desc.fields, key=lambda f: f.number):
            oneof = field.containing_oneof
            if oneof is not None and chosen.get(oneof.name) != field.name:
                continue
            self._fill_field(msg, field, depth)
        return msg

    def _fill_value(self, msg: Any, depth: int) -> None:
        if depth >= MAX_DEPTH:
            msg.string_value = f"v{self._next()}"
            return
        msg.struct_value.fields["text"].string_value = f"t{self._next()}"
        msg.struct_value.fields["number"].number_value = self._next() + 0.25
        msg.struct_value.fields["flag"].bool_value = True
        msg.struct_value.fields["nothing"].null_value = 0
        items = msg.struct_value.fields["items"].list_value
        items.values.add().string_value = "a"
        items.values.add().number_value = 2

    def _fill_field(self, msg: Any, field: FieldDescriptor, depth: int) -> None:
        is_message = field.message_type is not None
        if is_message and field.message_type.GetOptions().map_entry:
            if depth >= MAX_DEPTH:
                return
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            container = getattr(msg, field.name)
            for _ in range(2):
                key = self.scalar(key_field)
                if value_field.message_type is not None:
                    self.fill(container[key], depth + 1, top=False)
                else:
                    container[key] = self.scalar(value_field)
            return
        if is_message and depth >= MAX_DEPTH:
            return
        if field.is_repeated:
            container = getattr(msg, field.name)
            for _ in range(2):
                if is_message:
                    self.fill(container.add(), depth + 1, top=False)
                else:
                    container.append(self.scalar(field))
            return
        if is_message:
            sub = getattr(msg, field.name)
            sub.SetInParent()  # keeps empty messages (e.g. HealthPing) present on the wire
            self.fill(sub, depth + 1, top=False)
            return
        setattr(msg, field.name, self.scalar(field))


def variants(desc: Descriptor) -> list[dict[str, str]]:
    """One oneof choice per member of every oneof (a single empty choice if there are none)."""
    result = [
        {oneof.name: member.name}
        for oneof in desc.oneofs
        for member in sorted(oneof.fields, key=lambda f: f.number)
    ]
    return result or [{}]


def ser(msg: Any) -> bytes:
    data: bytes = msg.SerializeToString(deterministic=True)
    return data


def as_json(msg: Any) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(msg)
    return result


def all_set_fields(msg: Any) -> set[str]:
    """Full names of every field set anywhere in msg (to prove the filler reached them)."""
    seen: set[str] = set()
    for field, value in msg.ListFields():
        seen.add(field.name if field.containing_type is None else field.full_name)
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is None:
                continue
            items = list(value.values())
        else:
            items = list(value) if field.is_repeated else [value]
        for item in items:
            seen |= all_set_fields(item)
    return seen
