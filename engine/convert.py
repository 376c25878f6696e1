"""Protobuf ``HistoryEvent`` messages to the event dataclasses, once, at the boundary.

Every oneof member of the sidecar schema has a converter; an event whose member this schema
does not know (or whose oneof is unset) becomes an :class:`~engine.events.UnknownEvent` that
keeps its field number: no event is ever dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.unknown_fields import UnknownFieldSet

from engine.entity_events import (
    EntityLockGranted,
    EntityLockRequested,
    EntityOperationCalled,
    EntityOperationCompleted,
    EntityOperationFailed,
    EntityOperationSignaled,
    EntityUnlockSent,
)
from engine.events import (
    EPOCH,
    ContinueAsNew,
    EventRaised,
    EventSent,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionRewound,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    FailureDetails,
    GenericEvent,
    HistoryEvent,
    HistoryState,
    OrchestratorCompleted,
    OrchestratorStarted,
    SubOrchestrationCompleted,
    SubOrchestrationCreated,
    SubOrchestrationFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
    UnknownEvent,
)
from engine.maps import message_dict, sorted_map
from engine.proto import orchestrator_service_pb2 as pb


def timestamp_to_datetime(ts: Any) -> datetime:
    """Convert a ``google.protobuf.Timestamp`` to an aware UTC datetime."""
    return EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z


def _ts(msg: Any, name: str) -> datetime | None:
    if not msg.HasField(name):
        return None
    ts = getattr(msg, name)
    if not MIN_SECONDS <= ts.seconds <= MAX_SECONDS:
        return None  # out of the range a Timestamp may hold: unknown, not fatal
    return timestamp_to_datetime(ts)


def _sv(msg: Any, name: str) -> str | None:
    return getattr(msg, name).value if msg.HasField(name) else None


def _tags(msg: Any) -> dict[str, str]:
    return sorted_map(msg.tags)  # in key order: a map's own order changes between runs


def _failure(msg: Any, name: str) -> FailureDetails | None:
    return FailureDetails.from_proto(getattr(msg, name)) if msg.HasField(name) else None


def _parent(e: Any) -> tuple[str | None, int | None]:
    if not e.HasField("parentInstance"):
        return None, None
    p = e.parentInstance
    iid = p.orchestrationInstance.instanceId if p.HasField("orchestrationInstance") else None
    return iid, p.taskScheduledId


def _execution_started(eid: int, ts: datetime | None, e: Any) -> HistoryEvent:
    parent_id, parent_task = _parent(e)
    inst = e.orchestrationInstance
    return ExecutionStarted(
        eid,
        ts,
        orchestration_name=e.name,
        version=_sv(e, "version"),
        input=_sv(e, "input"),
        instance_id=inst.instanceId,
        execution_id=_sv(inst, "executionId"),
        parent_instance_id=parent_id,
        parent_task_scheduled_id=parent_task,
        scheduled_start=_ts(e, "scheduledStartTimestamp"),
        tags=_tags(e),
        trace_parent=e.parentTraceContext.traceParent or None
        if e.HasField("parentTraceContext")
        else None,
    )


_CONVERTERS: dict[str, Any] = {
    "executionStarted": _execution_started,
    "executionCompleted": lambda i, t, e: ExecutionCompleted(
        i, t, e.orchestrationStatus, _sv(e, "result"), _failure(e, "failureDetails")
    ),
    "executionTerminated": lambda i, t, e: ExecutionTerminated(i, t, _sv(e, "input"), e.recurse),
    "taskScheduled": lambda i, t, e: TaskScheduled(
        i, t, e.name, _sv(e, "version"), _sv(e, "input"), _tags(e)
    ),
    "taskCompleted": lambda i, t, e: TaskCompleted(i, t, e.taskScheduledId, _sv(e, "result")),
    "taskFailed": lambda i, t, e: TaskFailed(
        i, t, e.taskScheduledId, _failure(e, "failureDetails")
    ),
    "subOrchestrationInstanceCreated": lambda i, t, e: SubOrchestrationCreated(
        i, t, e.instanceId, e.name, _sv(e, "version"), _sv(e, "input"), _tags(e)
    ),
    "subOrchestrationInstanceCompleted": lambda i, t, e: SubOrchestrationCompleted(
        i, t, e.taskScheduledId, _sv(e, "result")
    ),
    "subOrchestrationInstanceFailed": lambda i, t, e: SubOrchestrationFailed(
        i, t, e.taskScheduledId, _failure(e, "failureDetails")
    ),
    "timerCreated": lambda i, t, e: TimerCreated(i, t, _ts(e, "fireAt")),
    "timerFired": lambda i, t, e: TimerFired(i, t, _ts(e, "fireAt"), e.timerId),
    "orchestratorStarted": lambda i, t, e: OrchestratorStarted(i, t),
    "orchestratorCompleted": lambda i, t, e: OrchestratorCompleted(i, t),
    "eventSent": lambda i, t, e: EventSent(i, t, e.instanceId, e.name, _sv(e, "input")),
    "eventRaised": lambda i, t, e: EventRaised(i, t, e.name, _sv(e, "input")),
    "genericEvent": lambda i, t, e: GenericEvent(i, t, _sv(e, "data")),
    "historyState": lambda i, t, e: HistoryState(i, t, message_dict(e)),
    "continueAsNew": lambda i, t, e: ContinueAsNew(i, t, _sv(e, "input")),
    "executionSuspended": lambda i, t, e: ExecutionSuspended(i, t, _sv(e, "input")),
    "executionResumed": lambda i, t, e: ExecutionResumed(i, t, _sv(e, "input")),
    "entityOperationSignaled": lambda i, t, e: EntityOperationSignaled(
        i,
        t,
        e.requestId,
        e.operation,
        _ts(e, "scheduledTime"),
        _sv(e, "input"),
        _sv(e, "targetInstanceId"),
    ),
    "entityOperationCalled": lambda i, t, e: EntityOperationCalled(
        i,
        t,
        e.requestId,
        e.operation,
        _ts(e, "scheduledTime"),
        _sv(e, "input"),
        _sv(e, "parentInstanceId"),
        _sv(e, "parentExecutionId"),
        _sv(e, "targetInstanceId"),
    ),
    "entityOperationCompleted": lambda i, t, e: EntityOperationCompleted(
        i, t, e.requestId, _sv(e, "output")
    ),
    "entityOperationFailed": lambda i, t, e: EntityOperationFailed(
        i, t, e.requestId, _failure(e, "failureDetails")
    ),
    "entityLockRequested": lambda i, t, e: EntityLockRequested(
        i, t, e.criticalSectionId, tuple(e.lockSet), e.position, _sv(e, "parentInstanceId")
    ),
    "entityLockGranted": lambda i, t, e: EntityLockGranted(i, t, e.criticalSectionId),
    "entityUnlockSent": lambda i, t, e: EntityUnlockSent(
        i, t, e.criticalSectionId, _sv(e, "parentInstanceId"), _sv(e, "targetInstanceId")
    ),
    "executionRewound": lambda i, t, e: ExecutionRewound(
        i,
        t,
        _sv(e, "reason"),
        _sv(e, "parentExecutionId"),
        _sv(e, "instanceId"),
        _sv(e, "name"),
        _sv(e, "version"),
        _sv(e, "input"),
    ),
}

EVENT_KINDS: tuple[str, ...] = tuple(_CONVERTERS)


def event_from_proto(msg: pb.HistoryEvent) -> HistoryEvent:
    """Convert one ``HistoryEvent`` message to its dataclass (never fails on a valid message)."""
    which = msg.WhichOneof("eventType")
    ts = timestamp_to_datetime(msg.timestamp) if msg.HasField("timestamp") else None
    if which is None:
        number = 0
        unknown = UnknownFieldSet(msg)
        for item in unknown:
            if item.field_number > 2:
                number = item.field_number
                break
        return UnknownEvent(msg.eventId, ts, number, msg.SerializeToString())
    return _CONVERTERS[which](msg.eventId, ts, getattr(msg, which))  # type: ignore[no-any-return]


def events_from_proto(
    msgs: Iterable[pb.HistoryEvent], cache: dict[tuple[int, int], datetime] | None = None
) -> tuple[HistoryEvent, ...]:
    """Convert many ``HistoryEvent`` messages at once (the same result as ``event_from_proto``).

    This is the hot path for big requests: it dispatches inline and shares one ``datetime``
    per distinct timestamp (the events of a turn usually carry the same one); pass ``cache``
    to share those across several calls.
    """
    converters = _CONVERTERS
    seen: dict[tuple[int, int], datetime] = {} if cache is None else cache
    out: list[HistoryEvent] = []
    append = out.append
    for msg in msgs:
        which = msg.WhichOneof("eventType")
        if which is None:
            append(event_from_proto(msg))
            continue
        if msg.HasField("timestamp"):
            stamp = msg.timestamp
            key = (stamp.seconds, stamp.nanos)
            ts = seen.get(key)
            if ts is None:
                ts = seen[key] = timestamp_to_datetime(stamp)
        else:
            ts = None
        append(converters[which](msg.eventId, ts, getattr(msg, which)))
    return tuple(out)
