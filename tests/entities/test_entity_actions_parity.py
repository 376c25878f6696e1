"""Entity operations that act (signal another entity, start an orchestration), under
``inspector worker`` and under the SDK's worker side by side, each on its own in-memory
sidecar, driven by the SDK's client: the same outputs and the same started orchestrations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from durabletask import client as dt_client
from durabletask import worker as dt_worker
from worker_helpers import QUIET, WorkerProcess, start_sidecar, wait_done

from engine import load_app

APP = str(Path(__file__).resolve().parent / "fixtures" / "actions_app.py")


def _drive(port: int) -> tuple[Any, list[tuple[str, Any]]]:
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        client.schedule_new_orchestration("tally_flow", instance_id="flow")
        state = wait_done(client, "flow", timeout=60)
        deadline = time.monotonic() + 60
        while True:  # the orchestrations the entities started run on their own
            greetings = [s for s in client.get_all_orchestration_states() if s.name == "greeting"]
            done = [s for s in greetings if s.runtime_status.name == "COMPLETED"]
            if len(done) == 2:
                break
            assert time.monotonic() < deadline, [s.runtime_status for s in greetings]
            time.sleep(0.05)
        read = [client.get_orchestration_state(s.instance_id) for s in done]
        outputs = sorted((s.runtime_status.name, s.serialized_output) for s in read if s)
        return (state.runtime_status.name, state.serialized_output), outputs
    finally:
        client.close()


def test_acting_entities_end_the_same_under_both_workers(tmp_path: Path) -> None:
    app = load_app(APP)
    backend, port = start_sidecar()
    sdk = dt_worker.TaskHubGrpcWorker(host_address=f"127.0.0.1:{port}", logger=QUIET)
    for name in ("tally_flow", "greeting"):
        sdk.add_orchestrator(app.functions[name])
    for entity in app.entities.values():
        sdk.add_entity(entity)
    try:
        sdk.start()
        theirs = _drive(port)
    finally:
        sdk.stop()
        backend.stop(grace=0)
    backend, port = start_sidecar()
    ours = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log")
    try:
        ours.wait_for("connected")
        mine = _drive(port)
        ours.terminate()
    finally:
        ours.stop()
        backend.stop(grace=0)
    assert theirs[0] == ("COMPLETED", '{"entries": 1, "total": 6}')
    assert mine == theirs
    assert [o for _, o in theirs[1]] == ['"hello ledger-1"', '"hello main"']
    assert "abandon" not in ours.output().replace("0 abandoned", "")
