"""The files ``--record DIR`` writes besides orchestrator requests, as plain values.

For every work item the embedded worker records the request the sidecar sent and the answer it
sent back, or a note saying why it gave the item back (see docs/worker.md, *Capture*):

- ``OrchestratorRequest`` (``<n>-<instance>-turn.b64``): an
  :class:`~engine.history.OrchestrationRequest`;
- ``OrchestratorResponse`` (``...-turn.response.b64``): a :class:`TurnResponse`;
- ``ActivityRequest`` (``...-activity-<name>.b64``): an :class:`ActivityCall`;
- ``ActivityResponse`` (``...-activity-<name>.response.b64``): an :class:`ActivityResult`;
- ``<stem>.abandoned``: an :class:`AbandonNote`.

:func:`engine.load.load_recording` reads a file and tells a request from the rest;
:func:`parse_recorded` recognises the rest, and the classes here convert them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

from google.protobuf.message import DecodeError

from engine._wire import fully_known
from engine.history import FailureDetails, OrchestrationRequest, status_name
from engine.maps import message_dict, sorted_map
from engine.proto import orchestrator_service_pb2 as pb

ABANDONED_SUFFIX = ".abandoned"
"""The recorder names an abandon note ``<stem>.abandoned``, beside ``<stem>.b64``."""


def _string_value(msg: Any, name: str) -> str | None:
    return getattr(msg, name).value if msg.HasField(name) else None


@dataclass(frozen=True, slots=True)
class ActivityCall:
    """An ``ActivityRequest``: the sidecar asks a worker to run one activity."""

    KIND: ClassVar[str] = "activityRequest"
    """The file's kind, as ``inspector show --json`` names it."""

    name: str
    """The activity's name."""
    version: str | None
    input: str | None
    """The input as JSON text, as the wire carried it (``None``: no input)."""
    instance_id: str
    """The orchestration instance that scheduled it."""
    execution_id: str | None
    task_id: int
    """The orchestrator's sequence number for this call (its ``taskScheduled`` event id)."""
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, msg: pb.ActivityRequest) -> ActivityCall:
        """Convert an ``ActivityRequest`` message."""
        instance = msg.orchestrationInstance
        return cls(
            name=msg.name,
            version=_string_value(msg, "version"),
            input=_string_value(msg, "input"),
            instance_id=instance.instanceId,
            execution_id=_string_value(instance, "executionId"),
            task_id=msg.taskId,
            tags=sorted_map(msg.tags),
        )

    def describe(self) -> str:
        """What the file is, in a few words."""
        return (
            f"an ActivityRequest (activity '{self.name}' of instance {self.instance_id},"
            f" task {self.task_id})"
        )


@dataclass(frozen=True, slots=True)
class ActivityResult:
    """An ``ActivityResponse``: the worker's answer to an activity, its result or its failure."""

    KIND: ClassVar[str] = "activityResponse"
    """The file's kind, as ``inspector show --json`` names it."""

    instance_id: str
    task_id: int
    result: str | None
    """The result as JSON text (``None``: the activity returned nothing, or failed)."""
    failure: FailureDetails | None
    completion_token: str
    """The work item's token, echoed to the sidecar."""

    @classmethod
    def from_proto(cls, msg: pb.ActivityResponse) -> ActivityResult:
        """Convert an ``ActivityResponse`` message."""
        failure = msg.failureDetails if msg.HasField("failureDetails") else None
        return cls(
            instance_id=msg.instanceId,
            task_id=msg.taskId,
            result=_string_value(msg, "result"),
            failure=None if failure is None else FailureDetails.from_proto(failure),
            completion_token=msg.completionToken,
        )

    def describe(self) -> str:
        """What the file is, in a few words."""
        outcome = "failed" if self.failure is not None else "ok"
        return (
            f"an ActivityResponse (the answer to task {self.task_id} of instance"
            f" {self.instance_id}: {outcome})"
        )


# Keys of an action's protobuf JSON form holding its main payload, in order of preference.
_PAYLOAD_KEYS = ("input", "data", "result", "reason", "fireAt")


@dataclass(frozen=True, slots=True)
class ResponseAction:
    """One action of an ``OrchestratorResponse``."""

    id: int
    kind: str
    """The ``OrchestratorAction`` oneof member (``scheduleTask``, ``createTimer``...)."""
    name: str | None
    """The activity, sub-orchestration or event name, when the kind has one."""
    payload: str | None
    """Input, data, result or fire time; for a completion, its status (and failure)."""
    details: dict[str, Any]
    """The member in the protobuf JSON mapping (camelCase keys)."""

    @classmethod
    def from_proto(cls, msg: pb.OrchestratorAction) -> ResponseAction:
        """Convert an ``OrchestratorAction`` message."""
        kind = msg.WhichOneof("orchestratorActionType")
        if kind is None:
            return cls(msg.id, "unknown", None, None, {})
        member = getattr(msg, kind)
        details = message_dict(member)
        payload = next((str(details[k]) for k in _PAYLOAD_KEYS if k in details), None)
        if kind == "completeOrchestration":
            payload = status_name(member.orchestrationStatus)
            if member.HasField("failureDetails"):
                failure = member.failureDetails
                payload += f" {failure.errorType}: {failure.errorMessage}"
            elif member.HasField("result"):
                payload += f" {member.result.value}"
        name = details.get("name")
        return cls(msg.id, kind, None if name is None else str(name), payload, details)


