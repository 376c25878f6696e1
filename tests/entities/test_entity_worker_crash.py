"""An entity batch whose user process dies is answered, not lost: each operation fails."""

from __future__ import annotations

from pathlib import Path

from durabletask import client as dt_client
from worker_helpers import QUIET, WorkerProcess, start_sidecar, wait_done

APP = str(Path(__file__).resolve().parent / "fixtures" / "crash_app.py")


def test_a_crashed_entity_batch_fails_its_operations(tmp_path: Path) -> None:
    backend, port = start_sidecar()
    worker = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log")
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.wait_for("connected")
        client.schedule_new_orchestration("call_crasher", instance_id="c1")
        state = wait_done(client, "c1")
        assert worker.terminate() == 0
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)
    assert state.runtime_status.name == "COMPLETED", worker.output()
    assert state.serialized_output == '"engine.worker.UserProcessCrashed"'
    assert "died (exit code 3) while running the entity batch" in worker.output()
