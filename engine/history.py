"""History events as frozen dataclasses, converted from protobuf once at the boundary.

Every ``HistoryEvent`` oneof member of the sidecar schema has a class here. An event whose
member this schema does not know (or whose oneof is unset) becomes an :class:`UnknownEvent`
that keeps its field number: no event is ever dropped.

Timestamps are timezone-aware UTC datetimes; a timestamp the event does not carry is ``None``.
Payloads (inputs, results, event data) stay the JSON text the wire carried, ``None`` when the
``StringValue`` wrapper is absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Literal

from google.protobuf import json_format
from google.protobuf.unknown_fields import UnknownFieldSet

from engine.proto import orchestrator_service_pb2 as pb

Lane = Literal["past", "new"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

STATUS_NAMES: dict[int, str] = {
    0: "RUNNING",
    1: "COMPLETED",
    2: "CONTINUED_AS_NEW",
    3: "FAILED",
    4: "CANCELED",
    5: "TERMINATED",
    6: "PENDING",
    7: "SUSPENDED",
}


def status_name(value: int) -> str:
    """Return the short name of an ``OrchestrationStatus`` number (``"UNKNOWN(9)"`` if none)."""
    return STATUS_NAMES.get(value, f"UNKNOWN({value})")


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
    # Most events carry no tags; building a dict from an empty upb map costs ~0.6 us.
    tags = msg.tags
    return dict(tags) if tags else {}


@dataclass(frozen=True, slots=True)
class FailureDetails:
    """A task or orchestration failure, as ``TaskFailureDetails`` carries it."""

    error_type: str
    message: str
    stack_trace: str | None = None
    inner: FailureDetails | None = None
    non_retriable: bool = False
    properties: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, msg: Any) -> FailureDetails:
        """Build from a ``TaskFailureDetails`` message (ours or any wire-compatible one)."""
        return cls(
            error_type=msg.errorType,
            message=msg.errorMessage,
            stack_trace=_sv(msg, "stackTrace"),
            inner=cls.from_proto(msg.innerFailure) if msg.HasField("innerFailure") else None,
            non_retriable=msg.isNonRetriable,
            properties={k: json_format.MessageToDict(v) for k, v in msg.properties.items()},
        )

    def to_proto(self) -> pb.TaskFailureDetails:
        """Build the ``TaskFailureDetails`` message."""
        msg = pb.TaskFailureDetails(
            errorType=self.error_type,
            errorMessage=self.message,
            isNonRetriable=self.non_retriable,
        )
        if self.stack_trace is not None:
            msg.stackTrace.value = self.stack_trace
        if self.inner is not None:
            msg.innerFailure.CopyFrom(self.inner.to_proto())
        for key, value in self.properties.items():
            json_format.ParseDict(value, msg.properties[key])
        return msg


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """Fields every history event has; subclasses add the payload of one event kind."""

    kind: ClassVar[str] = ""
    field_number: ClassVar[int] = 0

    event_id: int
    timestamp: datetime | None

    @property
    def name(self) -> str | None:
        """The task, timer-less event or orchestration name this event carries, if any."""
        return None

    @property
    def payload(self) -> str | None:
        """The main JSON payload (input, result or data), if any."""
        return None

    def details(self) -> dict[str, Any]:
        """All fields as plain Python values (for display and JSON output)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, FailureDetails):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


@dataclass(frozen=True, slots=True)
class ExecutionStarted(HistoryEvent):
    """The orchestration started (name, input, instance, parent)."""

    kind: ClassVar[str] = "executionStarted"
    field_number: ClassVar[int] = 3
    orchestration_name: str = ""
    version: str | None = None
    input: str | None = None
    instance_id: str = ""
    execution_id: str | None = None
    parent_instance_id: str | None = None
    parent_task_scheduled_id: int | None = None
    scheduled_start: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trace_parent: str | None = None

    @property
    def name(self) -> str | None:
        return self.orchestration_name

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class ExecutionCompleted(HistoryEvent):
    """The orchestration reached a terminal status."""

    kind: ClassVar[str] = "executionCompleted"
    field_number: ClassVar[int] = 4
    status: int = 0
    result: str | None = None
    failure: FailureDetails | None = None

    @property
    def payload(self) -> str | None:
        if self.failure is not None:
            return f"{self.failure.error_type}: {self.failure.message}"
        return self.result


