"""A history's rows read straight from the protobuf messages, for listings of every event.

``inspector show`` prints one line (or one JSON object) per event; converting 100,000 events
to the dataclasses of :mod:`engine.events` first costs more than the rest of the listing.
:func:`event_rows` reads what a listing needs from the messages themselves for the kinds
that fill long histories, and converts only the others (with :mod:`engine.convert`, the one
owner of that conversion, so their values cannot differ).

A row is a tuple ``(kind, event_id, timestamp, name, shown_name, payload, extra)``:

- ``timestamp`` is the aware UTC datetime the dataclass would hold (one object per distinct
  timestamp) or ``None``; ``name`` and ``payload`` are the dataclass's ``name`` and
  ``payload``; ``shown_name`` is the name a listing prints (a completion is named after the
  task it completes, as :func:`engine.session.display_names` does);
- ``extra`` is, for a kind in :data:`FIELDS`, the tuple of the dataclass's own fields after
  ``event_id`` and ``timestamp`` (in :data:`FIELDS` order); for any other kind, the
  dataclass itself.

A test pins every row to the dataclass path on every sample.

Read from the messages, every row is checked as it is read: a value a datetime or JSON
cannot hold raises :class:`OutOfRange`, naming the event as loading would (so a caller may
load with ``scan=False``, see :func:`engine.load.load_recording`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from engine.errors import LoadError
from engine.failure_details import FailureDetails
from engine.history import OrchestrationRequest
from engine.maps import sorted_map
from engine.proto import orchestrator_service_pb2 as pb

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""``engine.events.EPOCH``, known here without loading the event classes (a test pins them)."""
MIN_SECONDS = -62_135_596_800  # as engine.convert: a Timestamp's range
MAX_SECONDS = 253_402_300_799

FIELDS: dict[str, tuple[str, ...]] = {
    "orchestratorStarted": (),
    "orchestratorCompleted": (),
    "taskScheduled": ("task_name", "version", "input", "tags"),
    "taskCompleted": ("task_scheduled_id", "result"),
    "timerCreated": ("fire_at",),
    "timerFired": ("fire_at", "timer_id"),
    "eventRaised": ("event_name", "input"),
    "executionStarted": (
        "orchestration_name",
        "version",
        "input",
        "instance_id",
        "execution_id",
        "parent_instance_id",
        "parent_task_scheduled_id",
        "scheduled_start",
        "tags",
        "trace_parent",
    ),
    "executionCompleted": ("status", "result", "failure"),
}
"""The kinds read from the message, and the dataclass fields their ``extra`` holds."""

Row = tuple[str, int, "datetime | None", "str | None", "str | None", "str | None", Any]


class OutOfRange(LoadError):
    """A value of the history a datetime or JSON cannot hold; the message names the event (as
    ``pastEvents[3] (taskCompleted): ...``), not the file: the caller puts its name first."""


def _lane_of(request: OrchestrationRequest, index: int) -> tuple[str, int]:
    """Event ``index`` (past then new) as its lane's name and its index in the lane."""
    past = len(request.proto.pastEvents)
    return ("pastEvents", index) if index < past else ("newEvents", index - past)


def _bad_time(request: OrchestrationRequest, index: int, msg: Any) -> OutOfRange:
    """The error for event ``index``, ``msg``, whose timestamp is out of range."""
    from engine.load import event_problem

    return OutOfRange(event_problem(*_lane_of(request, index), msg))


def _bad_value(
    request: OrchestrationRequest, index: int, kind: str, exc: Exception
) -> OutOfRange | None:
    """The error for ``exc``, raised reading event ``index`` of ``kind``, if a value out of
    range raised it (as loading's check would report it), else ``None``."""
    from google.protobuf import json_format

    from engine.load import value_problem

    if not isinstance(exc, (ValueError, OverflowError, TypeError, json_format.Error)):
        return None
    return OutOfRange(value_problem(*_lane_of(request, index), kind, exc))


_COMPLETIONS = frozenset(
    {
        "taskCompleted",
        "taskFailed",
        "subOrchestrationInstanceCompleted",
        "subOrchestrationInstanceFailed",
    }
)


