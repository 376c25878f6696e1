"""The outcome of every work item is data, and stopping loses nothing on a slow sidecar."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import QUIET, free_port, wait_done
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

from engine.worker import ConnectionOptions, Outcome, State, Worker, WorkerOptions, WorkItemEvent
from samples import orchestrations as samples

COMPLETED = dt_client.OrchestrationStatus.COMPLETED


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Seen:
    """Every event the worker reported, from its threads."""

    def __init__(self) -> None:
        self.events: list[WorkItemEvent] = []
        self.logs: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event: WorkItemEvent) -> None:
        with self._lock:
            self.events.append(event)

    def log(self, text: str) -> None:
        with self._lock:
            self.logs.append(text)

    def find(self, **fields: Any) -> list[WorkItemEvent]:
        with self._lock:
            events = list(self.events)
        return [e for e in events if all(getattr(e, k) == v for k, v in fields.items())]


def _options(**extra: Any) -> WorkerOptions:
    return WorkerOptions(
        app="samples.orchestrations", max_orchestrations=1, max_activities=1, **extra
    )


@pytest.fixture
def backend() -> Iterator[tuple[InMemoryOrchestrationBackend, str]]:
    port = free_port()
    sidecar = InMemoryOrchestrationBackend(port=port)
    sidecar.start()
    try:
        yield sidecar, f"127.0.0.1:{port}"
    finally:
        sidecar.stop(grace=0)


def test_every_event_says_its_outcome(backend: Any) -> None:
    _, address = backend
    seen = Seen()
    held_once: set[str] = set()

    def hold(event: WorkItemEvent) -> bool:
        if event.instance_id != "held" or "held" in held_once:
            return False
        held_once.add("held")
        return True

    worker = Worker(
        ConnectionOptions(address),
        _options(grace=5),
        on_event=seen,
        on_received=seen,
        hold=hold,
        log=seen.log,
    )
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
    try:
        worker.start()
        client.schedule_new_orchestration(samples.single_activity, input="x", instance_id="ok")
        client.schedule_new_orchestration(samples.uncaught_failure, instance_id="fails")
        client.schedule_new_orchestration(samples.single_activity, input="h", instance_id="held")
        assert wait_done(client, "ok").runtime_status == COMPLETED
        wait_done(client, "fails")
        wait_until(lambda: bool(seen.find(instance_id="held", outcome=Outcome.HELD)), "HELD")
        [held] = seen.find(instance_id="held", outcome=Outcome.HELD)
        assert held.result == "HELD" and held.detail == "1 action" and held.token
        assert worker.abandon_held(held.token)
        assert wait_done(client, "held").runtime_status == COMPLETED
    finally:
        worker.stop()
        client.close()
    received = seen.find(outcome=Outcome.RECEIVED)
    assert received and all(e.result == "RECEIVED" for e in received)
    turns = seen.find(instance_id="fails", kind="orchestrator")
    assert [e.outcome for e in turns] == [
        Outcome.RECEIVED,
        Outcome.COMPLETED,
        Outcome.RECEIVED,
        Outcome.FAILED,
    ]
    assert turns[-1].result == "FAILED builtins.ValueError"
    [echo] = seen.find(instance_id="fails", kind="activity", outcome=Outcome.COMPLETED)
    assert echo.result == "ok"
    [given_back] = seen.find(instance_id="held", outcome=Outcome.ABANDONED)
    assert given_back.detail == "abandoned while held"
    done = seen.find(instance_id="ok", kind="orchestrator", outcome=Outcome.COMPLETED)
    assert [e.result for e in done] == ["1 action", "COMPLETED"]
    finished = [e for e in seen.find() if e.outcome.finished]
    assert len(finished) == worker.stats.received
    assert worker.stats.undelivered == 0


def test_an_answer_that_cannot_be_delivered_says_so(backend: Any) -> None:
    sidecar, address = backend
    seen = Seen()
    worker = Worker(
        ConnectionOptions(address, backoff_base=0.2, backoff_cap=0.5),
        _options(grace=2),
        on_event=seen,
        hold=lambda event: True,
        log=seen.log,
    )
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
    try:
        worker.start()
        client.schedule_new_orchestration(samples.single_activity, input="x", instance_id="u")
        wait_until(lambda: bool(worker.held_tokens()), "a held turn")
        sidecar.stop(grace=0)
        assert worker.release_held(worker.held_tokens()[0])
        # The completion is retried for as long as the worker reconnects: only once it
        # stops, with the sidecar still gone, is the answer given up, and stop() says so.
        worker.stop()
        assert seen.find(outcome=Outcome.UNDELIVERED)
        assert any("1 undelivered" in line for line in seen.logs), seen.logs
    finally:
        worker.stop()
        client.close()
    [lost] = seen.find(outcome=Outcome.UNDELIVERED)
    assert lost.kind == "orchestrator" and lost.result == "1 action"
    assert lost.detail == "not delivered to the sidecar; released"
    assert "not delivered to the sidecar" in lost.line()
    assert not seen.find(outcome=Outcome.COMPLETED)
    assert worker.stats.undelivered == 1 and worker.stats.completed == 0
    assert any(line.startswith("could not complete turn #1 of u (") for line in seen.logs)


class SlowDispatch(InMemoryOrchestrationBackend):
    """The SDK's sidecar, pausing between taking a work item and writing it to the stream.

    A sidecar under load does the same: the work item is already in flight (the sidecar hands
    it out to no one else) before the worker can see any of it.
    """

    pause = 0.0

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802 - gRPC
        for item in super().GetWorkItems(request, context):
            time.sleep(self.pause)
            yield item


def test_stopping_waits_for_the_turn_its_own_answer_causes() -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    sidecar = SlowDispatch(port=port)
    sidecar.start()
    seen = Seen()
    workers: list[Worker] = []

    def slow_down(event: WorkItemEvent) -> None:
        if event.kind == "activity":
            # the turn carrying this activity's result leaves the sidecar 2 s after it is taken
            sidecar.pause = 2.0

    def stop_after_the_activity(event: WorkItemEvent) -> None:
        seen(event)
        if event.kind == "activity" and event.outcome is Outcome.COMPLETED:
            threading.Thread(target=workers[0].stop, daemon=True).start()

    first = Worker(
        ConnectionOptions(address),
        _options(grace=10),
        on_event=stop_after_the_activity,
        on_received=slow_down,
    )
    workers.append(first)
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
    second = None
    try:
        first.start()
        client.schedule_new_orchestration(samples.single_activity, input="s", instance_id="slow")
        wait_until(lambda: first.state is State.STOPPED, "the first worker to stop", 40)
        sidecar.pause = 0.0
        second = Worker(ConnectionOptions(address), _options(grace=2))
        second.start()
        # nothing was lost in transit: the second worker finishes the orchestration
        assert wait_done(client, "slow", timeout=30).serialized_output == '"Hello, s!"'
        stats = first.stats
        assert stats.received == stats.completed + stats.abandoned and stats.undelivered == 0
        assert stats.abandoned == 1  # the turn that arrived while stopping was given back
    finally:
        first.stop()
        if second is not None:
            second.stop()
        client.close()
        sidecar.stop(grace=0)


def test_stopping_with_the_sidecar_gone_does_not_wait_for_what_it_owed() -> None:
    port = free_port()
    sidecar = SlowDispatch(port=port)
    sidecar.start()
    stopped: list[float] = []
    workers: list[Worker] = []

    def slow_down(event: WorkItemEvent) -> None:
        if event.kind == "activity":
            sidecar.pause = 5.0

    def lose_the_sidecar(event: WorkItemEvent) -> None:
        if event.kind == "activity" and event.outcome is Outcome.COMPLETED:

            def stop() -> None:
                sidecar.stop(grace=0)
                began = time.monotonic()
                workers[0].stop()
                stopped.append(time.monotonic() - began)

            threading.Thread(target=stop, daemon=True).start()

    worker = Worker(
        ConnectionOptions(f"127.0.0.1:{port}", backoff_base=0.2, backoff_cap=0.5),
        _options(grace=30),
        on_event=lose_the_sidecar,
        on_received=slow_down,
    )
    workers.append(worker)
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.start()
        client.schedule_new_orchestration(samples.single_activity, input="g", instance_id="gone")
        wait_until(lambda: worker.state is State.STOPPED, "the worker to stop", 60)
        # the turn the sidecar owed can no longer come: no stream, nothing to wait for
        assert stopped and stopped[0] < 15.0, stopped
    finally:
        worker.stop()
        client.close()
        sidecar.stop(grace=0)
