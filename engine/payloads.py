"""JSON payloads (inputs, results, event data) encoded and decoded exactly as the SDK does.

The SDK's default data converter decides every case it owns; plain JSON values take a faster
path that gives the same text and the same values.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from engine import sdk


class _DaprJson:
    """Dapr's fork encodes every payload with its ``shared.to_json``/``from_json`` (no types)."""

    def __init__(self) -> None:
        shared = sdk.module("internal.shared")
        self._to_json = shared.to_json
        self._from_json = shared.from_json

    def serialize(self, value: Any) -> str | None:
        return None if value is None else self._to_json(value)  # type: ignore[no-any-return]

    def deserialize(self, data: str, expected: Any = None) -> Any:
        return self._from_json(data)


_type_discovery: Any = None
if sdk.is_dapr():
    _CONVERTER: Any = _DaprJson()
else:
    from durabletask.serialization import DEFAULT_DATA_CONVERTER as _CONVERTER

    try:  # return-type discovery keeps decoded results equal to the SDK's
        from durabletask.internal import type_discovery as _type_discovery
    except ImportError:  # pragma: no cover - older SDKs
        pass

_LEGACY_MARKER = "__durabletask_autoobject__"


def _legacy_object(d: dict[str, Any]) -> Any:
    # Payloads written by old SDK versions mark auto-serialized objects; they decode to namespaces.
    if d.pop(_LEGACY_MARKER, False):
        return SimpleNamespace(**d)
    return d


_DECODER = json.JSONDecoder(object_hook=_legacy_object)
_encode_str = json.encoder.encode_basestring_ascii
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]
_OUTPUT_TYPES: dict[Any, Any] = {}


_DECODED: dict[str, Any] = {}
"""Short payloads already decoded to a value nothing can change (results repeat)."""
_KEPT = frozenset({int, str, bool, type(None)})  # not float: a NaN is not equal to itself


def decode(data: str, expected: type | None = None) -> Any:
    """Decode a JSON payload exactly as the SDK's default data converter does, faster.

    Without an expected type one shared decoder serves every call (and a short payload that
    decodes to an immutable value is kept); with one (or anything unusual) the SDK's converter
    decides.
    """
    if expected is None:
        value = _DECODED.get(data, _DECODED)
        if value is not _DECODED:
            return value
        if not data.startswith("\ufeff"):
            try:
                value, end = _SCAN(data, 0)
            except StopIteration:
                return _DECODER.decode(data)  # raises the decoder's own error
            if end != len(data):
                return _DECODER.decode(data)  # surrounding white space, or trailing garbage
            if type(value) in _KEPT and len(data) <= 64 and len(_DECODED) < 4096:
                _DECODED[data] = value
            return value
    return _CONVERTER.deserialize(data, expected)


def known_results(decoder: Any) -> dict[str, Any]:
    """The values ``decoder`` is known to give, by payload text (read only): the texts
    :func:`decode` keeps; none for another decoder (an app's converter)."""
    return _DECODED if decoder is decode else {}


def encode(value: Any) -> str | None:
    """Encode a value as JSON exactly as the SDK's default data converter does, faster.

    Values plain JSON can hold go through the standard encoder; the converter's hooks (to_json,
    dataclasses, enums, namespaces) only ever apply to values it cannot, so those go to it.
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    try:
        return json.dumps(value)
    except TypeError:
        return _CONVERTER.serialize(value)


def activity_output_type(fn: Any) -> Any:
    """The activity's declared result type as the SDK discovers it (cached per function)."""
    if _type_discovery is None:
        return None
    try:
        return _OUTPUT_TYPES[fn]
    except KeyError:
        found = _type_discovery.activity_output_type(fn, _CONVERTER)
        _OUTPUT_TYPES[fn] = found
        return found
    except TypeError:  # unhashable callable
        return _type_discovery.activity_output_type(fn, _CONVERTER)


