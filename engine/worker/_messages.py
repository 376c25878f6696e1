"""Responses the worker builds itself, and one-word summaries of responses for the log."""

from __future__ import annotations

from itertools import chain

from google.protobuf import wrappers_pb2

from engine.history import FailureDetails, execution_started, status_name
from engine.proto import orchestrator_service_pb2 as pb

FAILED = pb.ORCHESTRATION_STATUS_FAILED


def failed_turn_response(
    instance_id: str, completion_token: str, failure: FailureDetails
) -> pb.OrchestratorResponse:
    """A turn answer that fails the orchestration (what the SDK sends when its engine breaks).

    Args:
        instance_id: The orchestration instance.
        completion_token: The work item's token, echoed unchanged.
        failure: Why the orchestration failed.

    Returns:
        A response with one ``completeOrchestration`` action (id -1, FAILED, empty result).
    """
    action = pb.OrchestratorAction(
        id=-1,
        completeOrchestration=pb.CompleteOrchestrationAction(
            orchestrationStatus=FAILED,
            result=wrappers_pb2.StringValue(value=""),
            failureDetails=failure.to_proto(),
        ),
    )
    return pb.OrchestratorResponse(
        instanceId=instance_id, actions=[action], completionToken=completion_token
    )


def failed_activity_response(
    request: pb.ActivityRequest, completion_token: str, failure: FailureDetails
) -> pb.ActivityResponse:
    """An activity answer reporting a failure (a completion, not an abandon)."""
    return pb.ActivityResponse(
        instanceId=request.orchestrationInstance.instanceId,
        taskId=request.taskId,
        failureDetails=failure.to_proto(),
        completionToken=completion_token,
    )


def turn_summary(response: pb.OrchestratorResponse) -> str:
    """``COMPLETED``, ``FAILED builtins.ValueError``, ``CONTINUED_AS_NEW`` or ``3 actions``."""
    for action in response.actions:
        if action.HasField("completeOrchestration"):
            done = action.completeOrchestration
            name = status_name(done.orchestrationStatus)
            if done.orchestrationStatus == FAILED and done.failureDetails.errorType:
                return f"{name} {done.failureDetails.errorType}"
            return name
    count = len(response.actions)
    return f"{count} action" + ("" if count == 1 else "s")


def turn_failed(response: pb.OrchestratorResponse) -> bool:
    """Whether the turn completes the orchestration as FAILED."""
    return any(
        a.HasField("completeOrchestration")
        and a.completeOrchestration.orchestrationStatus == FAILED
        for a in response.actions
    )


def activity_summary(response: pb.ActivityResponse) -> str:
    """``ok`` or ``FAILED <errorType>``."""
    if response.HasField("failureDetails"):
        return f"FAILED {response.failureDetails.errorType}"
    return "ok"


def orchestrator_name(request: pb.OrchestratorRequest) -> str:
    """The orchestrator's name from the request's ``executionStarted`` event (or ``?``)."""
    started = execution_started(chain(request.pastEvents, request.newEvents))
    return "?" if started is None else started.name
