"""The fault suite: each fault of issue 17 against ``inspector worker``, nothing lost.

Run alone with ``pytest -m faults``. The peer is the SDK's in-memory sidecar, which drops
abandoned activities and keeps no leases: a work item lost by the worker stays lost, so each
orchestration reaching its terminal state is the proof. ``bench/faults_side_by_side.py`` runs
the same faults against the SDK's own worker.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import WorkerProcess, start_sidecar, wait_done
from durabletask import client as dt_client

pytestmark = pytest.mark.faults

APP = str(Path(__file__).resolve().parent / "fixtures" / "fault_app.py")
COMPLETED = dt_client.OrchestrationStatus.COMPLETED
FAILED = dt_client.OrchestrationStatus.FAILED
SUMMARY = re.compile(
    r"(\d+) work items received, (\d+) completed, (\d+) abandoned, (\d+) undelivered"
)


def summary(log: str) -> tuple[int, int, int, int]:
    found = SUMMARY.search(log)
    assert found is not None, log
    received, completed, abandoned, undelivered = map(int, found.groups())
    return received, completed, abandoned, undelivered


def test_a_10_mb_activity_result_fails_the_activity_naming_the_limit(
    tmp_path: Path, sidecar: Any, client_for: Any
) -> None:
    _, port = sidecar
    worker = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log")
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration("calls_big", input=10)
        state = wait_done(client, iid, timeout=120)
        assert state.runtime_status == COMPLETED, worker.output()
        failure = json.loads(state.serialized_output)
        assert failure["type"] == "engine.worker.ResponseRefused"
        assert "RESOURCE_EXHAUSTED" in failure["message"]
        assert "4194304" in failure["message"], failure
        assert worker.terminate() == 0
        log = worker.output()
        # The log tells the true outcome: the refusal, then the failure sent in its place.
        assert "big FAILED engine.worker.ResponseRefused" in log, log
        assert " big ok " not in log, log
        received, completed, abandoned, undelivered = summary(log)
        assert (received, completed, abandoned, undelivered) == (3, 3, 0, 0), log
    finally:
        worker.stop()


def test_a_10_mb_orchestration_output_fails_the_orchestration(
    tmp_path: Path, sidecar: Any, client_for: Any
) -> None:
    _, port = sidecar
    worker = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log")
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration("big_output", input=10)
        state = wait_done(client, iid, timeout=120)
        assert state.runtime_status == FAILED, worker.output()
        assert state.failure_details is not None
        assert state.failure_details.error_type == "engine.worker.ResponseRefused"
        assert "refused the orchestrator turn's response" in state.failure_details.message
        assert "RESOURCE_EXHAUSTED" in state.failure_details.message
        assert worker.terminate() == 0
        assert summary(worker.output()) == (1, 1, 0, 0), worker.output()
    finally:
        worker.stop()


def test_a_hanging_activity_fails_with_the_default_options(
    tmp_path: Path, sidecar: Any, client_for: Any
) -> None:
    _, port = sidecar
    # The default --max-timeouts (3); only the timeout is short so the test is quick.
    worker = WorkerProcess(
        f"127.0.0.1:{port}", APP, "--activity-timeout", "2", log=tmp_path / "w.log"
    )
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration("calls_hang", input=None)
        state = wait_done(client, iid, timeout=120)
        assert state.runtime_status == COMPLETED, worker.output()
        failure = json.loads(state.serialized_output)
        assert failure["type"] == "engine.worker.ActivityTimeoutError"
        assert failure["message"].startswith("the activity ran past its 2s timeout; stuck at ")
        assert "fault_app.py" in failure["message"] and "in hang" in failure["message"]
        assert worker.terminate() == 0
        assert summary(worker.output()) == (3, 3, 0, 0), worker.output()
    finally:
        worker.stop()


def test_completions_wait_out_a_sidecar_down_for_10_s(tmp_path: Path, client_for: Any) -> None:
    backend, port = start_sidecar()
    count = 20
    worker = WorkerProcess(
        f"127.0.0.1:{port}",
        APP,
        "--max-activities",
        str(count),
        log=tmp_path / "w.log",
    )
    markers = tmp_path / "markers"
    markers.mkdir()
    try:
        client = client_for(port)
        ids = [
            client.schedule_new_orchestration("calls_slow", input=str(markers / f"m{i}"))
            for i in range(count)
        ]
        deadline = time.monotonic() + 120
        while len(list(markers.iterdir())) < count:
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.05)
        # Every activity runs: the sidecar goes away (keeping its state) while they finish.
        backend.stop(grace=0)
        time.sleep(10.0)  # the fault itself: an outage of 10 s, not a wait for a condition
        backend.start()
        for iid in ids:
            state = wait_done(client, iid, timeout=180)
            assert state.runtime_status == COMPLETED, (iid, worker.output())
        assert worker.terminate() == 0
        received, completed, abandoned, undelivered = summary(worker.output())
        assert received == completed and abandoned == undelivered == 0, worker.output()
        assert received == 3 * count
    finally:
        worker.stop()
        backend.stop(grace=0)


def test_a_32_mb_line_is_read_cut_and_kept_for_the_failure(
    tmp_path: Path, sidecar: Any, client_for: Any
) -> None:
    _, port = sidecar
    worker = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log")
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration("calls_chatty", input=32)
        state = wait_done(client, iid, timeout=120)
        assert state.runtime_status == COMPLETED, worker.output()[-2000:]
        message = json.loads(state.serialized_output)
        cut = 32 * 1024 * 1024 - 4096
        assert message.endswith("z" * 4096 + f" ... {cut} bytes cut"), message[-200:]
        assert worker.terminate() == 0
        log = worker.output()
        assert f"... {cut} bytes cut" in log
        assert max(len(line) for line in log.splitlines()) < 9000
    finally:
        worker.stop()


def test_sigterm_under_300_orchestrations_loses_nothing(
    tmp_path: Path, sidecar: Any, client_for: Any
) -> None:
    _, port = sidecar
    address = f"127.0.0.1:{port}"
    client = client_for(port)
    worker = WorkerProcess(address, APP, log=tmp_path / "w1.log")  # the default 10 s grace
    second = None
    try:
        worker.wait_for("connected")
        ids = [client.schedule_new_orchestration("fan_short", input=3) for _ in range(300)]
        # Stop under load: once a fair share of the work is done, hundreds of items are queued.
        worker.wait_for_count(" short_nap ok ", 100, timeout=120)
        assert worker.terminate(timeout=400) == 0, worker.output()
        log = worker.output()
        assert "stopped before the activity finished" not in log, log[-3000:]
        received, completed, abandoned, undelivered = summary(log)
        assert received == completed + abandoned and undelivered == 0, log[-3000:]
        # Every orchestration finishes with a new worker: nothing the first one took is lost.
        second = WorkerProcess(address, APP, log=tmp_path / "w2.log")
        for iid in ids:
            state = wait_done(client, iid, timeout=240)
            assert state.runtime_status == COMPLETED, (iid, log[-3000:])
            assert state.serialized_output == "3"
        assert second.terminate() == 0
    finally:
        worker.stop()
        if second is not None:
            second.stop()


def test_recording_never_costs_a_work_item(tmp_path: Path, sidecar: Any, client_for: Any) -> None:
    _, port = sidecar
    record = tmp_path / "rec"
    worker = WorkerProcess(
        f"127.0.0.1:{port}",
        APP,
        "--record",
        str(record),
        "--activity-timeout",
        "2",
        log=tmp_path / "w.log",
    )
    try:
        client = client_for(port)
        # An instance id that made a file name over 255 bytes.
        long_id = "\u00e9" * 40 + "x" * 250
        iid = client.schedule_new_orchestration("calls_hang", instance_id=long_id)
        state = wait_done(client, iid, timeout=600)
        assert state.runtime_status == COMPLETED, worker.output()[-3000:]
        names = [p.name for p in record.iterdir()]
        assert names and all(len(name.encode()) < 255 for name in names), names
        # The record folder removed while running: one warning, every item still served.
        for path in record.iterdir():
            path.unlink()
        record.rmdir()
        ids = [client.schedule_new_orchestration("fan_short", input=2) for _ in range(3)]
        for other in ids:
            assert wait_done(client, other, timeout=120).runtime_status == COMPLETED
        assert worker.terminate() == 0
        log = worker.output()
        assert log.count("recording suspended: cannot write ") == 1, log[-3000:]
        received, completed, abandoned, undelivered = summary(log)
        # 3 items for the first; 4 or 5 for each fan-out (its 2 results in one turn or two).
        assert received == completed >= 3 + 3 * 4 and abandoned == undelivered == 0, log
        assert not record.exists()
    finally:
        worker.stop()
