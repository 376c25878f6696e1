"""An entity batch whose user process dies or hangs is answered, not lost: its operations fail."""

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


def test_a_hanging_entity_batch_fails_at_its_timeout(tmp_path: Path) -> None:
    backend, port = start_sidecar()
    extra = ("--activity-timeout", "1", "--max-timeouts", "2")
    worker = WorkerProcess(f"127.0.0.1:{port}", APP, *extra, log=tmp_path / "w.log")
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.wait_for("connected")
        client.schedule_new_orchestration("call_hanging", instance_id="h1")
        state = wait_done(client, "h1", timeout=60)
        assert worker.terminate() == 0
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)
    log = worker.output()
    assert state.runtime_status.name == "COMPLETED", log
    assert state.serialized_output == '"engine.worker.ActivityTimeoutError"'
    # like an activity, a timed-out batch fails at once (the caller sees the failure) rather
    # than being abandoned, which some sidecars drop
    assert "the entity batch ran past its 1s timeout" in log
    assert "timed out after 1s (1 of 2)" not in log