@dataclass(frozen=True, slots=True)
class ExecutionTerminated(HistoryEvent):
    """A client terminated the orchestration; ``input`` is the termination output."""

    kind: ClassVar[str] = "executionTerminated"
    field_number: ClassVar[int] = 5
    input: str | None = None
    recurse: bool = False

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class TaskScheduled(HistoryEvent):
    """An activity was scheduled; ``event_id`` is the action's sequence number."""

    kind: ClassVar[str] = "taskScheduled"
    field_number: ClassVar[int] = 6
    task_name: str = ""
    version: str | None = None
    input: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return self.task_name

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class TaskCompleted(HistoryEvent):
    """An activity completed."""

    kind: ClassVar[str] = "taskCompleted"
    field_number: ClassVar[int] = 7
    task_scheduled_id: int = 0
    result: str | None = None

    @property
    def payload(self) -> str | None:
        return self.result


@dataclass(frozen=True, slots=True)
class TaskFailed(HistoryEvent):
    """An activity failed."""

    kind: ClassVar[str] = "taskFailed"
    field_number: ClassVar[int] = 8
    task_scheduled_id: int = 0
    failure: FailureDetails | None = None

    @property
    def payload(self) -> str | None:
        failure = self.failure
        return None if failure is None else f"{failure.error_type}: {failure.message}"


@dataclass(frozen=True, slots=True)
class SubOrchestrationCreated(HistoryEvent):
    """A sub-orchestration was created; ``event_id`` is the action's sequence number."""

    kind: ClassVar[str] = "subOrchestrationInstanceCreated"
    field_number: ClassVar[int] = 9
    instance_id: str = ""
    orchestration_name: str = ""
    version: str | None = None
    input: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return self.orchestration_name

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class SubOrchestrationCompleted(HistoryEvent):
    """A sub-orchestration completed."""

    kind: ClassVar[str] = "subOrchestrationInstanceCompleted"
    field_number: ClassVar[int] = 10
    task_scheduled_id: int = 0
    result: str | None = None

    @property
    def payload(self) -> str | None:
        return self.result


@dataclass(frozen=True, slots=True)
class SubOrchestrationFailed(HistoryEvent):
    """A sub-orchestration failed."""

    kind: ClassVar[str] = "subOrchestrationInstanceFailed"
    field_number: ClassVar[int] = 11
    task_scheduled_id: int = 0
    failure: FailureDetails | None = None

    @property
    def payload(self) -> str | None:
        failure = self.failure
        return None if failure is None else f"{failure.error_type}: {failure.message}"


@dataclass(frozen=True, slots=True)
class TimerCreated(HistoryEvent):
    """A durable timer was created; ``event_id`` is the action's sequence number."""

    kind: ClassVar[str] = "timerCreated"
    field_number: ClassVar[int] = 12
    fire_at: datetime | None = None

    @property
    def payload(self) -> str | None:
        return None if self.fire_at is None else _plain(self.fire_at)


@dataclass(frozen=True, slots=True)
class TimerFired(HistoryEvent):
    """A durable timer fired."""

    kind: ClassVar[str] = "timerFired"
    field_number: ClassVar[int] = 13
    fire_at: datetime | None = None
    timer_id: int = 0

    @property
    def payload(self) -> str | None:
        return None if self.fire_at is None else _plain(self.fire_at)


@dataclass(frozen=True, slots=True)
class OrchestratorStarted(HistoryEvent):
    """A turn began; its timestamp sets the replay clock."""

    kind: ClassVar[str] = "orchestratorStarted"
    field_number: ClassVar[int] = 14


@dataclass(frozen=True, slots=True)
class OrchestratorCompleted(HistoryEvent):
    """A turn ended."""

    kind: ClassVar[str] = "orchestratorCompleted"
    field_number: ClassVar[int] = 15


@dataclass(frozen=True, slots=True)
class EventSent(HistoryEvent):
    """The orchestration sent an event to another instance."""

    kind: ClassVar[str] = "eventSent"
    field_number: ClassVar[int] = 16
    instance_id: str = ""
    event_name: str = ""
    input: str | None = None

    @property
    def name(self) -> str | None:
        return self.event_name

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class EventRaised(HistoryEvent):
    """An external event arrived."""

    kind: ClassVar[str] = "eventRaised"
    field_number: ClassVar[int] = 17
    event_name: str = ""
    input: str | None = None

    @property
    def name(self) -> str | None:
        return self.event_name

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class GenericEvent(HistoryEvent):
    """A generic event with free-form data."""

    kind: ClassVar[str] = "genericEvent"
    field_number: ClassVar[int] = 18
    data: str | None = None

    @property
    def payload(self) -> str | None:
        return self.data


