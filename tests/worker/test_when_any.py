"""An activity's result is held for its siblings only when a ``when_all`` still needs them.

The hold is made an hour long here, so a result held when it should not be never arrives
within the test's deadline: what is observed is which turns happen, never how long they took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_APP, QUIET, free_port, wait_done
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend
from test_outcomes import Seen

from engine.app_loader import load_app
from engine.headless import replay_request
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.worker import ConnectionOptions, Outcome, Worker, WorkerOptions

COMPLETED = dt_client.OrchestrationStatus.COMPLETED
HOUR = 3600.0


@pytest.fixture
def served() -> Iterator[tuple[Worker, dt_client.TaskHubGrpcClient, Seen]]:
    port = free_port()
    sidecar = InMemoryOrchestrationBackend(port=port)
    sidecar.start()
    address = f"127.0.0.1:{port}"
    seen = Seen()
    options = WorkerOptions(
        app=FIXTURE_APP, max_orchestrations=1, max_activities=2, grace=5, result_hold=HOUR
    )
    worker = Worker(ConnectionOptions(address), options, on_event=seen, log=seen.log)
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
    try:
        worker.start()
        yield worker, client, seen
    finally:
        worker.stop()
        client.close()
        sidecar.stop(grace=0)


def test_a_when_any_completes_with_the_fast_result_while_the_slow_one_runs(
    served: Any, tmp_path: Path
) -> None:
    _, client, seen = served
    gate = tmp_path / "release-the-slow-activity"
    try:
        client.schedule_new_orchestration("first_of_two", input=str(gate), instance_id="race")
        state = wait_done(client, "race")
        assert state.runtime_status == COMPLETED
        assert state.serialized_output == '"fast"'
        # The slow activity is still waiting for the file: it has not been answered.
        assert not seen.find(instance_id="race", kind="activity", name="wait_for_file")
    finally:
        gate.touch()
    turns = seen.find(instance_id="race", kind="orchestrator", outcome=Outcome.COMPLETED)
    assert [e.result for e in turns] == ["2 actions", "COMPLETED"]


def test_a_result_a_when_all_needs_waits_for_its_sibling(served: Any, tmp_path: Path) -> None:
    worker, client, seen = served
    gate = tmp_path / "release-the-slow-activity"
    try:
        client.schedule_new_orchestration("echo_and_wait", input=str(gate), instance_id="fan")
        deadline = time.monotonic() + 30.0
        while worker._sender.held("fan") != 1:
            assert time.monotonic() < deadline, "the echo's result was never held"
            time.sleep(0.02)
        assert not seen.find(instance_id="fan", kind="activity")
    finally:
        gate.touch()
    state = wait_done(client, "fan")
    assert state.runtime_status == COMPLETED
    assert state.serialized_output == '["fast", "slow"]'


def test_a_chain_is_never_held(served: Any) -> None:
    _, client, _ = served
    client.schedule_new_orchestration("fan_naps", input=2, instance_id="chain")
    assert wait_done(client, "chain").runtime_status == COMPLETED


def _request(name: str, value: str, *, done: tuple[int, ...] = (), scheduled: int = 0) -> Any:
    request = pb.OrchestratorRequest(instanceId="i")
    past = request.pastEvents
    past.add(eventId=-1).orchestratorStarted.SetInParent()
    started = past.add(eventId=-1).executionStarted
    started.name = name
    started.input.value = value
    for task_id in range(1, scheduled + 1):
        past.add(eventId=task_id).taskScheduled.name = "nap" if name == "fan_naps" else "echo"
    request.newEvents.add(eventId=-1).orchestratorStarted.SetInParent()
    for task_id in done:
        completed = request.newEvents.add(eventId=-1).taskCompleted
        completed.taskScheduledId = task_id
        completed.result.value = str(task_id)
    return OrchestrationRequest.from_proto(request)


def test_the_replay_says_what_a_when_all_still_needs() -> None:
    app = load_app(FIXTURE_APP)

    def needs(request: Any) -> frozenset[int]:
        return replay_request(request, app).when_all_needs

    assert needs(_request("fan_naps", "3")) == {1, 2, 3}
    assert needs(_request("fan_naps", "3", scheduled=3, done=(2,))) == {1, 3}
    assert needs(_request("fan_naps", "2", scheduled=2, done=(1, 2))) == set()  # a chain step
    assert needs(_request("first_of_two", '"p"')) == set()  # a when_any
    assert needs(_request("quick", '"x"')) == set()
