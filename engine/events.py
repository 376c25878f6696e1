"""History events as frozen dataclasses: one class per ``HistoryEvent`` oneof member.

The classes are what the UI and ``show`` read; :mod:`engine.convert` builds them from protobuf
once, at the boundary. Timestamps are timezone-aware UTC datetimes (``None`` when the event does
not carry one); payloads stay the JSON text the wire carried, ``None`` when the ``StringValue``
wrapper is absent. Entity events live in :mod:`engine.entity_events`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, ClassVar

from engine.failure_details import FailureDetails as FailureDetails

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


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
