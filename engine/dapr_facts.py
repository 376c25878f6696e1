"""Dapr-only facts as plain values: what Dapr's events and actions carry beyond Microsoft's.

Read from the extras :mod:`engine.dapr_wire` keeps beside a converted request
(:meth:`EventFacts.from_extras`), or written onto a response's actions
(:class:`ActionFacts`, :class:`ResponseFacts`, through :func:`engine.dapr_wire.with_extras`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb

__all__ = [
    "SENTINEL_FIRE_AT_SECONDS",
    "ActionFacts",
    "EventFacts",
    "ResponseFacts",
    "Router",
    "TimerOrigin",
    "app_id",
    "is_sentinel",
]

SENTINEL_FIRE_AT_SECONDS = 253_402_300_799
"""``9999-12-31T23:59:59Z``: the fire time of the timer Dapr schedules behind an endless wait."""


@dataclass(frozen=True)
class Router:
    """Dapr's ``TaskRouter``: the app that sends, and the app (and namespace) it targets."""

    source_app_id: str = ""
    target_app_id: str | None = None
    target_namespace: str | None = None

    @classmethod
    def from_proto(cls, msg: dpb.TaskRouter) -> Router:
        return cls(
            msg.sourceAppID,
            msg.targetAppID if msg.HasField("targetAppID") else None,
            msg.targetAppNamespace if msg.HasField("targetAppNamespace") else None,
        )

    def to_proto(self) -> dpb.TaskRouter:
        msg = dpb.TaskRouter(sourceAppID=self.source_app_id)
        if self.target_app_id is not None:
            msg.targetAppID = self.target_app_id
        if self.target_namespace is not None:
            msg.targetAppNamespace = self.target_namespace
        return msg


_ORIGIN_KEYS = {
    "createTimer": "",
    "externalEvent": "name",
    "activityRetry": "taskExecutionId",
    "childWorkflowRetry": "instanceId",
}
"""Each timer origin's one field (the wait's event name, the retried task or child)."""


@dataclass(frozen=True)
class TimerOrigin:
    """Why Dapr scheduled a timer: ``kind`` is ``createTimer``, ``externalEvent`` (``key`` is
    the event name), ``activityRetry`` (the task execution id) or ``childWorkflowRetry`` (the
    child's instance id)."""

    kind: str
    key: str = ""

    @classmethod
    def from_proto(cls, msg: dpb.TimerCreatedEvent | dpb.CreateTimerAction) -> TimerOrigin | None:
        kind = msg.WhichOneof("origin")
        if kind is None:
            return None
        key_field = _ORIGIN_KEYS.get(kind, "")
        return cls(kind, getattr(getattr(msg, kind), key_field) if key_field else "")

    def fill(self, msg: dpb.TimerCreatedEvent | dpb.CreateTimerAction) -> None:
        member = getattr(msg, self.kind)
        member.SetInParent()
        key_field = _ORIGIN_KEYS.get(self.kind, "")
        if key_field:
            setattr(member, key_field, self.key)


