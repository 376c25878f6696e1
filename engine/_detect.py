"""Which encoding a loaded file is in, and its message: base64, binary protobuf or JSON.

The detection behind :mod:`engine.load` (which reads files and turns messages into requests):
base64 text (standard or URL-safe alphabet, padded or not, whitespace anywhere), raw binary
protobuf, and protobuf JSON, a request or a ``WorkItem`` holding one, or any other message
``--record`` writes. Every failure is a one-line :class:`~engine.errors.LoadError` naming the
byte, field or JSON position; nothing here executes code.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from typing import TYPE_CHECKING, Any, Union

from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet

from engine._wire import first_field_problem, walk_problem
from engine.errors import LoadError
from engine.proto import orchestrator_service_pb2 as pb

if TYPE_CHECKING:
    from engine.recording import RecordedMessage

    Decoded = Union[pb.OrchestratorRequest, RecordedMessage]

_WHITESPACE = b" \t\r\n\v\f"
_BASE64_CHARS = re.compile(rb"[A-Za-z0-9+/\-_=\s]*")
_BAD_BASE64 = re.compile(rb"[^A-Za-z0-9+/\-_=\s]")
_URLSAFE = bytes.maketrans(b"-_", b"+/")
DIRECT_TEXT_BYTES = 1 << 16
"""Base64 text up to this size is also tried as a protobuf whose bytes are all base64 letters."""

FAST_FAIL_BYTES = 1 << 20
"""Inputs this large are first checked by their first field (junk fails fast, in bounded memory)."""


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


# --- detection -------------------------------------------------------------------------------


def _decode(data: bytes, where: str) -> Decoded:
    return _decode_wired(data, where)[0]


def _decode_wired(data: bytes, where: str) -> tuple[Decoded, bytes | None]:
    """The decoded message, and the bytes it was parsed from when a request was read straight
    from them (``None`` otherwise: JSON, a WorkItem, the general base64 decode)."""
    head = data.lstrip(_WHITESPACE)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip(_WHITESPACE)
    if head[:1] in (b"{", b"[", b'"'):
        return _decode_json(head, where), None
    raw = _strict_base64(data)
    if raw is not None:
        found, _, wire = _parse_wired(raw)
        if found is not None:
            return found, wire
    if _BASE64_CHARS.fullmatch(data):
        return _decode_base64(data, where), None
    msg, problem, wire = _parse_wired(data)
    if msg is not None:
        return msg, wire
    if _looks_like_text(data):
        bad = _BAD_BASE64.search(data)
        assert bad is not None
        raise LoadError(f"{where}: not base64, JSON or protobuf: {_describe_bad_char(data, bad)}")
    raise LoadError(f"{where}: not a protobuf OrchestratorRequest: {problem}")


def _strict_base64(data: bytes) -> bytes | None:
    """The common case in one pass in C: padded standard base64, a line end at most after it.

    ``None`` for anything else, which the full checks of :func:`_decode_base64` then read
    (what this accepts, they accept too, decoding the same bytes).
    """
    body = data.rstrip(_WHITESPACE)
    if len(body) % 4:
        return None
    try:
        if sys.version_info >= (3, 11):
            return binascii.a2b_base64(body, strict_mode=True)
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        return None


def _looks_like_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n\v\f" for ch in text[:4096])


def _describe_bad_char(data: bytes, bad: re.Match[bytes]) -> str:
    offset = bad.start()
    char = data[offset:].decode("utf-8", errors="replace")[:1]
    return f"character {char!r} at byte {offset} is not in the base64 alphabet"


def _decode_base64(data: bytes, where: str) -> Decoded:
    compact = data.translate(None, _WHITESPACE)
    body = compact.rstrip(b"=")
    stray = body.find(b"=")
    if stray >= 0:
        offset = _offset_of_compact(data, stray)
        raise LoadError(f"{where}: not base64: padding '=' at byte {offset} before the end")
    if len(compact) - len(body) > 2:
        raise LoadError(f"{where}: not base64: more than two '=' of padding at the end")
    if len(body) % 4 == 1:
        raise LoadError(
            f"{where}: not base64: {len(body)} base64 characters cannot be complete"
            " (truncated or one character too many)"
        )
    if (b"-" in body or b"_" in body) and (b"+" in body or b"/" in body):
        char = b"-" if b"-" in body else b"_"
        offset = data.find(char)
        raise LoadError(
            f"{where}: not base64: mixes the standard and URL-safe alphabets"
            f" ({char.decode()!r} at byte {offset})"
        )
    if len(body) > FAST_FAIL_BYTES:
        head = base64.b64decode(body[:4096].translate(_URLSAFE), validate=False)
        start = first_field_problem(head)
        if start:
            raise LoadError(f"{where}: base64 decodes to bytes that are not a protobuf: {start}")
    body = body.translate(_URLSAFE) + b"=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise LoadError(f"{where}: not base64 ({_reason(exc)})") from None
    msg, problem = _parse_binary(raw)
    if msg is not None:
        return msg
    # The text itself may be a protobuf whose bytes happen to be base64 characters: only a
    # small one (a large protobuf has length prefixes outside the alphabet).
    direct = _parse_binary(data)[0] if len(data) <= DIRECT_TEXT_BYTES else None
    if direct is not None:
        return direct
    raise LoadError(
        f"{where}: base64 decodes to {len(raw)} bytes that are not a protobuf"
        f" OrchestratorRequest: {problem}"
    )


def _offset_of_compact(data: bytes, index: int) -> int:
    seen = -1
    for offset, byte in enumerate(data):
        if byte not in _WHITESPACE:
            seen += 1
            if seen == index:
                return offset
    return len(data)


# --- binary ----------------------------------------------------------------------------------


def _parse_binary(data: bytes) -> tuple[Decoded | None, str]:
    """Return (message, "") or (None, why).

    A request first, then a WorkItem holding one, then the other messages ``--record`` writes.
    """
    msg, problem, _ = _parse_wired(data)
    return msg, problem


def _parse_wired(data: bytes) -> tuple[Decoded | None, str, bytes | None]:
    """:func:`_parse_binary`, and ``data`` itself when it held the request directly."""
    if len(data) > FAST_FAIL_BYTES:
        start = first_field_problem(data)
        if start:
            return None, start, None
    direct_problem = ""
    try:
        msg = pb.OrchestratorRequest.FromString(data)
    except (DecodeError, RecursionError, ValueError):
        direct_problem = walk_problem(data, pb.OrchestratorRequest.DESCRIPTOR)
    else:
        direct_problem = _implausible(msg)
        if not direct_problem:
            return msg, "", data
    found, problem = _parse_other(data, direct_problem)
    return found, problem, None


def _parse_other(data: bytes, direct_problem: str) -> tuple[Decoded | None, str]:
    """``data`` as a WorkItem holding a request, or another message ``--record`` writes."""
    try:
        item: pb.WorkItem | None = pb.WorkItem.FromString(data)
    except (DecodeError, RecursionError, ValueError):
        item = None
    member = None if item is None or len(UnknownFieldSet(item)) else item.WhichOneof("request")
    if item is not None and member == "orchestratorRequest":
        inner_problem = _implausible(item.orchestratorRequest)
        if inner_problem:
            return None, f"WorkItem.orchestratorRequest: {inner_problem}"
        return item.orchestratorRequest, ""
    from engine.recording import parse_recorded

    other = parse_recorded(data)
    if other is not None:
        return other, ""
    if member is not None:
        return None, f"a WorkItem holding {member}, not an orchestratorRequest"
    return None, direct_problem


def _implausible(msg: pb.OrchestratorRequest) -> str:
    unknown = UnknownFieldSet(msg)
    if len(unknown):
        numbers = sorted({item.field_number for item in unknown})
        listed = ", ".join(str(n) for n in numbers[:5])
        return f"unknown top-level field number(s) {listed} (not an OrchestratorRequest)"
    if not msg.pastEvents and not msg.newEvents:
        # Without events the instance id is all there is to go by. Any id the protocol allows
        # (tabs, no-break or zero-width spaces, soft hyphens, U+2028) is accepted; only
        # control characters other than a tab say random bytes were read as one.
        if not msg.instanceId:
            return "no history events and no instance id (not an OrchestratorRequest)"
        from engine.recording import has_control

        if has_control(msg.instanceId):
            return "instanceId holds control characters (not an OrchestratorRequest)"
    if msg.HasField("executionId") and len(UnknownFieldSet(msg.executionId)):
        return "executionId is not a StringValue (not an OrchestratorRequest)"
    for lane in ("pastEvents", "newEvents"):
        events = getattr(msg, lane)
        count = len(events)
        # Sample both ends: a misparsed message shows at once, a real 100k history stays fast.
        for index in {*range(min(count, 4)), *range(max(count - 4, 0), count)}:
            bad = _bad_event(events[index])
            if bad:
                return f"{lane}[{index}]: {bad} (not an OrchestratorRequest)"
    return ""


def _bad_event(event: pb.HistoryEvent) -> str:
    for item in UnknownFieldSet(event):
        if item.field_number <= 2:
            return f"field {item.field_number} has the wrong wire type for a HistoryEvent"
    return ""


# --- JSON ------------------------------------------------------------------------------------


def _decode_json(text: bytes, where: str) -> Decoded:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{where}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise LoadError(f"{where}: not valid JSON ({_reason(exc)})") from None
    if isinstance(value, str):
        # A JSON string holding the base64 payload, as it appears in logs and bindings.
        return _decode_base64(value.encode("utf-8", errors="replace"), f"{where} (JSON string)")
    if not isinstance(value, dict):
        raise LoadError(
            f"{where}: JSON holds a {type(value).__name__}, expected an object"
            " (an OrchestratorRequest or a WorkItem)"
        )
    from google.protobuf import json_format

    wrapped = "orchestratorRequest" in value or "orchestrator_request" in value
    target: Any = pb.WorkItem() if wrapped else pb.OrchestratorRequest()
    try:
        json_format.ParseDict(value, target)
    except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        kind = "WorkItem" if wrapped else "OrchestratorRequest"
        reason = _reason(exc).split(" Available Fields", 1)[0]
        raise LoadError(f"{where}: JSON is not a valid {kind}: {reason}") from None
    msg: pb.OrchestratorRequest = target.orchestratorRequest if wrapped else target
    if not msg.pastEvents and not msg.newEvents and not msg.instanceId:
        raise LoadError(
            f"{where}: JSON request has no history events and no instance id"
            " (expected keys like instanceId, pastEvents, newEvents)"
        )
    return msg
