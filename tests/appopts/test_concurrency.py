"""The app worker's ``ConcurrencyOptions``: ``inspector worker`` asks the sidecar with the app's
limits, as the SDK's worker does, and never runs more of a kind at once than the app allows,
even when its own pools are wider (``--max-activities 6`` against the app's 2)."""

from __future__ import annotations

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
)
from durabletask import client as dt_client
from durabletask.entities import EntityInstanceId
from durabletask.testing import InMemoryOrchestrationBackend

from samples import concurrency_worker

APP = "samples.concurrency_worker:worker"
WIDE = ("--max-activities", "6", "--max-orchestrations", "4")
DEADLINE = 90.0


class AskingBackend(InMemoryOrchestrationBackend):
    """The SDK's in-memory sidecar, keeping every ``GetWorkItems`` request."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.asked: list[Any] = []
        self._lock = threading.Lock()

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        with self._lock:
            self.asked.append(request)
        yield from super().GetWorkItems(request, context)


def _until(condition: Any, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.02)


def _waiting(where: Path) -> list[int]:
    """The holds that started and were not released yet, oldest number first."""
    started = (int(p.name.split("-")[1]) for p in where.glob("started-*"))
    return sorted(n for n in started if not (where / f"go-{n}").exists())


def _limits(request: Any) -> tuple[int, int]:
    return request.maxConcurrentOrchestrationWorkItems, request.maxConcurrentActivityWorkItems


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "holds"
    monkeypatch.setenv("CONCURRENCY_DIR", str(folder))
    return concurrency_worker.folder()


def test_the_worker_asks_with_the_apps_limits(tmp_path: Path) -> None:
    port = free_port()
    backend = AskingBackend(port)
    backend.start()
    sdk = concurrency_worker.build_worker(f"127.0.0.1:{port}")
    sdk._logger = QUIET
    try:
        sdk.start()
        _until(lambda: len(backend.asked) == 1, "the SDK's worker asks for work")
    finally:
        sdk.stop()
    ours = WorkerProcess(f"127.0.0.1:{port}", APP, *WIDE, log=tmp_path / "w.log")
    try:
        _until(lambda: len(backend.asked) == 2, "our worker asks for work")
    finally:
        ours.stop()
        backend.stop(grace=0)
    theirs, mine = backend.asked
    assert _limits(theirs) == (3, 2)
    assert _limits(mine) == _limits(theirs)
    plain = WorkerProcess(
        f"127.0.0.1:{port}", "samples.concurrency_worker", *WIDE, log=tmp_path / "p.log"
    )
    backend = AskingBackend(port)
    backend.start()
    try:
        _until(lambda: len(backend.asked) == 1, "the plain app's worker asks for work")
    finally:
        plain.stop()
        backend.stop(grace=0)
    assert _limits(backend.asked[0]) == (4, 6)  # a plain app: the worker's own limits


def test_no_more_activities_run_at_once_than_the_app_allows(where: Path, tmp_path: Path) -> None:
    """Six holds fanned out, released one at a time: at every moment at most two have started
    and not ended, and each saw at most two running (itself included) when it started."""
    count = 6
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    record = tmp_path / "record"
    worker = WorkerProcess(
        f"127.0.0.1:{port}", APP, *WIDE, "--record", str(record), log=tmp_path / "w.log"
    )
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        client.schedule_new_orchestration("spread", input=count, instance_id="spread")
        # more holds have reached the worker than may run before any is released (it takes
        # no more than its pools can queue, so not all six)
        _until(
            lambda: len(list(record.glob("*-activity-*[!e].b64"))) >= 3,
            "the worker received three activities",
        )
        most = 0
        for n in range(count):
            want = min(2, count - n)
            _until(lambda w=want: len(_waiting(where)) >= w, f"{want} holds waiting for release")
            now = concurrency_worker.running(where)
            most = max(most, now)
            assert now <= 2, worker.output()
            (where / f"go-{_waiting(where)[0]}").write_text("")
        assert final_state(client, "spread") == ("COMPLETED", str(sum(range(count))), None, None)
    finally:
        client.close()
        worker.stop()
        backend.stop(grace=0)
    seen = [int(p.read_text()) for p in where.glob("seen-*")]
    assert len(seen) == count and max(seen) <= 2 and most == 2


def test_no_more_entity_batches_run_at_once_than_the_app_allows(
    where: Path, tmp_path: Path
) -> None:
    """Three entities signalled at once, their batches held: one runs at a time (the app's
    entity limit, within an activity pool two wide), and the worker asks with that limit."""
    keys = ["a", "b", "c"]
    gates = where / "entities"
    port = free_port()
    backend = AskingBackend(port)
    backend.start()
    record = tmp_path / "record"
    worker = WorkerProcess(
        f"127.0.0.1:{port}", APP, *WIDE, "--record", str(record), log=tmp_path / "w.log"
    )
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        _until(lambda: len(backend.asked) == 1, "our worker asks for work")
        assert backend.asked[0].maxConcurrentEntityWorkItems == 1
        # two holds at once: both slots of the activity pool have a user process now
        client.schedule_new_orchestration("spread", input=2, instance_id="warm")
        _until(lambda: concurrency_worker.running(where) == 2, "two holds running")
        for n in range(2):
            (where / f"go-{n}").write_text("")
        assert final_state(client, "warm")[0] == "COMPLETED"
        for key in keys:
            client.signal_entity(EntityInstanceId("gate", key), "hold")
        _until(lambda: len(list(record.glob("*-entity.b64"))) >= 2, "two entity batches received")
        for _ in keys:
            _until(lambda: len(_waiting_keys(gates)) >= 1, "an entity batch waiting for release")
            assert concurrency_worker.running(gates) == 1, worker.output()
            (gates / f"go-{_waiting_keys(gates)[0]}").write_text("")
        _until(lambda: len(list(gates.glob("ended-*"))) == len(keys), "every batch ended")
    finally:
        client.close()
        worker.stop()
        backend.stop(grace=0)
    seen = [int(p.read_text()) for p in gates.glob("seen-*")]
    assert len(seen) == len(keys) and max(seen) == 1


def _waiting_keys(where: Path) -> list[str]:
    started = (p.name.split("-", 1)[1] for p in where.glob("started-*"))
    return sorted(k for k in started if not (where / f"go-{k}").exists())
