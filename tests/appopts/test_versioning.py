"""The app worker's ``VersioningOptions``: the version check (fail / reject) and the default
version of sub-orchestrations, side by side with the SDK's worker, and in replay."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appopts_support import (
    QUIET,
    WorkerProcess,
    final_state,
    free_port,
    keep_sys_path,  # noqa: F401 - autouse: restores sys.path after each test
    run_cli,
)
from durabletask import client as dt_client
from durabletask import worker as dt_worker
from durabletask.internal import orchestrator_service_pb2 as sdk_pb
from durabletask.serialization import DEFAULT_DATA_CONVERTER
from replay_compare import normalized, parse_response

from engine.app_loader import load_app
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import replay_request
from samples import versioned_worker
from samples.record import RecordingBackend

VERSIONS = {"v1": "1.0", "v2": "2.0", "v3": "3.0", "v2-1": "2.1"}


class AbandonCountingBackend(RecordingBackend):
    """The recording sidecar, counting abandoned orchestration work items per instance."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.abandoned: dict[str, int] = {}
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        for item in super().GetWorkItems(request, context):
            if item.HasField("orchestratorRequest"):
                with self._lock:
                    self._tokens[item.completionToken] = item.orchestratorRequest.instanceId
            yield item

    def AbandonTaskOrchestratorWorkItem(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._lock:
            iid = self._tokens.get(request.completionToken, "?")
            self.abandoned[iid] = self.abandoned.get(iid, 0) + 1
        return super().AbandonTaskOrchestratorWorkItem(request, context)

    def wait_abandoned(self, iid: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.abandoned.get(iid, 0) >= 1:
                    return
            assert time.monotonic() < deadline, f"{iid} was never abandoned"
            time.sleep(0.05)


def _schedule(port: int, starts: dict[str, str]) -> dt_client.TaskHubGrpcClient:
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    for iid, version in starts.items():
        client.schedule_new_orchestration("parent", instance_id=iid, version=version)
    return client


def _fail_run(start: Any) -> tuple[dict[str, Any], AbandonCountingBackend]:
    port = free_port()
    backend = AbandonCountingBackend(port)
    backend.start()
    stop = start(port)
    client = None
    try:
        client = _schedule(port, VERSIONS)
        return {iid: final_state(client, iid) for iid in VERSIONS}, backend
    finally:
        if client is not None:
            client.close()
        stop()
        backend.stop(grace=0)


def _sdk(factory: Any) -> Any:
    def start(port: int) -> Any:
        w = factory(f"127.0.0.1:{port}")
        w._logger = QUIET
        w.start()
        return w.stop

    return start


def _ours(app: str, log: Path) -> Any:
    def start(port: int) -> Any:
        return WorkerProcess(f"127.0.0.1:{port}", app, log=log).stop

    return start


@pytest.fixture(scope="module")
def sdk_fail_run() -> tuple[dict[str, Any], AbandonCountingBackend]:
    return _fail_run(_sdk(versioned_worker.build_worker))


def test_fail_strategy_ends_as_under_the_sdk_worker(
    sdk_fail_run: tuple[dict[str, Any], AbandonCountingBackend], tmp_path: Path
) -> None:
    theirs, _ = sdk_fail_run
    assert theirs["v3"][0] == "FAILED" and theirs["v3"][3][0] == "VersionMismatch"
    assert theirs["v1"] == ("COMPLETED", '{"parent": "1.0", "child": "2.0"}', None, None)
    ours, _ = _fail_run(_ours("samples.versioned_worker:worker", tmp_path / "w.log"))
    assert ours == theirs


def _executor_response(request: pb.OrchestratorRequest) -> pb.OrchestratorResponse:
    registry = dt_worker._Registry()
    registry.add_orchestrator(versioned_worker.parent)
    registry.add_orchestrator(versioned_worker.child)
    registry.versioning = versioned_worker.worker._registry.versioning
    logger = logging.getLogger("tests.appopts.executor")
    logger.disabled = True
    executor = dt_worker._OrchestrationExecutor(registry, logger, DEFAULT_DATA_CONVERTER)
    theirs = sdk_pb.OrchestratorRequest.FromString(request.SerializeToString())
    result = executor.execute(theirs.instanceId, theirs.pastEvents, theirs.newEvents)
    msg = sdk_pb.OrchestratorResponse(instanceId=theirs.instanceId, actions=result.actions)
    return parse_response(msg.SerializeToString())


def test_recorded_turns_replay_to_the_sdk_responses(
    sdk_fail_run: tuple[dict[str, Any], AbandonCountingBackend],
) -> None:
    _, backend = sdk_fail_run
    app = load_app("samples.versioned_worker:worker")
    plain = load_app("samples.versioned_worker")
    assert len(backend.turns) >= 8
    plain_differs = 0
    for turn in backend.turns:
        request = pb.OrchestratorRequest.FromString(turn.request)
        loaded = OrchestrationRequest.from_proto(request)
        recorded = normalized(parse_response(turn.response))
        ours = normalized(replay_request(loaded, app).response)
        assert ours == recorded == normalized(_executor_response(request)), turn.instance_id
        plain_differs += normalized(replay_request(loaded, plain).response) != recorded
    assert plain_differs >= 2  # the v3 failure and the child's version


def _reject_run(start: Any) -> tuple[Any, AbandonCountingBackend]:
    port = free_port()
    backend = AbandonCountingBackend(port)
    backend.start()
    stop = start(port)
    client = None
    try:
        client = _schedule(port, {"v3": "3.0", "v1": "1.0"})
        done = final_state(client, "v1")
        backend.wait_abandoned("v3")
        state = client.get_orchestration_state("v3")
        assert state is not None
        return (done, state.runtime_status.name), backend
    finally:
        if client is not None:
            client.close()
        stop()
        backend.stop(grace=0)


def test_reject_strategy_leaves_it_pending_as_the_sdk_worker(tmp_path: Path) -> None:
    theirs, _ = _reject_run(_sdk(versioned_worker.build_rejecting_worker))
    assert theirs[1] == "PENDING"
    app = "samples.versioned_worker:rejecting_worker"
    ours, backend = _reject_run(_ours(app, tmp_path / "w.log"))
    assert ours == theirs
    assert not [t for t in backend.turns if t.instance_id == "v3"]  # never answered


def test_replay_of_a_rejected_turn_is_one_line_and_exit_2(
    sdk_fail_run: tuple[dict[str, Any], AbandonCountingBackend], tmp_path: Path
) -> None:
    _, backend = sdk_fail_run
    turn = next(t for t in backend.turns if t.instance_id == "v3")
    path = tmp_path / "v3.b64"
    path.write_bytes(base64.b64encode(turn.request))
    done = run_cli("replay", str(path), "--app", "samples.versioned_worker:rejecting_worker")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "rejects" in done.stderr
