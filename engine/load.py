"""Read an ``OrchestratorRequest`` (or any file ``--record`` writes) from a file, stdin or bytes.

Three encodings are detected: base64 text (standard or URL-safe alphabet, padded or not,
whitespace anywhere), raw binary protobuf, and protobuf JSON (camelCase or original field
names). A ``WorkItem`` holding an ``orchestratorRequest`` is unwrapped, in any encoding.
Besides requests, :func:`load_recording` recognises the other files the worker's capture
holds (see :mod:`engine.recording`): a response, an activity's request or response, an
abandon note; :func:`load_request` names them when it is given one.

Every failure is a :class:`~engine.errors.LoadError` whose message is one line naming what is
wrong and where (the file, the byte offset, the field path, the JSON line and column).
Loading never executes code.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union

from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet

from engine._wire import first_field_problem, may_be_out_of_range, walk_problem
from engine.dapr_load import looks_foreign, read_dapr
from engine.errors import LoadError
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb

if TYPE_CHECKING:
    from engine.recording import (
        AbandonNote,
        ActivityCall,
        ActivityResult,
        NotARequest,
        RecordedMessage,
        Recording,
        TurnResponse,
    )

    Decoded = Union[pb.OrchestratorRequest, RecordedMessage]
# engine.recording (the other files --record writes) and the JSON mapping load only when a
# file needs them: a request's replay reads neither.

__all__ = [
    "decode_request_bytes",
    "load_recording",
    "load_request",
    "load_request_proto",
    "read_source",
]

_ABANDONED_SUFFIX = ".abandoned"
"""``engine.recording.ABANDONED_SUFFIX``, known here without loading that module (a test pins
the two together)."""
_WHITESPACE = b" \t\r\n\v\f"
_BASE64_CHARS = re.compile(rb"[A-Za-z0-9+/\-_=\s]*")
_BAD_BASE64 = re.compile(rb"[^A-Za-z0-9+/\-_=\s]")
_URLSAFE = bytes.maketrans(b"-_", b"+/")
DIRECT_TEXT_BYTES = 1 << 16
"""Base64 text up to this size is also tried as a protobuf whose bytes are all base64 letters."""

FAST_FAIL_BYTES = 1 << 20
"""Inputs this large are first checked by their first field (junk fails fast, in bounded memory)."""


# --- reading ---------------------------------------------------------------------------------


def read_source(source: str | os.PathLike[str] | bytes) -> tuple[bytes, str]:
    """Return the raw bytes of ``source`` and a name for it to use in messages.

    Args:
        source: a path, ``"-"`` for standard input, or the content itself as ``bytes``.

    Raises:
        LoadError: the file is missing, a directory or unreadable, or the input is empty.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, where = bytes(source), "<bytes>"
    elif os.fspath(source) == "-":
        where = "<stdin>"
        try:
            data = sys.stdin.buffer.read()
        except (OSError, AttributeError, ValueError) as exc:
            raise LoadError(f"{where}: cannot read standard input ({_reason(exc)})") from None
    else:
        where = os.fspath(source)
        if not where:
            raise LoadError("no such file: '' (the path is empty)")
        try:
            with open(where, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise LoadError(f"no such file: {where}") from None
        except IsADirectoryError:
            raise LoadError(f"{where}: is a directory, not a request file") from None
        except PermissionError:
            raise LoadError(f"{where}: permission denied (cannot read the file)") from None
        except OSError as exc:
            raise LoadError(f"{where}: cannot read ({_reason(exc)})") from None
    if not data.strip():
        raise LoadError(f"{where}: empty input (no request in it)")
    return data, where


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


# --- public entry points ---------------------------------------------------------------------


def load_request(
    source: str | os.PathLike[str] | bytes, dialect: str | None = None
) -> OrchestrationRequest:
    """Load and decode a request into the engine's dataclasses.

    Args:
        source: a path, ``"-"`` for standard input, or the encoded request as ``bytes``.
        dialect: ``"durabletask"`` or ``"dapr"`` to read it in that dialect only; ``None``
            detects it (the rule is in :mod:`engine.dapr_load`).

    Raises:
        LoadError: with a one-line message saying what is wrong and where (for another
            recorded file, what it is instead).
    """
    data, where = read_source(source)
    wires: list[bytes | None] = []

    def read() -> pb.OrchestratorRequest:
        msg, wire = _only_request(data, where)
        wires.append(wire)
        return msg

    found = _in_dialect(data, where, dialect, read)
    if isinstance(found, OrchestrationRequest):
        return found
    return to_request(found, where, wire=wires[0] if wires else None)


def _in_dialect(data: bytes, where: str, dialect: str | None, read: Callable[[], Any]) -> Any:
    """Microsoft's reading (``read()``), or Dapr's where ``dialect`` or the rule in
    :mod:`engine.dapr_load` says so (then an :class:`OrchestrationRequest`)."""
    if dialect == "dapr":
        return _dapr_request(data, where)
    try:
        found = read()
    except LoadError:
        dapr = _dapr_request(data, where, quiet=True) if dialect is None else None
        if dapr is None:
            raise
        return dapr
    if dialect is None and isinstance(found, pb.OrchestratorRequest) and looks_foreign(found):
        return _dapr_request(data, where, quiet=True) or found
    return found


def _dapr_request(data: bytes, where: str, quiet: bool = False) -> OrchestrationRequest | None:
    """The request read in Dapr's dialect (``quiet``: None instead of a LoadError)."""
    try:
        shaped, extras = read_dapr(data, where)
    except LoadError:
        if quiet:
            return None
        raise
    return to_request(shaped, where, dapr=extras)


def load_request_proto(source: str | os.PathLike[str] | bytes) -> pb.OrchestratorRequest:
    """Like :func:`load_request`, but return the ``OrchestratorRequest`` message itself."""
    data, where = read_source(source)
    return _only_request(data, where)[0]


def load_recording(source: str | os.PathLike[str] | bytes, dialect: str | None = None) -> Recording:
    """Load a request, or any other file ``--record`` writes, into plain values.

    Args:
        source: a path, ``"-"`` for standard input, or the content itself as ``bytes``.
        dialect: as for :func:`load_request` (the other recorded files are Microsoft's).

    Returns:
        An :class:`~engine.history.OrchestrationRequest`, or one of the
        :mod:`engine.recording` values (response, activity request or response, abandon note).

    Raises:
        LoadError: with a one-line message saying what is wrong and where.
    """
    data, where = read_source(source)
    note = _abandon_note(data, where) if dialect != "dapr" else None
    if note is not None:
        return note
    wires: list[bytes | None] = []

    def read() -> Decoded:
        msg, wire = _decode_wired(data, where)
        wires.append(wire)
        return msg

    found = _in_dialect(data, where, dialect, read)
    if isinstance(found, OrchestrationRequest):
        return found
    if isinstance(found, pb.OrchestratorRequest):
        return to_request(found, where, wire=wires[0] if wires else None)
    return _converted(found, where)


def _only_request(data: bytes, where: str) -> tuple[pb.OrchestratorRequest, bytes | None]:
    """The request, and the bytes it was parsed from when it was parsed from bytes alone."""
    found: NotARequest | None = _abandon_note(data, where)
    if found is None:
        msg, wire = _decode_wired(data, where)
        if isinstance(msg, pb.OrchestratorRequest):
            return msg, wire
        found = _converted(msg, where)
    raise LoadError(f"{where}: this is {found.describe()}, not an OrchestratorRequest")


def _abandon_note(data: bytes, where: str) -> AbandonNote | None:
    """The note, when the recorder named the file as one and it holds text."""
    if not where.endswith(_ABANDONED_SUFFIX) or not _looks_like_text(data):
        return None
    from engine.recording import AbandonNote

    return AbandonNote.from_text(data.decode("utf-8"), where)


def _converted(msg: RecordedMessage, where: str) -> TurnResponse | ActivityCall | ActivityResult:
    from google.protobuf import json_format

    from engine.recording import from_message

    try:
        return from_message(msg)
    except (ValueError, OverflowError, TypeError, RecursionError, json_format.Error) as exc:
        kind = type(msg).__name__
        raise LoadError(f"{where}: {kind}: a value is out of range ({_reason(exc)})") from None


def to_request(
    msg: pb.OrchestratorRequest, where: str, dapr: Any = None, wire: bytes | None = None
) -> OrchestrationRequest:
    """Wrap a decoded message, turning any value the dataclasses cannot hold into a LoadError.

    Binary protobuf admits values the JSON mapping forbids (a timestamp ten thousand years
    out, a NaN in a ``Value``). The dataclasses may be built lazily, after loading, so such
    values are looked for here, on the message, and reported with the event that holds them.
    ``wire``, the bytes ``msg`` was parsed from (if it was), spares serializing it to look.
    """
    problem = _out_of_range(msg, wire)
    if problem:
        raise LoadError(f"{where}: {problem}")
    request = OrchestrationRequest.from_proto(msg, dapr=dapr)
    if msg.properties:
        from google.protobuf import json_format

        try:
            request.properties  # noqa: B018 - converted here so a bad value is reported now
        except (ValueError, OverflowError, TypeError, json_format.Error) as exc:
            raise LoadError(
                f"{where}: properties: a value is out of range ({_reason(exc)})"
            ) from None
    return request


# Timestamps a datetime can hold: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799
# Kinds whose payload holds more timestamps or JSON-mapped values: converted here to check them.
_NESTED_VALUE_KINDS = frozenset(
    {
        "executionStarted",
        "executionCompleted",
        "taskFailed",
        "subOrchestrationInstanceFailed",
        "timerCreated",
        "timerFired",
        "historyState",
        "entityOperationSignaled",
        "entityOperationCalled",
        "entityOperationFailed",
    }
)


def _out_of_range(msg: pb.OrchestratorRequest, wire: bytes | None = None) -> str:
    """Find a value binary protobuf admits but a datetime or JSON cannot hold ("" if none);
    ``wire`` is the bytes ``msg`` was parsed from, if it was."""
    if not may_be_out_of_range(msg.SerializeToString() if wire is None else wire):
        return ""
    return _out_of_range_walk(msg)


def _out_of_range_walk(msg: pb.OrchestratorRequest) -> str:
    """:func:`_out_of_range`, event by event (the exact answer, and the message naming it)."""
    from google.protobuf import json_format

    from engine.history import event_from_proto

    low, high = _MIN_SECONDS, _MAX_SECONDS
    nested = _NESTED_VALUE_KINDS
    for lane in ("pastEvents", "newEvents"):
        for index, event in enumerate(getattr(msg, lane)):
            stamp = event.timestamp
            if not low <= stamp.seconds <= high or not 0 <= stamp.nanos < 1_000_000_000:
                kind = event.WhichOneof("eventType") or "unknown"
                return (
                    f"{lane}[{index}] ({kind}): timestamp out of range (seconds={stamp.seconds},"
                    f" nanos={stamp.nanos}; years 1 to 9999 only)"
                )
            kind = event.WhichOneof("eventType")
            if kind in nested:
                try:
                    event_from_proto(event)
                except (ValueError, OverflowError, TypeError, json_format.Error) as exc:
                    return f"{lane}[{index}] ({kind}): a value is out of range ({_reason(exc)})"
    return ""


def decode_request_bytes(data: bytes, where: str) -> pb.OrchestratorRequest:
    """Decode binary protobuf: an ``OrchestratorRequest`` or a ``WorkItem`` holding one.

    Args:
        data: the serialized message.
        where: the name of the input, for error messages.

    Raises:
        LoadError: the bytes are not protobuf (with the byte offset and field of the first
            problem), or hold no plausible request.
    """
    msg, problem = _parse_binary(data)
    if isinstance(msg, pb.OrchestratorRequest):
        return msg
    if msg is not None:
        problem = f"this is {_converted(msg, where).describe()}, not an OrchestratorRequest"
    raise LoadError(f"{where}: {problem}")


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
