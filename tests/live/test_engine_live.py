"""engine.live against the SDK's in-memory sidecar, served by the SDK's own worker."""

from __future__ import annotations

import sys
from typing import Any

import grpc
from durabletask.internal import orchestrator_service_pb2 as sdk_pb
from durabletask.internal import orchestrator_service_pb2_grpc as sdk_grpc
from durabletask.testing import InMemoryOrchestrationBackend

from engine.live import Backoff, HoldRule, LiveClient, build_request, matches_any, status_value
from engine.proto import orchestrator_service_pb2 as pb
from samples import orchestrations as samples
from tests.live.conftest import start_backend, wait_done


def sdk_history(address: str, instance_id: str) -> list[Any]:
    """The history as the SDK's own stub reads it."""
    with grpc.insecure_channel(address) as channel:
        stub = sdk_grpc.TaskHubSidecarServiceStub(channel)
        chunks = stub.StreamInstanceHistory(
            sdk_pb.StreamInstanceHistoryRequest(instanceId=instance_id), timeout=10
        )
        return [event for chunk in chunks for event in chunk.events]


def test_instances_history_and_request(sidecar: Any, client: Any, sdk_worker: Any) -> None:
    _, address = sidecar
    ids = []
    for n in range(5):
        ids.append(
            client.schedule_new_orchestration(
                samples.single_activity, input=f"n{n}", instance_id=f"one-{n}"
            )
        )
    failing = client.schedule_new_orchestration(samples.uncaught_failure, instance_id="fails")
    waiting = client.schedule_new_orchestration(samples.wait_for_approval, instance_id="waits")
    for iid in ids + [failing]:
        wait_done(client, iid)
    live = LiveClient(address)
    try:
        rows = live.query_instances(page_size=2)  # several pages via the continuation token
        by_id = {r.instance_id: r for r in rows}
        assert set(by_id) == set(ids) | {failing, waiting}
        assert by_id["one-0"].status == "COMPLETED"
        assert by_id["one-0"].name == "single_activity"
        assert by_id["fails"].status == "FAILED"
        assert by_id["waits"].status in ("RUNNING", "PENDING")
        assert by_id["one-0"].created is not None and by_id["one-0"].last_updated is not None
        only_failed = live.query_instances(statuses=[status_value("failed")])
        assert [r.instance_id for r in only_failed] == ["fails"]
        named = live.query_instances(name="approval")
        assert [r.instance_id for r in named] == ["waits"]

        for iid in ("one-3", "fails"):
            request, history = live.request_for(iid)
            assert history.source == "StreamInstanceHistory"
            theirs = sdk_history(address, iid)
            ours = list(request.pastEvents) + list(request.newEvents)
            assert [e.WhichOneof("eventType") for e in ours] == [
                e.WhichOneof("eventType") for e in theirs
            ]
            assert [e.eventId for e in ours] == [e.eventId for e in theirs]
            assert [e.SerializeToString() for e in ours] == [e.SerializeToString() for e in theirs]
            assert request.instanceId == iid
            # every turn was answered: all past (the completion the last turn produced too)
            assert not request.newEvents
            assert request.pastEvents[-1].WhichOneof("eventType") == "executionCompleted"
    finally:
        live.close()


def test_build_request_splits_at_last_orchestrator_completed() -> None:
    def ev(kind: str) -> pb.HistoryEvent:
        event = pb.HistoryEvent(eventId=-1)
        getattr(event, kind).SetInParent()
        return event

    events = [
        ev("orchestratorStarted"),
        ev("executionStarted"),
        ev("orchestratorCompleted"),
        ev("orchestratorStarted"),
        ev("eventRaised"),
    ]
    request = build_request("x", events)
    assert len(request.pastEvents) == 3 and len(request.newEvents) == 2
    assert len(build_request("x", events[:2]).newEvents) == 2


class NoHistoryBackend(InMemoryOrchestrationBackend):
    """A sidecar without StreamInstanceHistory."""

    def StreamInstanceHistory(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not here")


def test_falls_back_to_get_instance(client: Any) -> None:
    backend, address = start_backend(NoHistoryBackend)
    try:
        from durabletask import client as dt_client

        from tests.live.conftest import QUIET

        c = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
        c.schedule_new_orchestration(samples.single_activity, input="x", instance_id="fb")
        live = LiveClient(address)
        try:
            request, history = live.request_for("fb")
            assert history.source == "GetInstance"
            kinds = [e.WhichOneof("eventType") for e in request.newEvents]
            assert kinds == ["orchestratorStarted", "executionStarted"]
            assert request.newEvents[1].executionStarted.name == "single_activity"
            assert request.newEvents[1].executionStarted.input.value == '"x"'
        finally:
            live.close()
            c.close()
    finally:
        backend.stop(grace=0)


def test_hold_rules() -> None:
    request = pb.OrchestratorRequest(instanceId="sample-abc")
    started = request.pastEvents.add(eventId=-1)
    started.executionStarted.name = "wait_for_approval"
    raised = request.newEvents.add(eventId=-1)
    raised.eventRaised.name = "Approval"
    assert matches_any([], request)
    assert HoldRule(kind="eventRaised").matches(request)
    assert not HoldRule(kind="timerFired").matches(request)
    assert HoldRule(name="Approval", instance="sample-").matches(request)
    assert HoldRule(name="wait_for_approval").matches(request)
    assert not HoldRule(instance="other").matches(request)
    assert HoldRule(kind="eventRaised", name="x").describe() == "kind=eventRaised name=x"


def test_backoff_is_full_jitter_and_resets() -> None:
    import random

    backoff = Backoff(base=1.0, cap=4.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    assert all(0.5 <= d <= 4.0 for d in delays)
    backoff.reset()
    assert backoff.attempt == 0


def test_engine_never_imports_textual() -> None:
    assert "engine.live" in sys.modules
    import subprocess

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, engine.live; print(any(m.split('.')[0] in ('textual','rich') "
            "for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
