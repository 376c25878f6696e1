"""The worker's ``on_connection`` callback across a sidecar restart, and the live header."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from durabletask.testing import InMemoryOrchestrationBackend

from engine.worker import CONNECTION_STATES, ConnectionOptions, Worker, WorkerOptions
from inspector.live import LiveApp, LiveConfig
from tests.live.conftest import free_port
from tests.live.test_attach import SIZE, wait_for

Call = tuple[str, str, float | None]


class Recorder:
    """Collects the callback's calls (from the worker's threads)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def __call__(self, state: str, detail: str, retry_in: float | None) -> None:
        with self._lock:
            self.calls.append((state, detail, retry_in))

    def states(self) -> list[str]:
        with self._lock:
            return [state for state, _, _ in self.calls]

    def wait(self, check: Callable[[list[str]], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not check(self.states()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {self.calls}")
            time.sleep(0.05)


def test_on_connection_across_a_sidecar_restart() -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    seen = Recorder()
    logs: list[str] = []
    worker = Worker(
        ConnectionOptions(address, backoff_base=0.2, backoff_cap=0.5),
        WorkerOptions(app="samples.orchestrations", max_orchestrations=1, max_activities=1),
        log=logs.append,
        on_connection=seen,
    )
    try:
        worker.start()
        seen.wait(lambda s: s == ["connected"])
        assert seen.calls[0] == ("connected", f"connected to {address}", None)

        backend.stop(grace=0)
        seen.wait(lambda s: s.count("failed") >= 2)
        failures = [c for c in seen.calls if c[0] == "failed"]
        for _, detail, retry_in in failures:
            assert detail in ("UNAVAILABLE", "CANCELLED")
            assert retry_in is not None and 0.0 <= retry_in <= 0.5

        backend = InMemoryOrchestrationBackend(port=port)
        backend.start()
        seen.wait(lambda s: s[-1] == "connected")
        assert seen.calls[-1] == ("connected", f"reconnected to {address}", None)
        # The SDK's sidecar ends the stream before it closes its port, so a reconnect can
        # still land on the stopping sidecar: count the reconnects instead of assuming one.
        assert worker.stats.reconnects == seen.states().count("connected") - 1 >= 1
    finally:
        worker.stop()
        backend.stop(grace=0)
    states = seen.states()
    assert states[-1] == "stopped" and states.count("stopped") == 1
    assert set(states) <= set(CONNECTION_STATES)
    assert seen.calls[-1][2] is None
    # connected, then failed / ended (or reconnected to the stopping sidecar) until
    # connected again; every later connection is a reconnect
    assert states[0] == "connected" and states[-2] == "connected"
    assert set(states[1:-2]) <= {"failed", "ended", "connected"}
    assert states[1:-2].count("failed") >= 2
    later = [detail for state, detail, _ in seen.calls[1:] if state == "connected"]
    assert later and all(detail == f"reconnected to {address}" for detail in later)
    # the log lines are unchanged
    assert any(line.startswith("reconnected to ") for line in logs)
    assert any("sidecar connection failed (" in line for line in logs)
    assert any(line.startswith("stopped: ") for line in logs)


async def test_live_header_counts_down_while_the_worker_reconnects() -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    config = LiveConfig(
        # floor = cap: the back-off is always 4 s
        connection=ConnectionOptions(address, backoff_base=4.0, backoff_cap=4.0, backoff_floor=4.0),
        worker_options=WorkerOptions(
            app="samples.orchestrations", max_orchestrations=1, max_activities=1, grace=2
        ),
    )
    app = LiveApp(config)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected", 30)
            assert "worker connected" in str(app.status_text())
            backend.stop(grace=0)
            # the stream ends (reconnecting at once, then Hello fails) or the server cancels
            # it first, whichever its shutdown does: 4 s of back-off, counted down
            await wait_for(pilot, lambda: "reconnecting in 4 s (" in str(app.status_text()))
            assert app.worker_state == "reconnecting"
            shown = str(app.status_text())
            assert re.search(r"worker reconnecting in 4 s \((UNAVAILABLE|CANCELLED)\)", shown)
            await wait_for(pilot, lambda: "worker reconnecting in 2 s (" in str(app.status_text()))
            backend = InMemoryOrchestrationBackend(port=port)
            backend.start()
            await wait_for(pilot, lambda: app.worker_state == "connected", 40)
            assert "worker connected" in str(app.status_text())
    finally:
        app.close()
        backend.stop(grace=0)
    assert app.worker_state == "stopped"
