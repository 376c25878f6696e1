"""Protobuf maps as dicts in key order.

A map has no order, and the order upb iterates one in changes from one process to the next
(and with the order its entries were added): a dict built by iterating it would make every
document written from it (``inspector show --json``, the TUI's details) differ between two runs
on the same file. Every map the engine turns into plain values goes through here.
"""

from __future__ import annotations

from typing import Any

_JSON_TYPES = frozenset(
    {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
)
"""Well-known types mapped to arbitrary JSON: every object in it is a ``Struct``'s map."""


def sorted_map(found: Any) -> dict[Any, Any]:
    """A map of scalars (``tags``, say) as a dict in key order."""
    # Most messages carry an empty map: asking its length is cheaper than sorting nothing.
    return dict(sorted(found.items())) if found else {}


def sorted_json(value: Any) -> Any:
    """JSON values (a ``Struct`` or ``Value`` mapped) with every object in key order."""
    if isinstance(value, dict):
        return {k: sorted_json(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_json(v) for v in value]
    return value


def message_dict(msg: Any, *, preserving_proto_field_name: bool = False) -> dict[str, Any]:
    """``json_format.MessageToDict(msg)`` with every map in it (at any depth) in key order.

    Message fields keep their order (the field numbers'); only maps, and the objects of
    ``Struct`` values, are sorted.
    """
    from google.protobuf import json_format

    found: dict[str, Any] = json_format.MessageToDict(
        msg, preserving_proto_field_name=preserving_proto_field_name
    )
    return _message(found, msg.DESCRIPTOR, preserving_proto_field_name)


def _message(found: dict[str, Any], descriptor: Any, by_name: bool) -> dict[str, Any]:
    for field in descriptor.fields:
        key = field.name if by_name else field.json_name
        kind = field.message_type
        if kind is None or key not in found:
            continue
        value = found[key]
        if kind.GetOptions().map_entry:
            entry = kind.fields_by_name["value"].message_type
            found[key] = {
                k: (v if entry is None else _value(v, entry, by_name))
                for k, v in sorted(value.items())
            }
        elif isinstance(value, list):  # repeated, or a ListValue: element by element
            found[key] = [_value(v, kind, by_name) for v in value]
        else:
            found[key] = _value(value, kind, by_name)
    return found


def _value(value: Any, descriptor: Any, by_name: bool) -> Any:
    if descriptor.full_name in _JSON_TYPES:
        return sorted_json(value)
    if isinstance(value, dict) and not descriptor.full_name.startswith("google.protobuf."):
        return _message(value, descriptor, by_name)
    return value  # a Timestamp's, Duration's or wrapper's text or number; an Any as mapped
