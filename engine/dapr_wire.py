"""Dapr Workflow's dialect of the wire protocol: the one owner of its rules.

Dapr's sidecar and its Python SDK speak a fork of the Durable Task schema (our copy:
``protos/durable_inspector/dapr_workflow.proto``). Most fields keep Microsoft's numbers, so
the engine keeps working on Microsoft-shaped messages (``engine.proto.orchestrator_service_pb2``)
and this module converts at the boundary, both ways:

- **Shared fields** (same number, same kind, corresponding message types) are copied.
- **Dapr-only fields** (routers, ``taskExecutionId``, timer origins, workflow versions, the
  parent's app id, attestations, the stalled and detached events, ...) are not put anywhere in
  the Microsoft message. They are returned beside it as *extras*: a Dapr message of the same
  type holding only those fields (repeated messages keep their positions, with empty
  placeholders), and laid back on when converting the other way.
- **Microsoft-only fields** (tags on tasks and actions, trace contexts where Dapr put a router
  or an execution id, request properties, entity events, ...) are never written into a Dapr
  message: their numbers mean something else to Dapr, so filling them would turn a tag into a
  cross-app route or break Dapr's parser (DAPR.md §2.1). They are dropped, and returned as
  extras of the Microsoft type so a caller can tell.

Which fields are shared is derived from the two generated descriptors, field by field, with
the message-name correspondence below (:data:`MESSAGE_NAMES`);
:func:`dialect_differences` lists the rest (the tests compare it with Dapr's documented list).
:class:`EventFacts` and :class:`ActionFacts` are the plain values the views and the engine read
or write instead of the extras messages.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from engine.defaults import DIALECTS
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb

__all__ = [
    "DIALECTS",
    "MESSAGE_NAMES",
    "SENTINEL_FIRE_AT_SECONDS",
    "ActionFacts",
    "DaprCodec",
    "EventFacts",
    "ResponseFacts",
    "Router",
    "TimerOrigin",
    "abandons",
    "app_id",
    "dialect_differences",
    "from_dapr",
    "is_sentinel",
    "to_dapr",
    "with_extras",
    "worker_facts",
]


SENTINEL_FIRE_AT_SECONDS = 253_402_300_799
"""``9999-12-31T23:59:59Z``: the fire time of the timer Dapr schedules behind an endless wait."""

MESSAGE_NAMES: dict[str, str] = {
    "OrchestrationInstance": "WorkflowInstance",
    "SubOrchestrationInstanceCreatedEvent": "ChildWorkflowInstanceCreatedEvent",
    "SubOrchestrationInstanceCompletedEvent": "ChildWorkflowInstanceCompletedEvent",
    "SubOrchestrationInstanceFailedEvent": "ChildWorkflowInstanceFailedEvent",
    "OrchestratorStartedEvent": "WorkflowStartedEvent",
    "OrchestratorCompletedEvent": "WorkflowCompletedEvent",
    "CreateSubOrchestrationAction": "CreateChildWorkflowAction",
    "CompleteOrchestrationAction": "CompleteWorkflowAction",
    "TerminateOrchestrationAction": "TerminateWorkflowAction",
    "OrchestratorAction": "WorkflowAction",
    "OrchestratorRequest": "WorkflowRequest",
    "OrchestratorResponse": "WorkflowResponse",
}
"""Microsoft's message name to Dapr's, where Dapr renamed it (the others keep their names)."""

_SAME_NAMES = (
    "TaskFailureDetails ParentInstanceInfo TraceContext HistoryEvent ExecutionStartedEvent"
    " ExecutionCompletedEvent ExecutionTerminatedEvent TaskScheduledEvent TaskCompletedEvent"
    " TaskFailedEvent TimerCreatedEvent TimerFiredEvent EventSentEvent EventRaisedEvent"
    " ContinueAsNewEvent ExecutionSuspendedEvent ExecutionResumedEvent ScheduleTaskAction"
    " CreateTimerAction SendEventAction ActivityRequest ActivityResponse WorkItem"
    " GetWorkItemsRequest CompleteTaskResponse"
).split()

_MS_PACKAGE = pb.DESCRIPTOR.package
_DAPR_PACKAGE = dpb.DESCRIPTOR.package
_PAIRS: dict[str, str] = {
    **{f"{_MS_PACKAGE}.{ms}": f"{_DAPR_PACKAGE}.{dapr}" for ms, dapr in MESSAGE_NAMES.items()},
    **{f"{_MS_PACKAGE}.{name}": f"{_DAPR_PACKAGE}.{name}" for name in _SAME_NAMES},
}
_PAIRS.update({dapr: ms for ms, dapr in list(_PAIRS.items())})
_ENUM_PAIRS = {
    f"{_MS_PACKAGE}.OrchestrationStatus": f"{_DAPR_PACKAGE}.OrchestrationStatus",
    f"{_DAPR_PACKAGE}.OrchestrationStatus": f"{_MS_PACKAGE}.OrchestrationStatus",
}

M = TypeVar("M", bound=Message)


# --- which fields are shared -----------------------------------------------------------------


def _corresponds(a: FieldDescriptor, b: FieldDescriptor) -> bool:
    """True when the two fields carry the same value on the wire and in meaning."""
    if a.is_repeated != b.is_repeated or a.type != b.type:
        return False
    if a.message_type is not None:
        am, bm = a.message_type, b.message_type
        if am.GetOptions().map_entry or bm.GetOptions().map_entry:
            return (
                am.GetOptions().map_entry
                and bm.GetOptions().map_entry
                and all(
                    _corresponds(am.fields_by_name[k], bm.fields_by_name[k])
                    for k in ("key", "value")
                )
            )
        if am.full_name.startswith("google.protobuf."):
            return am.full_name == bm.full_name
        return _PAIRS.get(am.full_name) == bm.full_name
    if a.enum_type is not None:
        return _ENUM_PAIRS.get(a.enum_type.full_name) == b.enum_type.full_name
    return True


@lru_cache(maxsize=None)
def _shared(source: Descriptor, target: Descriptor) -> dict[int, FieldDescriptor]:
    """Field number of ``source`` to the field of ``target`` that means the same."""
    shared: dict[int, FieldDescriptor] = {}
    for f in source.fields:
        other = target.fields_by_number.get(f.number)
        if other is not None and _corresponds(f, other):
            shared[f.number] = other
    return shared


def _target_descriptor(source: Descriptor) -> Descriptor:
    pool_file = dpb.DESCRIPTOR if source.file is pb.DESCRIPTOR else pb.DESCRIPTOR
    name = _PAIRS[source.full_name]
    return pool_file.pool.FindMessageTypeByName(name)


def dialect_differences() -> dict[str, list[str]]:
    """Per message pair, the fields that are not shared, as ``"<side> <number> <name>"``.

    ``side`` is ``ms`` or ``dapr``; a number on both sides means one number with two meanings.
    """
    result: dict[str, list[str]] = {}
    for ms_name, dapr_name in _PAIRS.items():
        if not ms_name.startswith(f"{_MS_PACKAGE}.") or ms_name.startswith(f"{_DAPR_PACKAGE}."):
            continue
        ms = pb.DESCRIPTOR.pool.FindMessageTypeByName(ms_name)
        dapr = dpb.DESCRIPTOR.pool.FindMessageTypeByName(dapr_name)
        rows = [f"ms {f.number} {f.name}" for f in ms.fields if f.number not in _shared(ms, dapr)]
        rows += [
            f"dapr {f.number} {f.name}" for f in dapr.fields if f.number not in _shared(dapr, ms)
        ]
        if rows:
            result[f"{ms.name}/{dapr.name}"] = sorted(rows, key=lambda r: int(r.split()[1]))
    return result


# --- moving a message across -----------------------------------------------------------------


def _copy_field(dst: Message, f: FieldDescriptor, value: Any) -> None:
    """Set ``f`` of ``dst`` (same schema as ``f``) to ``value``."""
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        container = getattr(dst, f.name)
        if f.message_type.fields_by_name["value"].message_type is not None:
            for key, item in value.items():
                container[key].CopyFrom(item)
        else:
            container.update(value)
    elif f.is_repeated:
        getattr(dst, f.name).extend(value)
    elif f.message_type is not None:
        getattr(dst, f.name).CopyFrom(value)
    else:
        setattr(dst, f.name, value)


def _move(src: Message, dst: Message) -> Message | None:
    """Copy the shared fields of ``src`` into ``dst``; return the rest (``src``'s type) or None."""
    shared = _shared(src.DESCRIPTOR, dst.DESCRIPTOR)
    rest: Message | None = None
    for f, value in src.ListFields():
        target = shared.get(f.number)
        if target is None:
            rest = rest if rest is not None else type(src)()
            _copy_field(rest, f, value)
            continue
        if f.message_type is None or f.message_type.GetOptions().map_entry:
            _copy_field(dst, target, value)
            continue
        if f.message_type.full_name.startswith("google.protobuf."):
            _copy_field(dst, target, value)
            continue
        if f.is_repeated:
            rests = [_move(item, getattr(dst, target.name).add()) for item in value]
            if any(r is not None for r in rests):
                rest = rest if rest is not None else type(src)()
                for r in rests:
                    getattr(rest, f.name).add().CopyFrom(r if r is not None else type(value[0])())
            continue
        sub = getattr(dst, target.name)
        sub.SetInParent()
        left = _move(value, sub)
        if left is not None:
            rest = rest if rest is not None else type(src)()
            getattr(rest, f.name).CopyFrom(left)
    return rest


def _overlay(dst: Message, extras: Message) -> None:
    """Lay the fields of ``extras`` (same schema as ``dst``) onto ``dst``, position by position."""
    for f, value in extras.ListFields():
        if f.message_type is None or f.message_type.GetOptions().map_entry:
            _copy_field(dst, f, value)
        elif f.is_repeated:
            mine = getattr(dst, f.name)
            if not mine:  # a field only the extras' side has: copied whole
                mine.extend(value)
                continue
            for item, theirs in zip(mine, value, strict=True):
                _overlay(item, theirs)
        elif f.message_type.full_name.startswith("google.protobuf.") or not dst.HasField(f.name):
            getattr(dst, f.name).CopyFrom(value)
        else:
            sub = getattr(dst, f.name)
            sub.SetInParent()
            _overlay(sub, value)


def _convert(src: Message) -> tuple[Message, Message | None]:
    target = _target_descriptor(src.DESCRIPTOR)
    cls = dpb if target.file is dpb.DESCRIPTOR else pb
    dst: Message = getattr(cls, target.name)()
    return dst, _move(src, dst)


def from_dapr(msg: Message) -> tuple[Any, Any]:
    """A Dapr message as (its Microsoft-shaped counterpart, the Dapr-only extras or None).

    Args:
        msg: any message of ``dapr_workflow_pb2`` that has a counterpart (a ``WorkflowRequest``,
            a ``WorkItem``, a ``HistoryEvent``, an ``ActivityRequest``, ...).
    """
    if msg.DESCRIPTOR.file is not dpb.DESCRIPTOR:
        raise TypeError(f"from_dapr takes a Dapr message, not {msg.DESCRIPTOR.full_name}")
    return _convert(msg)


def to_dapr(msg: Message, extras: Message | None = None) -> tuple[Any, Any]:
    """A Microsoft-shaped message as (its Dapr counterpart, the Microsoft-only fields dropped).

    Args:
        msg: a message of ``orchestrator_service_pb2`` with a Dapr counterpart.
        extras: Dapr-only fields to lay on (as :func:`from_dapr` returned them, or built by
            :func:`with_extras`); repeated messages are matched by position.
    """
    if msg.DESCRIPTOR.file is not pb.DESCRIPTOR:
        raise TypeError(f"to_dapr takes a Microsoft-shaped message, not {msg.DESCRIPTOR.full_name}")
    dst, dropped = _convert(msg)
    if extras is not None:
        _overlay(dst, extras)
    return dst, dropped


# --- the facts, as plain values ----------------------------------------------------------------


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


_ACTION_KIND = {
    "createSubOrchestration": "createChildWorkflow",
    "completeOrchestration": "completeWorkflow",
    "terminateOrchestration": "terminateWorkflow",
}


@dataclass(frozen=True)
class ResponseFacts:
    """What a Dapr ``WorkflowResponse`` carries beyond Microsoft's: versions, per-action facts."""

    version_name: str | None = None
    patches: tuple[str, ...] = ()
    has_version: bool = False
    actions: dict[int, ActionFacts] = field(default_factory=dict)


def with_extras(response: pb.OrchestratorResponse, facts: ResponseFacts) -> dpb.WorkflowResponse:
    """A Microsoft-shaped response as Dapr's ``WorkflowResponse``, with Dapr's facts laid on."""
    extras = dpb.WorkflowResponse()
    for action in response.actions:
        kind = action.WhichOneof("orchestratorActionType")
        found = facts.actions.get(action.id)
        extras.actions.add().CopyFrom(
            found.extras(_ACTION_KIND.get(kind or "", kind)) if found else dpb.WorkflowAction()
        )
    if facts.has_version or facts.version_name is not None or facts.patches:
        extras.version.patches.extend(facts.patches)
        if facts.version_name is not None:
            extras.version.name = facts.version_name
    converted, _ = to_dapr(response, extras)
    result: dpb.WorkflowResponse = converted
    return result


def is_sentinel(seconds: int) -> bool:
    """True for the fire time of Dapr's timer behind a wait without a timeout."""
    return seconds >= SENTINEL_FIRE_AT_SECONDS


# --- a worker's side of the dialect ------------------------------------------------------------


def abandons(dialect: str) -> bool:
    """Whether a sidecar of this dialect can take a work item back.

    Dapr's cannot (it declares no abandon RPC, DAPR.md §1): a work item a worker does not
    complete stays with the sidecar, which hands it out again once the worker's stream closes.
    """
    return dialect != "dapr"


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


_EXECUTION_ID_NAMESPACE = uuid.UUID("5f1b8a52-2f7c-4c57-9a3e-6d0f2b7b9c11")


def worker_facts(
    request: pb.OrchestratorRequest,
    extras: dpb.WorkflowRequest | None,
    response: pb.OrchestratorResponse,
) -> ResponseFacts:
    """The Dapr-only fields of a turn answered by Microsoft-flavour code, as Dapr's worker
    would set them: every action and task routed from the app id, user timers with origin
    ``createTimer``, and a task execution id per scheduled task (a UUID of the instance,
    execution and action id: stable across replays, since this flavour keeps a retried task's
    id). Dapr-flavour code brings its own facts instead."""
    source = Router(app_id(request, extras))
    execution = request.executionId.value if request.HasField("executionId") else ""
    actions: dict[int, ActionFacts] = {}
    for action in response.actions:
        kind = action.WhichOneof("orchestratorActionType")
        execution_id = ""
        if kind == "scheduleTask":
            name = f"{request.instanceId}\x00{execution}\x00{action.id}"
            execution_id = str(uuid.uuid5(_EXECUTION_ID_NAMESPACE, name))
        actions[action.id] = ActionFacts(
            router=source,
            task_router=source if kind in ("scheduleTask", "createSubOrchestration") else None,
            task_execution_id=execution_id,
            timer_origin=TimerOrigin("createTimer") if kind == "createTimer" else None,
        )
    return ResponseFacts(actions=actions)


class DaprCodec:
    """Work items in, completions out, for a worker talking to a Dapr sidecar.

    The worker works on Microsoft-shaped messages; this is where its stream's bytes are read
    and its completions written in Dapr's dialect. The Dapr-only fields of each workflow
    request are kept by completion token (the last :data:`KEEP` turns) for its answer.
    """

    KEEP = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: OrderedDict[str, tuple[pb.OrchestratorRequest, Any]] = OrderedDict()

    def work_items_request(self, _request: Any) -> bytes:
        """Dapr's ``GetWorkItemsRequest`` is empty: no limits, capabilities or filters."""
        return b""

    def work_item(self, data: bytes) -> pb.WorkItem:
        """A Dapr ``WorkItem`` as the Microsoft-shaped one the worker dispatches."""
        item, extras = from_dapr(dpb.WorkItem.FromString(data))
        if item.WhichOneof("request") == "orchestratorRequest":
            turn_extras = extras.workflowRequest if extras is not None else None
            with self._lock:
                self._turns[item.completionToken] = (item.orchestratorRequest, turn_extras)
                while len(self._turns) > self.KEEP:
                    self._turns.popitem(last=False)
        result: pb.WorkItem = item
        return result

    def turn_response(self, data: bytes) -> bytes:
        """A turn's ``OrchestratorResponse`` bytes as Dapr's ``WorkflowResponse`` bytes."""
        response = pb.OrchestratorResponse.FromString(data)
        with self._lock:
            request, extras = self._turns.get(response.completionToken, (None, None))
        request = request if request is not None else pb.OrchestratorRequest()
        facts = worker_facts(request, extras, response)
        return with_extras(response, facts).SerializeToString()

    def activity_response(self, data: bytes) -> bytes:
        """An ``ActivityResponse``'s bytes in Dapr's schema (the fields are the same)."""
        converted, _ = to_dapr(pb.ActivityResponse.FromString(data))
        result: bytes = converted.SerializeToString()
        return result
