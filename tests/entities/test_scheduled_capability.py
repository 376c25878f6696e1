"""The worker advertises the scheduled-tasks capability when the APP uses scheduled tasks, as
the SDK's worker does after ``configure_scheduled_tasks()``: checked on the ``GetWorkItems``
requests the SDK's in-memory sidecar receives from both workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from durabletask import worker as dt_worker
from durabletask.testing import InMemoryOrchestrationBackend
from worker_helpers import QUIET, WorkerProcess, free_port

from engine import load_app
from engine.proto import orchestrator_service_pb2 as pb

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEDULED = pb.WORKER_CAPABILITY_SCHEDULED_TASKS


class AskingBackend(InMemoryOrchestrationBackend):
    """The SDK's in-memory sidecar, keeping the capabilities of every ``GetWorkItems``."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.asked: list[list[int]] = []
        self._lock = threading.Lock()

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        with self._lock:
            self.asked.append(list(request.capabilities))
        yield from super().GetWorkItems(request, context)

    def wait_asked(self, timeout: float = 30.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while not self.asked:
            if time.monotonic() > deadline:
                raise AssertionError("no GetWorkItems request reached the sidecar")
            time.sleep(0.05)
        with self._lock:
            return self.asked[0]


def _asked_by_sdk() -> list[int]:
    port = free_port()
    backend = AskingBackend(port)
    backend.start()
    sdk = dt_worker.TaskHubGrpcWorker(host_address=f"127.0.0.1:{port}", logger=QUIET)
    sdk.configure_scheduled_tasks()
    sdk.start()
    try:
        return backend.wait_asked()
    finally:
        sdk.stop()
        backend.stop(grace=0)


def _asked_by_ours(app: str, log: Path) -> list[int]:
    port = free_port()
    backend = AskingBackend(port)
    backend.start()
    ours = WorkerProcess(f"127.0.0.1:{port}", app, log=log)
    try:
        return backend.wait_asked()
    finally:
        ours.terminate()
        backend.stop(grace=0)


@pytest.mark.parametrize("app", ["scheduled_app.py", "scheduled_hook_app.py"])
def test_a_scheduled_app_advertises_the_capability_as_the_sdk_worker(
    app: str, tmp_path: Path
) -> None:
    theirs = _asked_by_sdk()
    assert theirs == [SCHEDULED]
    ours = _asked_by_ours(str(FIXTURES / app), tmp_path / "w.log")
    assert ours == theirs


def test_an_app_without_schedules_advertises_nothing(tmp_path: Path) -> None:
    assert load_app(str(FIXTURES / "crash_app.py")).options.worker_capabilities() == ()
    assert _asked_by_ours(str(FIXTURES / "crash_app.py"), tmp_path / "w.log") == []


def test_the_capability_is_in_the_loaded_apps_options() -> None:
    for app in ("scheduled_app.py", "scheduled_hook_app.py"):
        assert load_app(str(FIXTURES / app)).options.worker_capabilities() == (SCHEDULED,)