class _Times:
    """One datetime per distinct ``(seconds, nanos)``, as ``engine.convert`` builds them."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], datetime] = {}

    def of(self, ts: Any) -> datetime:
        key = (ts.seconds, ts.nanos)
        value = self.seen.get(key)
        if value is None:
            value = self.seen[key] = EPOCH + timedelta(seconds=key[0], microseconds=key[1] // 1000)
        return value

    def field(self, msg: Any, name: str) -> datetime | None:
        """A Timestamp field as ``engine.convert`` reads one (None: absent or out of range)."""
        if not msg.HasField(name):
            return None
        ts = getattr(msg, name)
        if not MIN_SECONDS <= ts.seconds <= MAX_SECONDS:
            return None
        return EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def _sv(msg: Any, name: str) -> str | None:
    return getattr(msg, name).value if msg.HasField(name) else None


def _tags(msg: Any) -> dict[str, str]:
    return sorted_map(msg.tags)  # in key order: a map's own order changes between runs


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _started(e: Any) -> tuple[str | None, str | None, tuple[Any, ...]]:
    parent_id = parent_task = None
    if e.HasField("parentInstance"):
        p = e.parentInstance
        if p.HasField("orchestrationInstance"):
            parent_id = p.orchestrationInstance.instanceId
        parent_task = p.taskScheduledId
    inst = e.orchestrationInstance
    trace = e.parentTraceContext.traceParent or None if e.HasField("parentTraceContext") else None
    text = _sv(e, "input")
    values = (
        e.name,
        _sv(e, "version"),
        text,
        inst.instanceId,
        _sv(inst, "executionId"),
        parent_id,
        parent_task,
        _Times().field(e, "scheduledStartTimestamp"),
        _tags(e),
        trace,
    )
    return e.name, text, values


def _completed(e: Any) -> tuple[str | None, tuple[Any, ...]]:
    result = _sv(e, "result")
    failure = FailureDetails.from_proto(e.failureDetails) if e.HasField("failureDetails") else None
    payload = result if failure is None else f"{failure.error_type}: {failure.message}"
    return payload, (e.orchestrationStatus, result, failure)


Ends = tuple[dict[int, int], dict[int, int]]
"""Per task id, the index of its last ``taskScheduled`` row and of its last ``taskCompleted``
row (see :func:`event_rows`'s ``ends``)."""


def event_rows(
    request: OrchestrationRequest, details: bool = True, ends: Ends | None = None
) -> list[Row]:
    """One row per event of ``request``, past then new (see the module's description), each
    checked as it is read (:class:`OutOfRange`).

    When the events are dataclasses already (a replay converted them), the rows are read from
    those, several times cheaper than from the messages; else from the messages.

    Args:
        request: The request.
        details: Read what only the JSON document shows: a ``taskScheduled`` message's
            version and tags, and every timestamp as a datetime. Without them (``False``, for
            the listing) such an ``extra`` holds ``None`` and ``{}`` there, and a timestamp
            other than the zero time is its raw ``(seconds, nanos)`` (a clock token, see
            :mod:`engine.clock`; the listing formats each distinct one once).
        ends: Two dicts, filled as the rows are read: per task id, the index of its last
            ``taskScheduled`` row, and of its last ``taskCompleted`` row (what
            :func:`engine.history_final.final_state` reads of them).
    """
    opened, closed = ({}, {}) if ends is None else ends
    if request.converted:
        return _rows_of(request.events, opened, closed)
    times = _Times()
    seen = times.seen if details else None
    scheduled: dict[int, str] = {}
    named = scheduled.get
    rows: list[Row] = []
    append = rows.append
    which = pb.HistoryEvent.WhichOneof
    last_s: int | None = None
    last_n = 0
    ts: Any = None  # a datetime, or with details=False a raw (seconds, nanos)
    low, high = MIN_SECONDS, MAX_SECONDS
    # Each row holds its kind as a literal (one string object per kind, its hash computed
    # once), not the new string each WhichOneof returns: counting and looking up the kinds of
    # 100,000 rows is then cheaper, and so is every comparison with a literal.
    for lane in (request.proto.pastEvents, request.proto.newEvents):
        for msg in lane:
            kind = which(msg, "eventType")
            stamp = msg.timestamp  # the zero time is rare: only then is presence asked
            s = stamp.seconds
            n = stamp.nanos
            if s != last_s or n != last_n:  # the events of a turn share their timestamp
                if s and low <= s <= high and 0 <= n < 1_000_000_000:  # the usual case, inline
                    if seen is None:
                        ts = (s, n)
                    else:
                        ts = seen.get((s, n))
                        if ts is None:
                            ts = seen[(s, n)] = EPOCH + timedelta(0, s, n // 1000)
                    last_s, last_n = s, n
                else:
                    ts = _stamp(request, len(rows), msg, s, n, seen)
                    last_s, last_n = (s, n) if s or n else (None, 0)  # zero, absent: not kept
            if kind == "taskCompleted":
                e = msg.taskCompleted
                result = e.result.value
                if not result and not e.HasField("result"):
                    result = None
                tid = e.taskScheduledId
                closed[tid] = len(rows)
                append(("taskCompleted", msg.eventId, ts, None, named(tid), result, (tid, result)))
            elif kind == "taskScheduled":
                e = msg.taskScheduled
                eid = msg.eventId
                opened[eid] = len(rows)
                name = scheduled[eid] = e.name
                text = e.input.value
                if not text and not e.HasField("input"):
                    text = None
                extra = _scheduled(e, name, text) if details else (name, None, text, {})
                append(("taskScheduled", eid, ts, name, name, text, extra))
            elif kind == "orchestratorStarted":
                append(("orchestratorStarted", msg.eventId, ts, None, None, None, ()))
            elif kind == "orchestratorCompleted":
                append(("orchestratorCompleted", msg.eventId, ts, None, None, None, ()))
            else:
                append(_other_row(request, len(rows), kind, msg, ts, times, scheduled))
    return rows


def _stamp(
    request: OrchestrationRequest,
    index: int,
    msg: Any,
    s: int,
    n: int,
    seen: dict[tuple[int, int], datetime] | None,
) -> Any:
    """Event ``index``'s time, from its timestamp's ``s`` seconds and ``n`` nanos: ``None`` when
    absent, the epoch when zero, else the raw ``(s, n)`` or (with ``seen``, the datetimes made
    so far) its datetime. One out of range raises :class:`OutOfRange`."""
    if not s and not n:
        return EPOCH if msg.HasField("timestamp") else None
    if not (MIN_SECONDS <= s <= MAX_SECONDS and 0 <= n < 1_000_000_000):
        raise _bad_time(request, index, msg)
    if seen is None:
        return (s, n)
    ts = seen.get((s, n))
    if ts is None:
        ts = seen[(s, n)] = EPOCH + timedelta(0, s, n // 1000)
    return ts


def _scheduled(e: Any, name: str, text: str | None) -> tuple[Any, ...]:
    """A ``taskScheduled`` row's ``extra`` with its details (version and tags)."""
    tags = e.tags
    version = e.version.value if e.HasField("version") else None
    return (name, version, text, sorted_map(tags) if tags else {})


def _other_row(
    request: OrchestrationRequest,
    index: int,
    kind: str | None,
    msg: Any,
    ts: Any,
    times: _Times,
    scheduled: dict[int, str],
) -> Row:
    """The row of event ``index``, of a kind the loop does not read itself."""
    try:  # these read what conversion reads, so they raise where it raises
        return _other(kind, msg.eventId, ts, msg, times, scheduled)
    except Exception as exc:
        error = _bad_value(request, index, kind or "unknown", exc)
        if error is None:
            raise
        raise error from None


def _rows_of(events: tuple[Any, ...], opened: dict[int, int], closed: dict[int, int]) -> list[Row]:
    """The rows of converted events (the same rows as from their messages), filling
    ``opened`` and ``closed`` as :func:`event_rows` does."""
    scheduled: dict[int, str] = {}
    rows: list[Row] = []
    append = rows.append
    fields = FIELDS
    for ev in events:
        kind = ev.kind
        eid = ev.event_id
        name = ev.name
        shown = name
        if kind == "taskScheduled" or kind == "subOrchestrationInstanceCreated":
            scheduled[eid] = name or ""
            if kind == "taskScheduled":
                opened[eid] = len(rows)
        elif kind in _COMPLETIONS:
            shown = scheduled.get(ev.task_scheduled_id)
            if kind == "taskCompleted":
                closed[ev.task_scheduled_id] = len(rows)
        names = fields.get(kind)
        extra = ev if names is None else tuple([getattr(ev, n) for n in names])
        append((kind, eid, ev.timestamp, name, shown, ev.payload, extra))
    return rows


def _other(
    kind: str | None,
    eid: int,
    ts: datetime | None,
    msg: Any,
    times: _Times,
    scheduled: dict[int, str],
) -> Row:
    if kind == "timerCreated":
        fire_at = times.field(msg.timerCreated, "fireAt")
        return (kind, eid, ts, None, None, _iso(fire_at), (fire_at,))
    if kind == "timerFired":
        e = msg.timerFired
        fire_at = times.field(e, "fireAt")
        return (kind, eid, ts, None, None, _iso(fire_at), (fire_at, e.timerId))
    if kind == "eventRaised":
        e = msg.eventRaised
        text = _sv(e, "input")
        return (kind, eid, ts, e.name, e.name, text, (e.name, text))
    if kind == "executionStarted":
        name, text, values = _started(msg.executionStarted)
        return (kind, eid, ts, name, name, text, values)
    if kind == "executionCompleted":
        payload, values = _completed(msg.executionCompleted)
        return (kind, eid, ts, None, None, payload, values)
    from engine.convert import event_from_proto

    ev = event_from_proto(msg)
    shown = ev.name
    if kind == "subOrchestrationInstanceCreated":
        scheduled[ev.event_id] = ev.name or ""
    elif kind in _COMPLETIONS:
        shown = scheduled.get(ev.task_scheduled_id)  # type: ignore[attr-defined]
    return (ev.kind, ev.event_id, ev.timestamp, ev.name, shown, ev.payload, ev)


def started_fields(rows: list[Row]) -> tuple[str, str | None, str | None] | None:
    """The first ``executionStarted`` event's orchestration name, version and input."""
    for row in rows:
        if row[0] == "executionStarted":
            extra = row[6]
            return extra[0], extra[1], extra[2]
    return None
