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

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union

from engine._detect import (  # noqa: F401 - _strict_base64, _decode_base64: tests read them
    _decode_base64,
    _decode_wired,
    _looks_like_text,
    _parse_binary,
    _reason,
    _strict_base64,
)
from engine._wire import may_be_out_of_range
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
    "event_problem",
    "load_request_proto",
    "read_source",
    "source_name",
    "value_problem",
]

_ABANDONED_SUFFIX = ".abandoned"
"""``engine.recording.ABANDONED_SUFFIX``, known here without loading that module (a test pins
the two together)."""
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


def load_recording(
    source: str | os.PathLike[str] | bytes, dialect: str | None = None, scan: bool = True
) -> Recording:
    """Load a request, or any other file ``--record`` writes, into plain values.

    Args:
        source: a path, ``"-"`` for standard input, or the content itself as ``bytes``.
        dialect: as for :func:`load_request` (the other recorded files are Microsoft's).
        scan: Look for values out of range in the whole history now. ``False`` (for a caller
            that reads every event itself and checks each with :func:`event_problem`, as
            :func:`engine.event_rows.event_rows` does) skips that scan for a request read in
            Microsoft's dialect; a Dapr reading is always checked (its detection needs it).

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
        return to_request(found, where, wire=wires[0] if wires else None, scan=scan)
    return _converted(found, where)


def source_name(source: str | os.PathLike[str] | bytes) -> str:
    """The name messages give ``source`` (as :func:`read_source` names it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    where = os.fspath(source)
    return "<stdin>" if where == "-" else where


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
    msg: pb.OrchestratorRequest,
    where: str,
    dapr: Any = None,
    wire: bytes | None = None,
    scan: bool = True,
) -> OrchestrationRequest:
    """Wrap a decoded message, turning any value the dataclasses cannot hold into a LoadError.

    Binary protobuf admits values the JSON mapping forbids (a timestamp ten thousand years
    out, a NaN in a ``Value``). The dataclasses may be built lazily, after loading, so such
    values are looked for here, on the message, and reported with the event that holds them.
    ``wire``, the bytes ``msg`` was parsed from (if it was), spares serializing it to look;
    ``scan=False`` skips the look (the caller checks every event as it reads it).
    """
    problem = _out_of_range(msg, wire) if scan else ""
    if problem:
        raise LoadError(f"{where}: {problem}")
    request = OrchestrationRequest.from_proto(msg, dapr=dapr)
    if msg.properties:
        from google.protobuf import json_format

        try:
            request.properties  # noqa: B018 - converted here so a bad value is reported now
        except (ValueError, OverflowError, TypeError, json_format.Error) as exc:
            problem = "" if scan else _out_of_range(msg, wire)  # the history's comes first
            if problem:
                raise LoadError(f"{where}: {problem}") from None
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
    low, high = _MIN_SECONDS, _MAX_SECONDS
    nested = _NESTED_VALUE_KINDS
    for lane in ("pastEvents", "newEvents"):
        for index, event in enumerate(getattr(msg, lane)):
            stamp = event.timestamp
            if not low <= stamp.seconds <= high or not 0 <= stamp.nanos < 1_000_000_000:
                return event_problem(lane, index, event)
            if event.WhichOneof("eventType") in nested:
                problem = event_problem(lane, index, event)
                if problem:
                    return problem
    return ""


def event_problem(lane: str, index: int, event: pb.HistoryEvent) -> str:
    """What in event ``index`` of ``lane`` (``"pastEvents"`` or ``"newEvents"``) a datetime or
    JSON cannot hold, as loading reports it ("" if nothing): its timestamp, then the values
    nested in it (for the kinds that hold more)."""
    stamp = event.timestamp
    kind = event.WhichOneof("eventType")
    if not _MIN_SECONDS <= stamp.seconds <= _MAX_SECONDS or not 0 <= stamp.nanos < 1_000_000_000:
        return (
            f"{lane}[{index}] ({kind or 'unknown'}): timestamp out of range"
            f" (seconds={stamp.seconds}, nanos={stamp.nanos}; years 1 to 9999 only)"
        )
    if kind not in _NESTED_VALUE_KINDS:
        return ""
    from google.protobuf import json_format

    from engine.history import event_from_proto

    try:
        event_from_proto(event)
    except (ValueError, OverflowError, TypeError, json_format.Error) as exc:
        return value_problem(lane, index, kind, exc)
    return ""


def value_problem(lane: str, index: int, kind: str, exc: BaseException) -> str:
    """How loading reports ``exc``, raised converting event ``index`` of ``lane``, of ``kind``."""
    return f"{lane}[{index}] ({kind}): a value is out of range ({_reason(exc)})"


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
