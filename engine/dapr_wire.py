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
The plain values the views and the engine read or write instead of the extras messages
(:class:`EventFacts`, :class:`ActionFacts`, ...) live in :mod:`engine.dapr_facts` and are
importable from here too; the worker's side of the dialect is ``engine.worker._dapr``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from engine.dapr_facts import (
    SENTINEL_FIRE_AT_SECONDS,
    ActionFacts,
    EventFacts,
    ResponseFacts,
    Router,
    TimerOrigin,
    app_id,
    is_sentinel,
)
from engine.defaults import DIALECTS
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb

__all__ = [
    "DIALECTS",
    "MESSAGE_NAMES",
    "SENTINEL_FIRE_AT_SECONDS",
    "ActionFacts",
    "EventFacts",
    "ResponseFacts",
    "Router",
    "TimerOrigin",
    "app_id",
    "dialect_differences",
    "from_dapr",
    "is_sentinel",
    "to_dapr",
    "with_extras",
]


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


@lru_cache(maxsize=None)
def _clean(source: Descriptor, target: Descriptor) -> bool:
    """Whether every field of ``source``, at any depth, is shared with ``target`` (then a
    message moves across as its bytes)."""
    shared = _shared(source, target)
    for f in source.fields:
        other = shared.get(f.number)
        if other is None:
            return False
        nested = f.message_type
        if nested is None or nested.GetOptions().map_entry or f.message_type is source:
            continue
        if not nested.full_name.startswith("google.protobuf.") and not _clean(
            nested, other.message_type
        ):
            return False
    return True


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
        if _clean(f.message_type, target.message_type):
            if f.is_repeated:
                container = getattr(dst, target.name)
                for item in value:
                    container.add().MergeFromString(item.SerializeToString())
            else:
                getattr(dst, target.name).MergeFromString(value.SerializeToString())
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


# --- responses with Dapr's facts ---------------------------------------------------------------


_ACTION_KIND = {
    "createSubOrchestration": "createChildWorkflow",
    "completeOrchestration": "completeWorkflow",
    "terminateOrchestration": "terminateWorkflow",
}


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
