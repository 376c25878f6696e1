"""Rewind, as the SDK handles it: a failed activity and a failed sub-orchestration are rewound
(``client.rewind_orchestration``) and then complete, under the SDK's worker and under ours, side
by side; every rewind turn replays to the SDK executor's response."""

from __future__ import annotations

import base64
import logging
import time
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

from engine.proto import orchestrator_service_pb2 as pb
from engine.rewind import is_rewind, rewind_history
from samples import rewind_app
from samples.record import RecordingBackend

STARTS = {"act": "rewound_activity", "sub": "rewound_child"}


def _run(start: Any) -> tuple[dict[str, Any], RecordingBackend]:
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    stop = start(port)
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        for iid, name in STARTS.items():
            client.schedule_new_orchestration(name, input=iid, instance_id=iid)
        first = {iid: final_state(client, iid)[0] for iid in STARTS}
        for iid in STARTS:
            client.rewind_orchestration(iid, reason="try again")
        deadline = time.monotonic() + 60
        final = {}
        for iid in STARTS:
            while True:  # wait for the rewound run to end (it leaves FAILED first)
                state = final_state(client, iid)
                if state[0] != "FAILED" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            final[iid] = state
        return {"first": first, "final": final}, backend
    finally:
        client.close()
        stop()
        backend.stop(grace=0)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("REWIND_STATE_DIR", str(folder))
    return folder


def _sdk(port: int) -> Any:
    w = dt_worker.TaskHubGrpcWorker(host_address=f"127.0.0.1:{port}", logger=QUIET)
    for fn in (rewind_app.rewound_activity, rewind_app.rewound_child):
        w.add_orchestrator(fn)
    for fn in (rewind_app.flaky_once, rewind_app.steady):
        w.add_activity(fn)
    w.start()
    return w.stop


def _executor_response(request: pb.OrchestratorRequest) -> pb.OrchestratorResponse:
    registry = dt_worker._Registry()
    registry.add_orchestrator(rewind_app.rewound_activity)
    registry.add_orchestrator(rewind_app.rewound_child)
    logger = logging.getLogger("tests.appopts.executor")
    logger.disabled = True
    executor = dt_worker._OrchestrationExecutor(registry, logger, DEFAULT_DATA_CONVERTER)
    theirs = sdk_pb.OrchestratorRequest.FromString(request.SerializeToString())
    result = executor.execute(theirs.instanceId, theirs.pastEvents, theirs.newEvents)
    msg = sdk_pb.OrchestratorResponse(instanceId=theirs.instanceId, actions=result.actions)
    return parse_response(msg.SerializeToString())


def _without_execution_ids(response: pb.OrchestratorResponse) -> dict[str, Any]:
    """The response, with the fresh (random) execution id of a rewind left out."""
    msg = pb.OrchestratorResponse()
    msg.CopyFrom(response)
    for action in msg.actions:
        for event in action.rewindOrchestration.newHistory:
            if event.HasField("executionStarted"):
                event.executionStarted.orchestrationInstance.ClearField("executionId")
    return normalized(msg)


def test_rewind_ends_as_under_the_sdk_worker(state_dir: Path, tmp_path: Path) -> None:
    theirs, sdk_backend = _run(_sdk)
    assert theirs["first"] == {"act": "FAILED", "sub": "FAILED"}
    assert theirs["final"]["act"] == ("COMPLETED", '"act steady; act ok"', None, None)
    assert theirs["final"]["sub"][0] == "COMPLETED"
    for marker in state_dir.iterdir():
        marker.unlink()

    def ours_start(port: int) -> Any:
        return WorkerProcess(f"127.0.0.1:{port}", "samples.rewind_app", log=tmp_path / "w.log").stop

    ours, our_backend = _run(ours_start)
    assert ours == theirs
    assert any(is_rewind(pb.OrchestratorRequest.FromString(t.request)) for t in our_backend.turns)


def test_every_rewind_turn_replays_to_the_executors_response(
    state_dir: Path, tmp_path: Path
) -> None:
    _, backend = _run(_sdk)
    rewinds = [
        pb.OrchestratorRequest.FromString(t.request)
        for t in backend.turns
        if is_rewind(pb.OrchestratorRequest.FromString(t.request))
    ]
    assert len(rewinds) >= 2  # the failed activity's and the parent of the failed child
    for n, request in enumerate(rewinds):
        path = tmp_path / f"rewind-{n}.b64"
        path.write_bytes(base64.b64encode(request.SerializeToString()))
        done = run_cli("replay", str(path), "--app", "samples.rewind_app")
        assert done.returncode == 0, done.stderr
        ours = parse_response(base64.b64decode(done.stdout))
        assert ours.actions[0].HasField("rewindOrchestration")
        assert _without_execution_ids(ours) == _without_execution_ids(_executor_response(request))
        _, change = rewind_history(request, "fixed")
        assert change.dropped_events >= 2  # the failure and executionCompleted, at least
