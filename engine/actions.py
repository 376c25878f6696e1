"""Orchestrator actions: what a turn asks the sidecar to do, and their protobuf form.

Actions are plain objects while the replay runs (cheap to make, cheap to drop when history
confirms them); only the actions still pending when the turn ends become protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from engine.history import FailureDetails, status_name
from engine.proto import orchestrator_service_pb2 as pb

SCHEDULE_TASK = "scheduleTask"
CREATE_SUB_ORCHESTRATION = "createSubOrchestration"
CREATE_TIMER = "createTimer"
SEND_EVENT = "sendEvent"
COMPLETE_ORCHESTRATION = "completeOrchestration"
# The four entity messages, each a ``sendEntityMessage`` action (see :mod:`engine.entities`).
ENTITY_CALL = "entityOperationCalled"
ENTITY_SIGNAL = "entityOperationSignaled"
ENTITY_LOCK = "entityLockRequested"
ENTITY_UNLOCK = "entityUnlockSent"
ENTITY_KINDS = frozenset({ENTITY_CALL, ENTITY_SIGNAL, ENTITY_LOCK, ENTITY_UNLOCK})

# The SDK method that produces each action kind (used in non-determinism messages).
METHOD_OF_KIND: dict[str, str] = {
    SCHEDULE_TASK: "call_activity",
    CREATE_SUB_ORCHESTRATION: "call_sub_orchestrator",
    CREATE_TIMER: "create_timer",
    SEND_EVENT: "send_event",
    COMPLETE_ORCHESTRATION: "complete_orchestration",
    ENTITY_CALL: "call_entity",
    ENTITY_SIGNAL: "signal_entity",
    ENTITY_LOCK: "lock_entities",
    ENTITY_UNLOCK: "lock_entities",
}


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in the user's source: file, line and function."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


class Action:
    """One orchestrator action (the ``OrchestratorAction`` oneof member and its fields).

    A plain class on purpose: the replay makes one per scheduling call, so only the fields every
    action has are set per instance; the rest fall back to the class-level defaults.
    """

    fire_at: datetime | None = None
    """Timer fire time, naive UTC (the replay clock's convention)."""
    fire_nanos: int | None = None
    """The fire time's nanoseconds when finer than a datetime holds (Dapr's 9999-12-31 timer)."""
    instance_id: str | None = None
    """Target instance (``sendEvent``) or sub-orchestration instance id."""
    version: str | None = None
    tags: dict[str, str] | None = None
    status: int = 0
    result: str | None = None
    failure: FailureDetails | None = None
    new_version: str | None = None
    carryover: list[tuple[str, str | None]] = []
    has_carryover: bool = False
    entity_message: Any = None
    dapr: Any = None
    """In a Dapr turn: the Dapr-only fields of the action (an ``engine.dapr_wire.ActionFacts``)."""
    """For an entity kind: the ``SendEntityMessageAction`` the action carries, built once."""

    def __init__(
        self,
        id: int,
        kind: str,
        name: str = "",
        input: str | None = None,
        origin: SourceLocation | None = None,
        **extra: Any,
    ) -> None:
        self.id = id
        self.kind = kind
        self.name = name
        self.input = input
        self.origin = origin
        """Where the user's code asked for this action (``None`` for engine-made actions)."""
        if not extra:
            return
        for key, value in extra.items():
            if not hasattr(Action, key):
                raise TypeError(f"Action has no field {key!r}")
            setattr(self, key, value)

    def describe(self) -> str:
        """A one-line summary, e.g. ``scheduleTask #3 'charge'``."""
        if self.kind == CREATE_TIMER and self.fire_at is not None:
            return f"{self.kind} #{self.id} fireAt={self.fire_at.isoformat()}Z"
        if self.kind == COMPLETE_ORCHESTRATION:
            text = f"{self.kind} #{self.id} {status_name(self.status)}"
            if self.failure is not None:
                return f"{text} {self.failure.error_type}: {self.failure.message}"
            return f"{text} {self.result}" if self.result is not None else text
        if self.kind == SEND_EVENT or self.kind in ENTITY_KINDS:
            return f"{self.kind} #{self.id} '{self.name}' -> {self.instance_id}"
        return f"{self.kind} #{self.id} '{self.name}'"

    def to_proto(self) -> pb.OrchestratorAction:
        """Build the ``OrchestratorAction`` message."""
        msg = pb.OrchestratorAction(id=self.id)
        kind = self.kind
        if kind == SCHEDULE_TASK:
            st = msg.scheduleTask
            st.name = self.name
            if self.input is not None:
                st.input.value = self.input
            if self.version is not None:
                st.version.value = self.version
            if self.tags:
                st.tags.update(self.tags)
        elif kind == CREATE_SUB_ORCHESTRATION:
            cs = msg.createSubOrchestration
            cs.name = self.name
            cs.instanceId = self.instance_id or ""
            if self.input is not None:
                cs.input.value = self.input
            if self.version is not None:
                cs.version.value = self.version
        elif kind == CREATE_TIMER:
            assert self.fire_at is not None
            when = self.fire_at
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            msg.createTimer.fireAt.FromDatetime(when)
            if self.fire_nanos is not None:
                msg.createTimer.fireAt.nanos = self.fire_nanos
        elif kind == SEND_EVENT:
            se = msg.sendEvent
            se.instance.instanceId = self.instance_id or ""
            se.name = self.name
            if self.input is not None:
                se.data.value = self.input
        elif kind == COMPLETE_ORCHESTRATION:
            co = msg.completeOrchestration
            co.orchestrationStatus = self.status  # type: ignore[assignment]
            if self.result is not None:
                co.result.value = self.result
            if self.failure is not None:
                co.failureDetails.CopyFrom(self.failure.to_proto())
            if self.new_version is not None:
                co.newVersion.value = self.new_version
            for name, data in self.carryover:
                ev = co.carryoverEvents.add(eventId=-1)
                ev.timestamp.SetInParent()
                ev.eventRaised.name = name
                if data is not None:
                    ev.eventRaised.input.value = data
        elif kind in ENTITY_KINDS:
            msg.sendEntityMessage.CopyFrom(self.entity_message)
        else:
            raise ValueError(f"unknown action kind {kind!r}")
        return msg


_new = object.__new__


def new_action(
    id: int, kind: str, name: str, input: str | None, origin: SourceLocation | None
) -> Action:
    """``Action(id, kind, name, input, origin)``, made without calling the class (a call of
    a class with an ``__init__`` costs several C calls more than a function's): the replay
    makes one per scheduled task."""
    made: Action = _new(Action)
    made.id = id
    made.kind = kind
    made.name = name
    made.input = input
    made.origin = origin
    return made


def response_to_proto(
    instance_id: str,
    actions: list[Action],
    custom_status: str | None,
    completion_token: str = "",
) -> pb.OrchestratorResponse:
    """Build the ``OrchestratorResponse`` for a turn."""
    msg = pb.OrchestratorResponse(instanceId=instance_id, completionToken=completion_token)
    msg.actions.extend(a.to_proto() for a in actions)
    if custom_status is not None:
        msg.customStatus.value = custom_status
    return msg
