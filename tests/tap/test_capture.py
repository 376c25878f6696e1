"""The capture on its own: pairing by kind and token, outcomes, recording, bad bytes."""

from __future__ import annotations

from pathlib import Path

import grpc

from engine.proto import orchestrator_service_pb2 as pb
from engine.tap import Capture
from engine.tap._wire import string_field
from engine.worker import Outcome, WorkItemEvent

S = "/TaskHubSidecarService/"


def _turn(instance: str, token: str) -> bytes:
    started = pb.HistoryEvent(executionStarted=pb.ExecutionStartedEvent(name="flow"))
    request = pb.OrchestratorRequest(instanceId=instance, newEvents=[started])
    return pb.WorkItem(orchestratorRequest=request, completionToken=token).SerializeToString()


def _activity(instance: str, token: str) -> bytes:
    request = pb.ActivityRequest(
        name="hello", orchestrationInstance=pb.OrchestrationInstance(instanceId=instance)
    )
    return pb.WorkItem(activityRequest=request, completionToken=token).SerializeToString()


def _capture(tmp_path: Path) -> tuple[Capture, list[WorkItemEvent], list[str]]:
    events: list[WorkItemEvent] = []
    logs: list[str] = []
    return Capture(events.append, None, str(tmp_path), logs.append), events, logs


def test_pairs_by_kind_and_token_and_names_the_outcome(tmp_path: Path) -> None:
    capture, events, _ = _capture(tmp_path)
    ok = grpc.StatusCode.OK
    capture.item(_turn("i1", "7"), "ipv4:w1")
    capture.item(_activity("i1", "7"), "ipv4:w1")  # the same token, another kind
    capture.item(pb.WorkItem(healthPing=pb.HealthPing()).SerializeToString(), "ipv4:w1")
    failure = pb.TaskFailureDetails(errorType="builtins.ValueError", errorMessage="boom")
    activity = pb.ActivityResponse(instanceId="i1", failureDetails=failure, completionToken="7")
    capture.completion(S + "CompleteActivityTask", activity.SerializeToString(), ok, "", "ipv4:w2")
    done = pb.OrchestratorAction(
        completeOrchestration=pb.CompleteOrchestrationAction(
            orchestrationStatus=pb.ORCHESTRATION_STATUS_COMPLETED
        )
    )
    turn = pb.OrchestratorResponse(instanceId="i1", actions=[done], completionToken="7")
    refused = grpc.StatusCode.RESOURCE_EXHAUSTED
    capture.completion(
        S + "CompleteOrchestratorTask", turn.SerializeToString(), refused, "big", "w"
    )
    assert capture.flush()
    assert capture.open_items() == 0
    first, second = events
    assert (first.kind, first.name, first.result, first.outcome) == (
        "activity",
        "hello",
        "FAILED builtins.ValueError",
        Outcome.FAILED,
    )
    assert first.worker == "ipv4:w2" and first.detail == "boom"
    assert first.line().endswith(" - boom via ipv4:w2")
    assert (second.kind, second.name, second.outcome) == (
        "orchestrator",
        "flow",
        Outcome.UNDELIVERED,
    )
    assert second.result == "UNDELIVERED RESOURCE_EXHAUSTED" and "big" in second.detail
    assert capture.stats.received == 2 and capture.stats.undelivered == 1
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "000001-i1-turn.b64",
        "000001-i1-turn.response.b64",
        "000002-i1-activity-hello.b64",
        "000002-i1-activity-hello.response.b64",
    ]
    capture.close()


def test_abandons_and_entity_completions_are_paired_from_the_wire(tmp_path: Path) -> None:
    capture, events, _ = _capture(tmp_path)
    ok = grpc.StatusCode.OK
    entity = pb.EntityBatchRequest(instanceId="@counter@c1")
    capture.item(pb.WorkItem(entityRequest=entity, completionToken="e1").SerializeToString(), "w")
    capture.item(_turn("i2", "t2"), "w")
    # EntityBatchResult is not in our module: field 5 holds the token.
    capture.completion(S + "CompleteEntityTask", b"\x2a\x02e1", ok, "", "w")
    abandon = pb.AbandonOrchestrationTaskRequest(completionToken="t2").SerializeToString()
    capture.completion(S + "AbandonTaskOrchestratorWorkItem", abandon, ok, "", "w")
    assert capture.flush()
    entity_event, abandoned = events
    assert (entity_event.kind, entity_event.name, entity_event.result) == (
        "entity",
        "counter",
        "ok",
    )
    assert abandoned.outcome is Outcome.ABANDONED and abandoned.name == "flow"
    assert (tmp_path / "000002-i2-turn.abandoned").exists()
    assert capture.stats.unpaired == 0 and capture.open_items() == 0
    capture.close()


def test_bytes_that_do_not_decode_are_counted_and_capture_goes_on(tmp_path: Path) -> None:
    capture, events, logs = _capture(tmp_path)
    capture.item(b"\xff\xff\xff", "w")
    capture.completion(S + "CompleteActivityTask", b"\x0a\xff", grpc.StatusCode.OK, "", "w")
    capture.item(_activity("i3", "a3"), "w")
    reply = pb.ActivityResponse(instanceId="i3", completionToken="a3").SerializeToString()
    capture.completion(S + "CompleteActivityTask", reply, grpc.StatusCode.OK, "", "w")
    assert capture.flush()
    assert capture.stats.undecodable == 2 and len(logs) == 2
    assert [e.result for e in events] == ["ok"]
    capture.close()


def test_a_string_field_is_read_from_the_wire() -> None:
    data = pb.ActivityResponse(instanceId="x", taskId=3, completionToken="tok").SerializeToString()
    assert string_field(data, 5) == "tok"
    assert string_field(data, 1) == "x"
    assert string_field(b"", 5) == ""


def test_a_redelivery_under_the_same_token_pairs_after_the_abandon(tmp_path: Path) -> None:
    # The in-memory sidecar redelivers an abandoned turn with its token at once: the new work
    # item can be seen before the abandon's answer is.
    capture, events, _ = _capture(tmp_path)
    ok = grpc.StatusCode.OK
    capture.item(_turn("i4", "t4"), "w")
    capture.item(_turn("i4", "t4"), "w")  # the redelivery
    abandon = pb.AbandonOrchestrationTaskRequest(completionToken="t4").SerializeToString()
    capture.completion(S + "AbandonTaskOrchestratorWorkItem", abandon, ok, "", "w", "held")
    turn = pb.OrchestratorResponse(instanceId="i4", completionToken="t4").SerializeToString()
    capture.completion(S + "CompleteOrchestratorTask", turn, ok, "", "w")
    assert capture.flush()
    assert [(e.number, e.outcome, e.detail) for e in events] == [
        (1, Outcome.ABANDONED, "held"),
        (2, Outcome.COMPLETED, ""),
    ]
    assert events[1].result == "0 actions" and capture.open_items() == 0
    capture.close()
