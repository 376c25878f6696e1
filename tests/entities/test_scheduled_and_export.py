"""Scheduled orchestrations and history export work under ``inspector worker``.

A schedule runs side by side under the SDK's worker and ours (each on its own in-memory
sidecar); a history export job, registered by the APP's ``configure_worker`` with the SDK's
own helper, completes and writes the exported history.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from durabletask import client as dt_client
from durabletask import worker as dt_worker
from durabletask.extensions.history_export import (
    ExportDestination,
    ExportHistoryClient,
    ExportJobCreationOptions,
    ExportMode,
)
from durabletask.scheduled import ScheduleCreationOptions, ScheduledTaskClient
from worker_helpers import QUIET, WorkerProcess, start_sidecar, wait_done

from engine import load_app

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TICKS = 4


def _ticks(client: dt_client.TaskHubGrpcClient) -> int:
    states = client.get_all_orchestration_states()
    return sum(1 for s in states if s.name == "tick" and s.runtime_status.name == "COMPLETED")


def _wait_ticks(client: dt_client.TaskHubGrpcClient, count: int, timeout: float = 60.0) -> float:
    started = time.monotonic()
    while _ticks(client) < count:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"fewer than {count} ticks after {timeout:.0f}s")
        time.sleep(0.1)
    return time.monotonic() - started


def _schedule(client: dt_client.TaskHubGrpcClient) -> None:
    options = ScheduleCreationOptions("s1", "tick", timedelta(seconds=1))
    ScheduledTaskClient(client, operation_timeout=60).create_schedule(options)


def test_a_schedule_runs_under_our_worker_as_under_the_sdk_worker(tmp_path: Path) -> None:
    sdk_backend, sdk_port = start_sidecar()
    our_backend, our_port = start_sidecar()
    tick = load_app(str(FIXTURES / "scheduled_app.py")).functions["tick"]  # the same APP
    sdk = dt_worker.TaskHubGrpcWorker(host_address=f"127.0.0.1:{sdk_port}", logger=QUIET)
    sdk.add_orchestrator(tick)
    sdk.configure_scheduled_tasks()
    ours = WorkerProcess(
        f"127.0.0.1:{our_port}", str(FIXTURES / "scheduled_app.py"), log=tmp_path / "w.log"
    )
    sdk_client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{sdk_port}", logger=QUIET)
    our_client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{our_port}", logger=QUIET)
    try:
        sdk.start()
        ours.wait_for("connected")
        _schedule(sdk_client)
        _schedule(our_client)
        sdk_seconds = _wait_ticks(sdk_client, TICKS)
        our_seconds = _wait_ticks(our_client, TICKS)
        assert ours.terminate() == 0
    finally:
        sdk.stop()
        ours.stop()
        sdk_client.close()
        our_client.close()
        sdk_backend.stop(grace=0)
        our_backend.stop(grace=0)
    log = ours.output()
    assert " 0 abandoned, 0 undelivered" in log, log
    assert our_seconds < sdk_seconds + TICKS, (our_seconds, sdk_seconds)


def test_a_history_export_job_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, port = start_sidecar()
    out = tmp_path / "export"
    monkeypatch.setenv("EXPORT_SIDECAR", f"127.0.0.1:{port}")
    monkeypatch.setenv("EXPORT_DIR", str(out))
    worker = WorkerProcess(
        f"127.0.0.1:{port}", str(FIXTURES / "export_app.py"), log=tmp_path / "w.log"
    )
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.wait_for("connected")
        since = datetime.now(timezone.utc) - timedelta(minutes=1)
        client.schedule_new_orchestration("hello", input="x", instance_id="h1")
        assert wait_done(client, "h1").runtime_status.name == "COMPLETED"
        writer = load_app(str(FIXTURES / "export_app.py")).module.FolderWriter(str(out))
        export = ExportHistoryClient(client, writer)
        options = ExportJobCreationOptions(
            mode=ExportMode.BATCH,
            completed_time_from=since,
            completed_time_to=datetime.now(timezone.utc) + timedelta(minutes=1),
            destination=ExportDestination(container="c", prefix="p"),
        )
        job = export.create_job(options, job_id="j1")
        done = export.wait_for_job(job.job_id, timeout=60, poll_interval=0.2)
        assert worker.terminate() == 0
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)
    assert done.status.name == "COMPLETED", done
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files, worker.output()
