"""One orchestration turn (:class:`OrchestrationRequest`) and the history room's helpers.

The events themselves are dataclasses in :mod:`engine.events` (and :mod:`engine.entity_events`),
built from protobuf by :mod:`engine.convert`; every one of those names is importable from here
too, as it always was.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

from engine.failure_details import FailureDetails
from engine.proto import orchestrator_service_pb2 as pb

if TYPE_CHECKING:
    from engine.convert import (
        EVENT_KINDS,
        MAX_SECONDS,
        MIN_SECONDS,
        event_from_proto,
        events_from_proto,
        timestamp_to_datetime,
    )
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


# The event dataclasses and their converters cost more to import than a headless replay (which
# never builds them) spends replaying: they are imported on first use.
_LAZY = {
    "engine.convert": (
        "EVENT_KINDS",
        "MAX_SECONDS",
        "MIN_SECONDS",
        "event_from_proto",
        "events_from_proto",
        "timestamp_to_datetime",
    ),
    "engine.entity_events": (
        "EntityLockGranted",
        "EntityLockRequested",
        "EntityOperationCalled",
        "EntityOperationCompleted",
        "EntityOperationFailed",
        "EntityOperationSignaled",
        "EntityUnlockSent",
    ),
}
_HOME_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    """An event class or converter, imported from its module on first use."""
    home = _HOME_OF.get(name) or ("engine.events" if name in __all__ else None)
    if home is None:
        raise AttributeError(f"module 'engine.history' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


Lane = Literal["past", "new"]

STATUS_NAMES: dict[int, str] = {
    0: "RUNNING",
    1: "COMPLETED",
    2: "CONTINUED_AS_NEW",
    3: "FAILED",
    4: "CANCELED",
    5: "TERMINATED",
    6: "PENDING",
    7: "SUSPENDED",
    8: "STALLED",  # Dapr's only (a workflow version not available, DAPR.md 6.4)
}


def status_name(value: int) -> str:
    """Return the short name of an ``OrchestrationStatus`` number (``"UNKNOWN(9)"`` if none)."""
    return STATUS_NAMES.get(value, f"UNKNOWN({value})")


def _started_message(events: Iterable[pb.HistoryEvent]) -> pb.HistoryEvent | None:
    for msg in events:
        if msg.WhichOneof("eventType") == "executionStarted":
            return msg
    return None


def execution_started(events: Iterable[pb.HistoryEvent]) -> pb.ExecutionStartedEvent | None:
    """The first ``executionStarted`` member among protobuf history events, if any.

    Args:
        events: ``HistoryEvent`` messages, e.g. past then new events of a request.

    Returns:
        The ``ExecutionStartedEvent`` (orchestrator name, input, instance...), or ``None``.
    """
    msg = _started_message(events)
    return None if msg is None else msg.executionStarted


_ONE_BY_ONE = 256
"""How many events :meth:`OrchestrationRequest.event` converts one at a time before it
converts the rest of a lane in one pass (several times cheaper per event)."""


def _sv(msg: Any, name: str) -> str | None:
    return getattr(msg, name).value if msg.HasField(name) else None


class OrchestrationRequest:
    """One orchestration turn: the instance and its past and new history events.

    It keeps the decoded ``OrchestratorRequest`` message and converts events to dataclasses
    only when asked (all at once through :attr:`events`, or one at a time through
    :meth:`event`): the replay engine reads the message directly, so a long history is replayed
    without paying for a conversion nobody looks at.
    """

    __slots__ = ("proto", "dapr", "_past", "_new", "_all", "_one", "_ts_cache", "_properties")

    def __init__(self, msg: pb.OrchestratorRequest, dapr: Any = None) -> None:
        self.proto = msg
        """The decoded message (read by the engine; never handed to the UI)."""
        self.dapr = dapr
        """For a request read in Dapr's dialect, its Dapr-only fields (a Dapr
        ``WorkflowRequest`` of extras, see :mod:`engine.dapr_wire`); None otherwise."""
        self._past: tuple[HistoryEvent, ...] | None = None
        self._new: tuple[HistoryEvent, ...] | None = None
        self._all: tuple[HistoryEvent, ...] | None = None
        """Past then new, once :attr:`events` converted both (read by :meth:`event`)."""
        self._one: dict[int, HistoryEvent] = {}
        self._ts_cache: dict[tuple[int, int], datetime] = {}
        self._properties: dict[str, Any] | None = None

    @classmethod
    def from_proto(cls, msg: pb.OrchestratorRequest, dapr: Any = None) -> OrchestrationRequest:
        """Wrap an ``OrchestratorRequest`` message (and a Dapr request's extras)."""
        return cls(msg, dapr)

    @property
    def dialect(self) -> str:
        """``dapr`` for a request read in Dapr's dialect, else ``durabletask``."""
        return "durabletask" if self.dapr is None else "dapr"

    def dapr_facts(self, index: int) -> Any:
        """What Dapr's event ``index`` (past then new) says beyond Microsoft's fields, as an
        ``engine.dapr_wire.EventFacts`` (empty for a Microsoft request)."""
        from engine.dapr_facts import EventFacts

        if self.dapr is None:
            return EventFacts()
        past = len(self.proto.pastEvents)
        lane, at = ("pastEvents", index) if index < past else ("newEvents", index - past)
        extras = getattr(self.dapr, lane)
        return EventFacts.from_extras(extras[at] if at < len(extras) else None)

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
            from google.protobuf import json_format

            from engine.maps import sorted_json

            found = self.proto.properties  # in key order: a map's own order changes between runs
            self._properties = {
                k: sorted_json(json_format.MessageToDict(found[k])) for k in sorted(found)
            }
        return self._properties

    @property
    def orchestration_name(self) -> str | None:
        """The name the first ``executionStarted`` event gives, without converting it."""
        msg = _started_message(chain(self.proto.pastEvents, self.proto.newEvents))
        return None if msg is None else msg.executionStarted.name

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
            from engine.convert import events_from_proto

            self._past = events_from_proto(self.proto.pastEvents, self._ts_cache)
        return self._past

    @property
    def new_events(self) -> tuple[HistoryEvent, ...]:
        """The new events as dataclasses."""
        if self._new is None:
            from engine.convert import events_from_proto

            self._new = events_from_proto(self.proto.newEvents, self._ts_cache)
        return self._new

    @property
    def events(self) -> tuple[HistoryEvent, ...]:
        """All events, past then new."""
        if self._all is None:
            self._all = self.past_events + self.new_events
        return self._all

    @property
    def converted(self) -> bool:
        """Whether every event is a dataclass already (reading them costs no conversion)."""
        return self._past is not None and self._new is not None

    def event_proto(self, index: int) -> pb.HistoryEvent:
        """The message of the event at ``index`` (past then new)."""
        past = self.proto.pastEvents
        n = len(past)
        return past[index] if index < n else self.proto.newEvents[index - n]

    def event(self, index: int) -> HistoryEvent:
        """The event at ``index`` as a dataclass, converting only that one if need be."""
        every = self._all
        if every is not None and index >= 0:
            return every[index]
        n = len(self.proto.pastEvents)
        done = self._past if index < n else self._new
        if done is not None:
            return done[index if index < n else index - n]
        ev = self._one.get(index)
        if ev is None:
            if len(self._one) >= _ONE_BY_ONE:  # a pass over the history: convert its lane at once
                return self.past_events[index] if index < n else self.new_events[index - n]
            from engine.convert import event_from_proto

            ev = event_from_proto(self.event_proto(index))
            self._one[index] = ev
        return ev

    def lane(self, index: int) -> Lane:
        """The lane (``"past"`` or ``"new"``) of the event at ``index``."""
        return "past" if index < len(self.proto.pastEvents) else "new"

    def started(self) -> ExecutionStarted | None:
        """The first ``executionStarted`` event, if any."""
        msg = _started_message(chain(self.proto.pastEvents, self.proto.newEvents))
        if msg is None:
            return None
        from engine.convert import event_from_proto
        from engine.events import ExecutionStarted

        ev = event_from_proto(msg)
        assert isinstance(ev, ExecutionStarted)
        return ev

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrchestrationRequest):
            return NotImplemented
        return self.proto == other.proto

    def __repr__(self) -> str:
        return f"OrchestrationRequest(instance_id={self.instance_id!r}, events={len(self)})"


__all__ = [
    "EPOCH",
    "EVENT_KINDS",
    "MAX_SECONDS",
    "MIN_SECONDS",
    "STATUS_NAMES",
    "ContinueAsNew",
    "EntityLockGranted",
    "EntityLockRequested",
    "EntityOperationCalled",
    "EntityOperationCompleted",
    "EntityOperationFailed",
    "EntityOperationSignaled",
    "EntityUnlockSent",
    "EventRaised",
    "EventSent",
    "ExecutionCompleted",
    "ExecutionResumed",
    "ExecutionRewound",
    "ExecutionStarted",
    "ExecutionSuspended",
    "ExecutionTerminated",
    "FailureDetails",
    "GenericEvent",
    "HistoryEvent",
    "HistoryState",
    "Lane",
    "OrchestrationRequest",
    "OrchestratorCompleted",
    "OrchestratorStarted",
    "SubOrchestrationCompleted",
    "SubOrchestrationCreated",
    "SubOrchestrationFailed",
    "TaskCompleted",
    "TaskFailed",
    "TaskScheduled",
    "TimerCreated",
    "TimerFired",
    "UnknownEvent",
    "event_from_proto",
    "events_from_proto",
    "execution_started",
    "status_name",
    "timestamp_to_datetime",
]
