"""Compare our replay's response with the SDK executor's, field by field."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from engine.proto import orchestrator_service_pb2 as pb


def _strip_failure(details: Any) -> None:
    details.ClearField("stackTrace")
    if details.HasField("innerFailure"):
        _strip_failure(details.innerFailure)


def normalized(response: pb.OrchestratorResponse) -> dict[str, Any]:
    """The response as a dict, without trace context, completion token and stack-trace text."""
    msg = pb.OrchestratorResponse()
    msg.CopyFrom(response)
    msg.ClearField("orchestrationTraceContext")
    msg.ClearField("completionToken")
    for action in msg.actions:
        which = action.WhichOneof("orchestratorActionType")
        if which == "scheduleTask":
            action.scheduleTask.ClearField("parentTraceContext")
        elif which == "createSubOrchestration":
            action.createSubOrchestration.ClearField("parentTraceContext")
        elif which == "completeOrchestration":
            if action.completeOrchestration.HasField("failureDetails"):
                _strip_failure(action.completeOrchestration.failureDetails)
    return json_format.MessageToDict(msg)


def parse_response(data: bytes) -> pb.OrchestratorResponse:
    """Parse a serialized ``OrchestratorResponse`` with our schema."""
    msg = pb.OrchestratorResponse()
    msg.ParseFromString(data)
    return msg
