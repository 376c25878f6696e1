"""Dapr's own ``WorkflowRuntime`` and ``inspector worker --dialect dapr`` through the Dapr shim.

No daprd can run on these machines; the shim (``tests/dapr_workflow/shim.py``) is the smallest
stand-in that makes Dapr's runtime talk to a real sidecar (the SDK's in-memory one). Dapr's runtime
runs in a subprocess: its packages cannot be loaded beside durabletask, which this process holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from durabletask import client as dt_client

from tests.dapr_workflow.conftest import FIXTURES, ROOT
from tests.worker.conftest import WorkerProcess

EXPECTED = {"greeting": "hi bob", "doubled": 42, "approval": "yes"}


def _drive(port: int, instance_id: str) -> dt_client.OrchestrationState:
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}")
    try:
        client.schedule_new_orchestration("wf_main", input="bob", instance_id=instance_id)
        client.wait_for_orchestration_start(instance_id, timeout=60)
        client.raise_orchestration_event(instance_id, "approve", data="yes")
        state = client.wait_for_orchestration_completion(instance_id, timeout=90)
    finally:
        client.close()
    assert state is not None
    return state


def test_dapr_runtime_completes_a_workflow_through_the_shim(dapr_sidecar) -> None:
    _backend, port, shim = dapr_sidecar
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(FIXTURES / "dapr_app.py"), "127.0.0.1", str(shim.port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        state = _drive(port, "dapr-1")
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    assert state.runtime_status.name == "COMPLETED", state.failure_details
    assert json.loads(state.serialized_output or "null") == EXPECTED
    for method in ("Hello", "GetWorkItems", "CompleteOrchestratorTask", "CompleteActivityTask"):
        assert method in shim.seen


def test_inspector_worker_speaks_dapr_through_the_shim(dapr_sidecar, tmp_path: Path) -> None:
    _backend, port, shim = dapr_sidecar
    app = f"{FIXTURES / 'sdk_app.py'}"
    worker = WorkerProcess(f"127.0.0.1:{shim.port}", app, "--dialect", "dapr", log=tmp_path / "w")
    try:
        worker.wait_for("connected")
        state = _drive(port, "ours-1")
    finally:
        worker.terminate()
    assert state.runtime_status.name == "COMPLETED", (state.failure_details, worker.output())
    assert json.loads(state.serialized_output or "null") == EXPECTED
    assert "CompleteActivityTask" in shim.seen


def test_live_client_reads_a_dapr_history(dapr_sidecar, tmp_path: Path) -> None:
    """``attach --dialect dapr`` reads histories with Dapr's unary ``GetInstanceHistory``."""
    from engine.live import LiveClient

    _backend, port, shim = dapr_sidecar
    app = f"{FIXTURES / 'sdk_app.py'}"
    worker = WorkerProcess(f"127.0.0.1:{shim.port}", app, "--dialect", "dapr", log=tmp_path / "w")
    try:
        worker.wait_for("connected")
        _drive(port, "hist-1")
    finally:
        worker.terminate()
    client = LiveClient(f"127.0.0.1:{shim.port}", dialect="dapr")
    try:
        history = client.history("hist-1")
    finally:
        client.close()
    kinds = [event.WhichOneof("eventType") for event in history.events]
    assert kinds[:2] == ["orchestratorStarted", "executionStarted"]
    assert "taskScheduled" in kinds and "eventRaised" in kinds
    assert kinds[-1] == "executionCompleted"
    assert "orchestratorCompleted" not in kinds
    assert "GetInstanceHistory" in shim.seen


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_quiet_dapr_stream_is_kept_with_hello_not_reopened(dapr_sidecar) -> None:
    """Dapr's sidecar sends no health pings: the watchdog says Hello instead of reconnecting."""
    from engine.worker import ConnectionOptions, Worker, WorkerOptions

    _backend, _port, shim = dapr_sidecar
    lines: list[str] = []
    connection = ConnectionOptions(f"127.0.0.1:{shim.port}", dialect="dapr", silent_timeout=1.0)
    worker = Worker(connection, WorkerOptions(app=str(FIXTURES / "sdk_app.py")), log=lines.append)
    try:
        worker.start()
        _wait_until(lambda: shim.seen.count("Hello") >= 3, "three Hello calls")
    finally:
        worker.stop()
    assert shim.seen.count("GetWorkItems") == 1, shim.seen
    assert not [line for line in lines if "reconnecting" in line], lines