@dataclass(frozen=True, slots=True)
class TurnResponse:
    """An ``OrchestratorResponse``: the worker's answer to one orchestrator turn."""

    KIND: ClassVar[str] = "orchestratorResponse"
    """The file's kind, as ``inspector show --json`` names it."""

    instance_id: str
    actions: tuple[ResponseAction, ...]
    custom_status: str | None
    completion_token: str
    """The work item's token, echoed to the sidecar."""

    @classmethod
    def from_proto(cls, msg: pb.OrchestratorResponse) -> TurnResponse:
        """Convert an ``OrchestratorResponse`` message."""
        return cls(
            instance_id=msg.instanceId,
            actions=tuple(ResponseAction.from_proto(a) for a in msg.actions),
            custom_status=_string_value(msg, "customStatus"),
            completion_token=msg.completionToken,
        )

    def describe(self) -> str:
        """What the file is, in a few words."""
        count = len(self.actions)
        return (
            f"an OrchestratorResponse (the answer to a turn of instance {self.instance_id}:"
            f" {count} action{'' if count == 1 else 's'})"
        )


@dataclass(frozen=True, slots=True)
class AbandonNote:
    """A ``.abandoned`` note: why the worker gave a work item back to the sidecar."""

    KIND: ClassVar[str] = "abandonNote"
    """The file's kind, as ``inspector show --json`` names it."""

    reason: str
    request_file: str
    """The recorded request it is about (``<stem>.b64`` beside the note)."""

    @classmethod
    def from_text(cls, text: str, where: str) -> AbandonNote:
        """Build from the note's text and its file name."""
        stem = Path(where).name.removesuffix(ABANDONED_SUFFIX)
        return cls(reason=" ".join(text.split()), request_file=f"{stem}.b64")

    def describe(self) -> str:
        """What the file is, in a few words."""
        return (
            f"an abandon note (the worker gave a work item back; its request is"
            f" {self.request_file})"
        )


NotARequest = Union[TurnResponse, ActivityCall, ActivityResult, AbandonNote]
"""The files ``--record`` writes besides requests."""

Recording = Union[OrchestrationRequest, NotARequest]
"""Anything ``--record`` writes, as :func:`engine.load.load_recording` returns it."""

RecordedMessage = Union[pb.OrchestratorResponse, pb.ActivityRequest, pb.ActivityResponse]
"""The recorded messages that are not an ``OrchestratorRequest``."""


def from_message(msg: RecordedMessage) -> TurnResponse | ActivityCall | ActivityResult:
    """Convert a recorded message other than a request."""
    if isinstance(msg, pb.OrchestratorResponse):
        return TurnResponse.from_proto(msg)
    if isinstance(msg, pb.ActivityRequest):
        return ActivityCall.from_proto(msg)
    return ActivityResult.from_proto(msg)


def parse_recorded(data: bytes) -> RecordedMessage | None:
    """The response or activity message binary ``data`` holds, or None.

    A kind is recognised only when its fields are plausible and every field, at every depth,
    is one its schema declares (bytes of one kind often parse as another).

    Args:
        data: The serialized message (already known not to be an ``OrchestratorRequest``).
    """
    for kind, plausible in _RECORDED_KINDS:
        try:
            msg = kind.FromString(data)
        except (DecodeError, RecursionError, ValueError):
            continue
        if plausible(msg) and fully_known(msg):
            return msg
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character other than a tab.

    The plausibility checks' one rule for names and ids: any id the protocol allows (tabs,
    no-break and zero-width spaces, soft hyphens, U+2028) passes; control characters say
    random bytes were read as a string.
    """
    return _CONTROL.search(text) is not None


def _named(text: str) -> bool:
    return bool(text) and not has_control(text)


def _plausible_response(msg: Any) -> bool:
    actions = msg.actions
    if not _named(msg.instanceId) or not not has_control(msg.completionToken):
        return False
    return all(a.WhichOneof("orchestratorActionType") for a in actions)


def _plausible_activity_request(msg: Any) -> bool:
    return _named(msg.name) and _named(msg.orchestrationInstance.instanceId)


def _plausible_activity_response(msg: Any) -> bool:
    both = msg.HasField("result") and msg.HasField("failureDetails")
    return _named(msg.instanceId) and not has_control(msg.completionToken) and not both


# Tried in this order: a response's actions never parse cleanly as an activity's fields.
_RECORDED_KINDS: tuple[tuple[Any, Any], ...] = (
    (pb.OrchestratorResponse, _plausible_response),
    (pb.ActivityRequest, _plausible_activity_request),
    (pb.ActivityResponse, _plausible_activity_response),
)