@dataclass(frozen=True, slots=True)
class HistoryState(HistoryEvent):
    """A snapshot of orchestration state (kept as protobuf JSON)."""

    kind: ClassVar[str] = "historyState"
    field_number: ClassVar[int] = 19
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> str | None:
        return json.dumps(self.state) if self.state else None


@dataclass(frozen=True, slots=True)
class ContinueAsNew(HistoryEvent):
    """A continue-as-new marker."""

    kind: ClassVar[str] = "continueAsNew"
    field_number: ClassVar[int] = 20
    input: str | None = None

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class ExecutionSuspended(HistoryEvent):
    """A client suspended the orchestration; ``input`` is the reason."""

    kind: ClassVar[str] = "executionSuspended"
    field_number: ClassVar[int] = 21
    input: str | None = None

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class ExecutionResumed(HistoryEvent):
    """A client resumed the orchestration; ``input`` is the reason."""

    kind: ClassVar[str] = "executionResumed"
    field_number: ClassVar[int] = 22
    input: str | None = None

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class EntityOperationSignaled(HistoryEvent):
    """An entity operation was signalled (fire and forget)."""

    kind: ClassVar[str] = "entityOperationSignaled"
    field_number: ClassVar[int] = 23
    request_id: str = ""
    operation: str = ""
    scheduled_time: datetime | None = None
    input: str | None = None
    target_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.operation

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class EntityOperationCalled(HistoryEvent):
    """An entity operation was called (awaiting a result)."""

    kind: ClassVar[str] = "entityOperationCalled"
    field_number: ClassVar[int] = 24
    request_id: str = ""
    operation: str = ""
    scheduled_time: datetime | None = None
    input: str | None = None
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    target_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.operation

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class EntityOperationCompleted(HistoryEvent):
    """An entity operation returned a result."""

    kind: ClassVar[str] = "entityOperationCompleted"
    field_number: ClassVar[int] = 25
    request_id: str = ""
    output: str | None = None

    @property
    def payload(self) -> str | None:
        return self.output


@dataclass(frozen=True, slots=True)
class EntityOperationFailed(HistoryEvent):
    """An entity operation failed."""

    kind: ClassVar[str] = "entityOperationFailed"
    field_number: ClassVar[int] = 26
    request_id: str = ""
    failure: FailureDetails | None = None

    @property
    def payload(self) -> str | None:
        failure = self.failure
        return None if failure is None else f"{failure.error_type}: {failure.message}"


@dataclass(frozen=True, slots=True)
class EntityLockRequested(HistoryEvent):
    """Entity locks were requested for a critical section."""

    kind: ClassVar[str] = "entityLockRequested"
    field_number: ClassVar[int] = 27
    critical_section_id: str = ""
    lock_set: tuple[str, ...] = ()
    position: int = 0
    parent_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.critical_section_id


@dataclass(frozen=True, slots=True)
class EntityLockGranted(HistoryEvent):
    """Entity locks were granted."""

    kind: ClassVar[str] = "entityLockGranted"
    field_number: ClassVar[int] = 28
    critical_section_id: str = ""

    @property
    def name(self) -> str | None:
        return self.critical_section_id


@dataclass(frozen=True, slots=True)
class EntityUnlockSent(HistoryEvent):
    """An entity lock was released."""

    kind: ClassVar[str] = "entityUnlockSent"
    field_number: ClassVar[int] = 29
    critical_section_id: str = ""
    parent_instance_id: str | None = None
    target_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.critical_section_id


@dataclass(frozen=True, slots=True)
class ExecutionRewound(HistoryEvent):
    """A client asked to rewind a failed orchestration."""

    kind: ClassVar[str] = "executionRewound"
    field_number: ClassVar[int] = 30
    reason: str | None = None
    parent_execution_id: str | None = None
    instance_id: str | None = None
    orchestration_name: str | None = None
    version: str | None = None
    input: str | None = None

    @property
    def name(self) -> str | None:
        return self.orchestration_name

    @property
    def payload(self) -> str | None:
        return self.reason