class Codec:
    """Payloads encoded and decoded with one data converter, as the SDK's worker does.

    The default codec uses the fast functions above (the SDK's default converter's results);
    an app's own converter (``TaskHubGrpcWorker(data_converter=...)``) decides every payload.
    """

    def __init__(self, converter: Any = None) -> None:
        self.converter: Any = _CONVERTER if converter is None else converter
        self.custom = converter is not None
        self._input_types: dict[Any, Any] = {}
        """Each orchestrator's declared input type, discovered once."""
        if self.custom:
            self.encode: Any = self.converter.serialize
            self.decode: Any = self.converter.deserialize
        else:
            self.encode = encode
            self.decode = decode

    def activity_output_type(self, fn: Any) -> Any:
        """The activity's declared result type, as the SDK discovers it for this converter."""
        if not self.custom:
            return activity_output_type(fn)
        if _type_discovery is None:
            return None
        return _type_discovery.activity_output_type(fn, self.converter)

    def orchestrator_input_type(self, fn: Any) -> Any:
        """The orchestrator's declared input type, as the SDK discovers it (once per fn: a
        worker's user process asks it every turn)."""
        if _type_discovery is None:
            return None
        known = self._input_types
        try:
            return known[fn]
        except KeyError:
            found = known[fn] = _type_discovery.orchestrator_input_type(fn, self.converter)
            return found
        except TypeError:  # an unhashable callable
            return _type_discovery.orchestrator_input_type(fn, self.converter)

    def activity_input_type(self, fn: Any) -> Any:
        """The activity's declared input type, as the SDK discovers it."""
        if _type_discovery is None:
            return None
        return _type_discovery.activity_input_type(fn, self.converter)


DEFAULT_CODEC = Codec(_CONVERTER if sdk.is_dapr() else None)
"""The SDK's default JSON payloads (Dapr's fork: its own encoder, for every payload)."""


# --- large payloads ------------------------------------------------------------------------
# A worker with a payload store (``TaskHubGrpcWorker(payload_store=...)``) keeps large
# ``StringValue`` payloads out of the messages: what it receives may hold the store's tokens
# instead (resolved before any code runs), and what it sends holds a token for every payload
# over the store's threshold.

_STRING_VALUE = "google.protobuf.StringValue"


def string_values(msg: Any) -> list[Any]:
    """Every set ``StringValue`` in a message, at any depth (maps and lists included)."""
    found: list[Any] = []
    stack = [msg]
    while stack:
        current = stack.pop()
        for fd, value in current.ListFields():
            kind = fd.message_type
            if kind is None:
                continue
            if kind.GetOptions().map_entry:
                if kind.fields_by_name["value"].message_type is None:
                    continue
                items = list(value.values())
            elif fd.is_repeated:
                items = list(value)
            else:
                items = [value]
            for item in items:
                if item.DESCRIPTOR.full_name == _STRING_VALUE:
                    found.append(item)
                else:
                    stack.append(item)
    return found


def resolve_tokens(msg: Any, store: Any) -> int:
    """Replace every payload token of ``store`` in ``msg`` by the payload; how many."""
    count = 0
    for sv in string_values(msg):
        if sv.value and store.is_known_token(sv.value):
            sv.value = store.download(sv.value).decode("utf-8")
            count += 1
    return count


def store_large(msg: Any, store: Any, instance_id: str | None) -> int:
    """Upload every payload of ``msg`` over the store's threshold, leaving its token; how many.

    Raises:
        ValueError: a payload is larger than the store takes (``max_stored_payload_bytes``).
    """
    options = store.options
    count = 0
    for sv in string_values(msg):
        text = sv.value
        if not text or store.is_known_token(text):
            continue
        data = text.encode("utf-8")
        if len(data) <= options.threshold_bytes:
            continue
        if len(data) > options.max_stored_payload_bytes:
            raise ValueError(
                f"Payload size {len(data)} bytes exceeds the maximum allowed size of "
                f"{options.max_stored_payload_bytes} bytes."
            )
        sv.value = store.upload(data, instance_id=instance_id)
        count += 1
    return count
