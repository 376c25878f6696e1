"""Reading requests encoded in Dapr Workflow's dialect (``show`` and ``open``).

A ``WorkflowRequest`` (or a ``WorkItem`` holding one), in binary, base64 or protobuf JSON, is
read with our Dapr schema and converted by :mod:`engine.dapr_wire` into the Microsoft-shaped
request the engine works on, its Dapr-only fields kept beside it
(:attr:`engine.history.OrchestrationRequest.dapr`).

The dialect is given (``--dialect dapr`` / ``--dialect durabletask``) or detected. The rule,
for a request that :mod:`engine.load` reads as Microsoft's:

1. Microsoft's reading is tried first. If it succeeds and leaves no field unknown in the
   request (:func:`looks_foreign`: every event of a request of up to :data:`CHECKED_EVENTS`
   events, the first and last ones of a longer request), the request is Microsoft's (a request
   valid under both schemas that uses no Dapr-only field means the same under both).
2. Otherwise (it fails, or it leaves unknown fields: Dapr's timer origins, workflow versions,
   task execution ids on completions, parent app ids, ...), the same bytes are read with Dapr's
   schema. If that reading succeeds and leaves nothing unknown, the request is Dapr's.
3. Otherwise Microsoft's answer (its request, or its error) stands.

Dapr's events with a ``router`` (the sidecar puts one on ``executionStarted``, which every
request holds) or a ``taskExecutionId`` on a scheduled task do not even parse under Microsoft's
schema (DAPR.md §2.1), so the requests Dapr's sidecar writes are found by step 2 whatever their
length; the sampling of step 1 only bounds the cost for long Microsoft histories.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from engine.errors import LoadError
from engine.proto import orchestrator_service_pb2 as pb

if TYPE_CHECKING:
    from engine.proto import dapr_workflow_pb2 as dpb
# Dapr's schema and its mapping load when a request is read in Dapr's dialect: telling one
# apart (looks_foreign) needs neither, and a Microsoft request's replay never pays for them.

__all__ = ["CHECKED_EVENTS", "has_unknown_fields", "looks_foreign", "read_dapr"]

_WHITESPACE = b" \t\r\n\v\f"


def has_unknown_fields(msg: Message) -> bool:
    """Whether any message in ``msg``'s tree holds fields its schema does not know.

    Compared by size against a copy without them (both done in protobuf's C code, so a long
    history costs milliseconds).
    """
    clone = type(msg)()
    clone.CopyFrom(msg)
    clone.DiscardUnknownFields()
    return clone.ByteSize() != msg.ByteSize()


CHECKED_EVENTS = 2000
"""Requests up to this many events are checked for unknown fields event by event; longer ones
at both ends (:data:`CHECKED_ENDS` events each)."""

CHECKED_ENDS = 64


def looks_foreign(msg: pb.OrchestratorRequest) -> bool:
    """Whether Microsoft's reading of a request left fields unknown (step 1 of the rule)."""
    count = len(msg.pastEvents) + len(msg.newEvents)
    if count <= CHECKED_EVENTS:
        return has_unknown_fields(msg)
    if len(UnknownFieldSet(msg)):
        return True
    for lane in (msg.pastEvents, msg.newEvents):
        size = len(lane)
        ends = {*range(min(size, CHECKED_ENDS)), *range(max(size - CHECKED_ENDS, 0), size)}
        if any(has_unknown_fields(lane[i]) for i in ends):
            return True
    return False


def read_dapr(data: bytes, where: str) -> tuple[pb.OrchestratorRequest, dpb.WorkflowRequest]:
    """Read ``data`` as a Dapr ``WorkflowRequest`` (or a ``WorkItem`` holding one).

    Returns:
        The Microsoft-shaped request and the Dapr-only extras (empty when there are none).

    Raises:
        LoadError: the input holds no Dapr workflow request (one line: what and where).
    """
    request, problem = _decode(data)
    if request is None:
        raise LoadError(f"{where}: not a Dapr WorkflowRequest: {problem}")
    if not request.pastEvents and not request.newEvents and not request.instanceId:
        raise LoadError(f"{where}: a Dapr WorkflowRequest with no events and no instance id")
    from engine import dapr_wire
    from engine.proto import dapr_workflow_pb2 as dpb

    shaped, extras = dapr_wire.from_dapr(request)
    return shaped, extras if extras is not None else dpb.WorkflowRequest()


def _decode(data: bytes) -> tuple[dpb.WorkflowRequest | None, str]:
    head = data.lstrip(_WHITESPACE).removeprefix(b"\xef\xbb\xbf").lstrip(_WHITESPACE)
    if head[:1] == b"{":
        return _from_json(head)
    problem = ""
    for raw in (_base64(data), data):
        if raw is None:
            continue
        found, problem = _from_binary(raw)
        if found is not None:
            return found, ""
    return None, problem


def _base64(data: bytes) -> bytes | None:
    compact = data.translate(None, _WHITESPACE)
    if not compact:
        return None
    compact = compact.replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _from_binary(raw: bytes) -> tuple[dpb.WorkflowRequest | None, str]:
    from engine.proto import dapr_workflow_pb2 as dpb

    for kind in (dpb.WorkflowRequest, dpb.WorkItem):
        try:
            msg: Any = kind.FromString(raw)
        except (DecodeError, RecursionError, ValueError) as exc:
            problem = f"the bytes do not parse ({exc})"
            continue
        if kind is dpb.WorkItem:
            if msg.WhichOneof("request") != "workflowRequest":
                problem = "a WorkItem without a workflowRequest"
                continue
            msg = msg.workflowRequest
        if has_unknown_fields(msg):
            problem = "fields Dapr's schema does not know"
            continue
        return msg, ""
    return None, problem


def _from_json(text: bytes) -> tuple[dpb.WorkflowRequest | None, str]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, "JSON that is not an object"
    from google.protobuf import json_format

    from engine.proto import dapr_workflow_pb2 as dpb

    wrapped = "workflowRequest" in value or "workflow_request" in value
    target: Any = dpb.WorkItem() if wrapped else dpb.WorkflowRequest()
    try:
        json_format.ParseDict(value, target)
    except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        reason = " ".join(str(exc).split()).split(" Available Fields", 1)[0]
        return None, f"JSON is not a valid {type(target).__name__}: {reason}"
    return (target.workflowRequest if wrapped else target), ""