def test_abandoning_toward_dapr_sends_nothing_and_says_so(dapr_sidecar) -> None:
    """Dapr has no abandon call: a held turn given up stays with the sidecar (UNDELIVERED)."""
    from engine.worker import ConnectionOptions, Outcome, Worker, WorkerOptions, WorkItemEvent

    _backend, port, shim = dapr_sidecar
    lines: list[str] = []
    events: list[WorkItemEvent] = []
    worker = Worker(
        ConnectionOptions(f"127.0.0.1:{shim.port}", dialect="dapr"),
        WorkerOptions(app=str(FIXTURES / "sdk_app.py")),
        on_event=events.append,
        hold=lambda event: True,
        log=lines.append,
    )
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}")
    try:
        worker.start()
        client.schedule_new_orchestration("wf_main", input="bob", instance_id="held-1")
        _wait_until(lambda: bool(worker.held_tokens()), "a held turn")
        (token,) = worker.held_tokens()
        assert worker.abandon_held(token)
        _wait_until(
            lambda: any(e.outcome == Outcome.UNDELIVERED for e in events), "the abandon's event"
        )
    finally:
        worker.stop()
        client.close()
    (event,) = [e for e in events if e.outcome == Outcome.UNDELIVERED]
    assert event.instance_id == "held-1" and event.result == "ABANDONED"
    assert "abandoned while held" in event.detail
    assert any("the sidecar has no abandon call" in line for line in lines), lines
    assert not [m for m in shim.seen if m.startswith("Abandon")]


_SENTINEL = (253_402_300_799, 999_999_999)  # 9999-12-31T23:59:59.999999999Z (DAPR.md 6.3)


def _timers(client: Any, instance_id: str) -> list[tuple[int, int]]:
    return [
        (event.timerCreated.fireAt.seconds, event.timerCreated.fireAt.nanos)
        for event in client.history(instance_id).events
        if event.WhichOneof("eventType") == "timerCreated"
    ]


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_endless_wait_reaches_the_sidecar_as_a_timer_it_can_sleep_until(
    dapr_sidecar, tmp_path: Path
) -> None:
    """The in-memory sidecar sleeps until each timer in a thread of its own, and cannot sleep
    until 9999: the shim parks Dapr's sentinel timer (a wait without end) in 2099 on its way
    there, and Dapr's side still reads the exact sentinel, as daprd keeps it."""
    from engine.live import LiveClient

    _backend, port, shim = dapr_sidecar
    app = "samples/dapr_workflows.py"
    worker = WorkerProcess(f"127.0.0.1:{shim.port}", app, "--dialect", "dapr", log=tmp_path / "w")
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}")
    backend = LiveClient(f"127.0.0.1:{port}")
    dapr_side = LiveClient(f"127.0.0.1:{shim.port}", dialect="dapr")
    try:
        worker.wait_for("connected")
        client.schedule_new_orchestration("fan_out", input=2, instance_id="endless-1")
        _wait_until(lambda: bool(_timers(backend, "endless-1")), "the wait's timer")
        client.raise_orchestration_event("endless-1", "go", data="now")
        state = client.wait_for_orchestration_completion("endless-1", timeout=90)
        assert state is not None and state.runtime_status.name == "COMPLETED", worker.output()
        theirs, ours = _timers(backend, "endless-1"), _timers(dapr_side, "endless-1")
    finally:
        backend.close()
        dapr_side.close()
        client.close()
        worker.terminate()
    assert ours == [_SENTINEL]
    assert theirs == [(4_102_444_799, 0)]  # 2099-12-31T23:59:59Z
