"""``inspector demo``: an in-process sidecar, the embedded worker with the samples, in the TUI.

Starts the durabletask SDK's in-memory sidecar on 127.0.0.1 (a port the system picks),
schedules every orchestration of :mod:`samples.orchestrations` with the SDK's client (raising
their events, suspending, resuming and terminating on a timer, so every wait resolves; a new
wave every :data:`WAVE_SECONDS`), and opens ``attach --app samples.orchestrations`` on it.
Nothing to configure; quitting stops everything this command started.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent import futures
from functools import partial
from typing import Any

import grpc
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

from samples import orchestrations as samples

APP = "samples.orchestrations"
WAVE_SECONDS = 30.0
"""A new wave of the sample orchestrations is scheduled this often."""
MAX_WAVES = 20

_QUIET = logging.getLogger("inspector.demo.sdk")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False


class LocalBackend(InMemoryOrchestrationBackend):
    """The SDK's in-memory sidecar, listening on 127.0.0.1 only, on a port the system picks."""

    def __init__(self) -> None:
        super().__init__(port=0)
        self.port = 0

    def start(self) -> str:
        """Serve on ``127.0.0.1:0``; return ``127.0.0.1:<port>``."""
        import durabletask.internal.orchestrator_service_pb2_grpc as stubs

        self._shutdown_event.clear()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
        stubs.add_TaskHubSidecarServiceServicer_to_server(self, server)  # type: ignore[no-untyped-call]
        self.port = server.add_insecure_port("127.0.0.1:0")
        self._port = self.port
        self._server = server
        server.start()
        return f"127.0.0.1:{self.port}"


Step = Callable[[], Any]


class DemoDriver:
    """Schedules the sample orchestrations and drives their events on a timer, in a thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client = dt_client.TaskHubGrpcClient(host_address=address, logger=_QUIET)
        self._queue: list[tuple[float, int, Step]] = []
        self._counter = itertools.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-driver", daemon=True)
        self.scheduled: list[str] = []
        self.errors: list[str] = []

    def start(self) -> None:
        """Schedule the first wave now, the next ones every :data:`WAVE_SECONDS`."""
        for wave in range(MAX_WAVES):
            self._at(wave * WAVE_SECONDS, partial(self._wave, wave))
        self._thread.start()

    def stop(self) -> None:
        """Stop driving and close the client."""
        self._stop.set()
        self._thread.join(5)
        self.client.close()

    def _at(self, delay: float, step: Step) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, next(self._counter), step))

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._queue:
                self._stop.wait(0.2)
                continue
            when, _, step = self._queue[0]
            wait = when - time.monotonic()
            if wait > 0:
                self._stop.wait(min(wait, 0.2))
                continue
            heapq.heappop(self._queue)
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - the demo goes on without that step
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _start(self, orchestrator: Any, iid: str, value: Any = None) -> str:
        self.client.schedule_new_orchestration(orchestrator, input=value, instance_id=iid)
        self.scheduled.append(iid)
        return iid

    def _wave(self, wave: int) -> None:
        c = self.client
        p = f"demo{wave + 1}-"
        simple: list[tuple[Any, Any]] = [
            (samples.single_activity, "World"),
            (samples.activity_chain, None),
            (samples.fan_out_fan_in, 4),
            (samples.durable_timer, None),
            (samples.split_timer, None),
            (samples.race_activity_timer, None),
            (samples.race_event_timer, None),
            (samples.parent_orchestration, None),
            (samples.parent_catches_child_failure, None),
            (samples.retry_until_success, None),
            (samples.retry_exhausted, None),
            (samples.caught_activity_failure, None),
            (samples.uncaught_failure, None),
            (samples.continue_as_new_counter, 0),
            (samples.custom_status_progress, None),
            (samples.new_uuids, None),
            (samples.replay_flags, None),
            (samples.plain_function, 21),
        ]
        for orchestrator, value in simple:
            self._start(orchestrator, p + orchestrator.__name__, value)

        iid = self._start(samples.wait_for_approval, p + "wait_for_approval")
        self._at(2.0, partial(c.raise_orchestration_event, iid, "APPROVAL", data={"ok": 1}))

        iid = self._start(samples.buffered_event, p + "buffered_event")
        self._at(0.4, partial(c.raise_orchestration_event, iid, "ready", data="early"))

        iid = self._start(samples.split_timer_or_event, p + "split_timer_or_event")
        self._at(1.5, partial(c.raise_orchestration_event, iid, "cancel", data="operator"))

        iid = self._start(samples.continue_as_new_with_events, p + "continue_as_new_with_events")
        for n, delay in ((1, 0.4), (2, 0.6), (3, 0.8)):
            self._at(delay, partial(c.raise_orchestration_event, iid, "item", data=f"item-{n}"))

        receiver = self._start(samples.event_receiver, p + "event_receiver")
        self._at(1.0, partial(self._start, samples.event_sender, receiver + "-sender", receiver))

        iid = self._start(samples.suspendable, p + "suspendable")
        self._at(1.0, partial(c.suspend_orchestration, iid, reason="maintenance"))
        self._at(1.5, partial(c.raise_orchestration_event, iid, "GO", data="go"))
        self._at(3.0, partial(c.resume_orchestration, iid, reason="maintenance over"))

        iid = self._start(samples.terminable, p + "terminable")
        self._at(
            2.5,
            partial(c.terminate_orchestration, iid, output={"reason": "operator"}, recursive=False),
        )


def run(args: argparse.Namespace) -> int:
    """Start the sidecar, the driver and the live TUI; stop them all when it quits."""
    from engine.app_loader import load_app
    from engine.worker import ConnectionOptions, WorkerOptions
    from inspector.live import LiveApp, LiveConfig

    logging.getLogger("durabletask").setLevel(logging.CRITICAL)
    logging.getLogger(InMemoryOrchestrationBackend.__module__).setLevel(logging.CRITICAL)
    user_app = load_app(APP)
    backend = LocalBackend()
    address = backend.start()
    driver: DemoDriver | None = None
    app: LiveApp | None = None
    try:
        config = LiveConfig(
            connection=ConnectionOptions(address),
            worker_options=WorkerOptions(app=APP, grace=3.0),
            user_app=user_app,
            title=f"demo · in-memory sidecar {address} · samples",
        )
        app = LiveApp(config)
        driver = DemoDriver(address)
        # Stopped under the app's "stopping…" overlay, once the worker is done; again below if
        # the app never got that far (both stops do nothing the second time).
        config.on_close += [driver.stop, partial(backend.stop, grace=0)]
        driver.start()
        app.run()
    finally:
        if driver is not None:
            driver.stop()
        if app is not None:
            app.close()
        backend.stop(grace=0)
    return 0