@dataclass(frozen=True)
class EventFacts:
    """What a Dapr history event says beyond Microsoft's fields (all empty when nothing)."""

    router: Router | None = None
    task_execution_id: str = ""
    timer_origin: TimerOrigin | None = None
    version_name: str | None = None
    patches: tuple[str, ...] = ()
    parent_app_id: str | None = None
    dapr_kind: str | None = None
    """The event type when it exists only in Dapr (``executionStalled``, ...)."""

    @classmethod
    def from_extras(cls, extras: dpb.HistoryEvent | None) -> EventFacts:
        if extras is None:
            return cls()
        kind = extras.WhichOneof("eventType")
        body: Any = getattr(extras, kind) if kind else None
        facts: dict[str, Any] = {"dapr_kind": kind if kind in _DAPR_ONLY_EVENTS else None}
        if extras.HasField("router"):
            facts["router"] = Router.from_proto(extras.router)
        if body is not None and "taskExecutionId" in body.DESCRIPTOR.fields_by_name:
            facts["task_execution_id"] = body.taskExecutionId
        if kind == "timerCreated":
            facts["timer_origin"] = TimerOrigin.from_proto(body)
        if kind == "workflowStarted" and body.HasField("version"):
            name = body.version.name if body.version.HasField("name") else None
            facts.update(version_name=name, patches=tuple(body.version.patches))
        if kind == "executionStarted" and body.parentInstance.HasField("appID"):
            facts["parent_app_id"] = body.parentInstance.appID
        return cls(**facts)

    def describe(self) -> str:
        """The facts in a few words for a listing ("" when there are none)."""
        parts: list[str] = []
        if self.router is not None and self.router.target_app_id:
            parts.append(f"in app '{self.router.target_app_id}'")
        origin = self.timer_origin
        if origin is not None and origin.kind == "externalEvent":
            parts.append(f"timeout of the wait for event '{origin.key}'")
        elif origin is not None and origin.kind in ("activityRetry", "childWorkflowRetry"):
            parts.append(f"retry back-off of {origin.key}")
        if self.version_name is not None:
            parts.append(f"version {self.version_name}")
        if self.patches:
            parts.append(f"patches {', '.join(self.patches)}")
        if self.parent_app_id:
            parts.append(f"parent in app '{self.parent_app_id}'")
        if self.dapr_kind:
            parts.append(self.dapr_kind)
        return "; ".join(parts)


_DAPR_ONLY_EVENTS = frozenset({"executionStalled", "detachedWorkflowInstanceCreated"})


@dataclass(frozen=True)
class ActionFacts:
    """What a Dapr action carries beyond Microsoft's fields, for :func:`with_extras`."""

    router: Router | None = None
    """``WorkflowAction.router`` (Dapr stamps it on every action, empty when no app id)."""
    task_router: Router | None = None
    """``scheduleTask.router`` / ``createChildWorkflow.router`` (the target app)."""
    task_execution_id: str = ""
    timer_origin: TimerOrigin | None = None
    propagation: int | None = None
    """``historyPropagationScope`` of a task or child workflow (a ``HistoryPropagationScope``)."""

    def extras(self, kind: str | None) -> dpb.WorkflowAction:
        """The Dapr-only fields of an action whose oneof member is ``kind`` (Dapr's name)."""
        msg = dpb.WorkflowAction()
        if self.router is not None:
            msg.router.CopyFrom(self.router.to_proto())
        if kind in ("scheduleTask", "createChildWorkflow"):
            body = getattr(msg, kind)
            if self.task_router is not None:
                body.router.CopyFrom(self.task_router.to_proto())
            if self.propagation is not None:
                body.historyPropagationScope = self.propagation  # type: ignore[assignment]
            if kind == "scheduleTask" and self.task_execution_id:
                body.taskExecutionId = self.task_execution_id
        if kind == "createTimer" and self.timer_origin is not None:
            self.timer_origin.fill(msg.createTimer)
        return msg


@dataclass(frozen=True)
class ResponseFacts:
    """What a Dapr ``WorkflowResponse`` carries beyond Microsoft's: versions, per-action facts."""

    version_name: str | None = None
    patches: tuple[str, ...] = ()
    has_version: bool = False
    actions: dict[int, ActionFacts] = field(default_factory=dict)


def is_sentinel(seconds: int) -> bool:
    """True for the fire time of Dapr's timer behind a wait without a timeout."""
    return seconds >= SENTINEL_FIRE_AT_SECONDS


def app_id(request: pb.OrchestratorRequest, extras: dpb.WorkflowRequest | None) -> str:
    """The app id a Dapr worker works as: ``executionStarted.router``'s target, else its
    source, else the request's router's source ("" when none is known)."""
    if extras is None:
        return ""
    for lane in ("pastEvents", "newEvents"):
        for event, extra in zip(getattr(request, lane), getattr(extras, lane), strict=False):
            if event.HasField("executionStarted") and extra.HasField("router"):
                router = extra.router
                return router.targetAppID if router.HasField("targetAppID") else router.sourceAppID
    return extras.router.sourceAppID if extras.HasField("router") else ""