@dataclass(frozen=True, slots=True)
class UnknownEvent(HistoryEvent):
    """An event this schema does not model, kept with its oneof field number (0: unset)."""

    kind: ClassVar[str] = "unknown"
    number: int = 0
    raw: bytes = b""

    @property
    def name(self) -> str | None:
        return f"field {self.number}" if self.number else "unset"


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
    "historyState": lambda i, t, e: HistoryState(
        i, t, json_format.MessageToDict(e, preserving_proto_field_name=False)
    ),
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


class OrchestrationRequest:
    """One orchestration turn: the instance and its past and new history events.

    It keeps the decoded ``OrchestratorRequest`` message and converts events to dataclasses
    only when asked (all at once through :attr:`events`, or one at a time through
    :meth:`event`): the replay engine reads the message directly, so a long history is replayed
    without paying for a conversion nobody looks at.
    """

    __slots__ = ("proto", "_past", "_new", "_one", "_ts_cache", "_properties")

    def __init__(self, msg: pb.OrchestratorRequest) -> None:
        self.proto = msg
        """The decoded message (read by the engine; never handed to the UI)."""
        self._past: tuple[HistoryEvent, ...] | None = None
        self._new: tuple[HistoryEvent, ...] | None = None
        self._one: dict[int, HistoryEvent] = {}
        self._ts_cache: dict[tuple[int, int], datetime] = {}
        self._properties: dict[str, Any] | None = None

    @classmethod
    def from_proto(cls, msg: pb.OrchestratorRequest) -> OrchestrationRequest:
        """Wrap an ``OrchestratorRequest`` message."""
        return cls(msg)

    @property
    def instance_id(self) -> str:
        """The orchestration instance id."""
        return self.proto.instanceId

    @property
    def execution_id(self) -> str | None:
        """The execution id, if the request carries one."""
        return _sv(self.proto, "executionId")

    @property
    def properties(self) -> dict[str, Any]:
        """The request's properties map, as plain values."""
        if self._properties is None:
            self._properties = {
                k: json_format.MessageToDict(v) for k, v in self.proto.properties.items()
            }
        return self._properties

    @property
    def past_count(self) -> int:
        """How many past events (replayed with ``is_replaying`` true) there are."""
        return len(self.proto.pastEvents)

    def __len__(self) -> int:
        return len(self.proto.pastEvents) + len(self.proto.newEvents)

    @property
    def past_events(self) -> tuple[HistoryEvent, ...]:
        """The past events as dataclasses."""
        if self._past is None:
            self._past = events_from_proto(self.proto.pastEvents, self._ts_cache)
        return self._past

    @property
    def new_events(self) -> tuple[HistoryEvent, ...]:
        """The new events as dataclasses."""
        if self._new is None:
            self._new = events_from_proto(self.proto.newEvents, self._ts_cache)
        return self._new

    @property
    def events(self) -> tuple[HistoryEvent, ...]:
        """All events, past then new."""
        return self.past_events + self.new_events

    def event_proto(self, index: int) -> pb.HistoryEvent:
        """The message of the event at ``index`` (past then new)."""
        past = self.proto.pastEvents
        n = len(past)
        return past[index] if index < n else self.proto.newEvents[index - n]

    def event(self, index: int) -> HistoryEvent:
        """The event at ``index`` as a dataclass, converting only that one if need be."""
        n = len(self.proto.pastEvents)
        done = self._past if index < n else self._new
        if done is not None:
            return done[index if index < n else index - n]
        ev = self._one.get(index)
        if ev is None:
            ev = event_from_proto(self.event_proto(index))
            self._one[index] = ev
        return ev

    def lane(self, index: int) -> Lane:
        """The lane (``"past"`` or ``"new"``) of the event at ``index``."""
        return "past" if index < len(self.proto.pastEvents) else "new"

    def started(self) -> ExecutionStarted | None:
        """The first ``executionStarted`` event, if any."""
        for lane in (self.proto.pastEvents, self.proto.newEvents):
            for msg in lane:
                if msg.WhichOneof("eventType") == "executionStarted":
                    ev = event_from_proto(msg)
                    assert isinstance(ev, ExecutionStarted)
                    return ev
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrchestrationRequest):
            return NotImplemented
        return self.proto == other.proto

    def __repr__(self) -> str:
        return f"OrchestrationRequest(instance_id={self.instance_id!r}, events={len(self)})"
