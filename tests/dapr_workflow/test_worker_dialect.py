"""The worker's side of Dapr's dialect: what it sends where it would abandon, what it answers."""

from __future__ import annotations

import pytest

from engine.channel import ConnectionOptions
from engine.errors import ConnectionConfigError
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb
from engine.worker._dapr import DaprCodec, abandons
from engine.worker._lifecycle import LifeCycle
from engine.worker._sender import Sender


def test_no_abandon_call_to_a_dapr_sidecar_and_the_log_says_so() -> None:
    lines: list[str] = []
    called: list[str] = []

    def stub() -> object:
        called.append("stub")
        return None

    sender = Sender(stub, None, LifeCycle(), lines.append, lambda: None, can_abandon=False)  # type: ignore[arg-type]
    assert sender.abandon("turn", "7", "abandon turn #1") is False
    assert called == []
    assert lines == [
        "could not abandon turn #1 (the sidecar has no abandon call: it keeps the work item"
        " and hands it out again once this worker's stream closes)"
    ]
    assert abandons("dapr") is False and abandons("durabletask") is True


def test_dialect_is_checked_at_the_door() -> None:
    with pytest.raises(ConnectionConfigError, match="--dialect: expected durabletask or dapr"):
        ConnectionOptions(address="127.0.0.1:1", dialect="grpc")


def _dapr_turn() -> bytes:
    request = dpb.WorkflowRequest(instanceId="i1")
    started = request.newEvents.add(eventId=-1)
    started.executionStarted.name = "wf"
    started.router.sourceAppID = "app1"
    started.router.targetAppID = "app2"
    return dpb.WorkItem(workflowRequest=request, completionToken="5").SerializeToString()


def test_codec_reads_dapr_items_and_answers_as_dapr_worker_would() -> None:
    codec = DaprCodec()
    assert codec.work_items_request(pb.GetWorkItemsRequest(maxConcurrentActivityWorkItems=3)) == b""
    item = codec.work_item(_dapr_turn())
    assert item.orchestratorRequest.newEvents[0].executionStarted.name == "wf"
    response = pb.OrchestratorResponse(instanceId="i1", completionToken="5")
    task = response.actions.add(id=1)
    task.scheduleTask.name = "say"
    task.scheduleTask.tags["k"] = "v"  # Microsoft-only: must not become a route
    timer = response.actions.add(id=2)
    timer.createTimer.fireAt.seconds = 10
    answer = dpb.WorkflowResponse.FromString(codec.turn_response(response.SerializeToString()))
    first, second = answer.actions
    assert first.router.sourceAppID == "app2"  # executionStarted's target app is our app id
    assert first.scheduleTask.router.sourceAppID == "app2"
    assert not first.scheduleTask.router.HasField("targetAppID")
    again = dpb.WorkflowResponse.FromString(codec.turn_response(response.SerializeToString()))
    assert first.scheduleTask.taskExecutionId == again.actions[0].scheduleTask.taskExecutionId != ""
    assert second.createTimer.WhichOneof("origin") == "createTimer"


def test_attach_and_worker_take_the_dialect_to_the_connection() -> None:
    from inspector.__main__ import build_parser
    from inspector.options import connection_options

    parser = build_parser()
    for command in (["attach", "127.0.0.1:5"], ["worker", "127.0.0.1:5", "--app", "x"]):
        args = parser.parse_args([*command, "--dialect", "dapr"])
        assert connection_options(args).dialect == "dapr"
        args = parser.parse_args(command)
        assert connection_options(args).dialect == "durabletask"
