"""The work-item stream: connect, read ``GetWorkItems``, reconnect with back-off, watchdog.

One reader thread opens a fresh channel per attempt, says ``Hello``, and reads the stream on
its own thread, handing every work item to the worker. A dropped stream or a restarted
sidecar is retried after the connection's :class:`~engine.channel.Backoff` delay; a stream
that stays silent past ``silent_timeout`` while nothing is in flight is cancelled by the
watchdog and reopened. Both threads end once the life cycle reaches ``CLOSING``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import grpc

from engine.channel import BASE_OPTIONS, ConnectionOptions, Dialer
from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub
from engine.worker._dapr import DaprCodec
from engine.worker._events import WorkerStats
from engine.worker._lifecycle import LifeCycle, State
from engine.worker._options import WorkerOptions

WORKER_CHANNEL_OPTIONS = (
    *BASE_OPTIONS,
    # A small receive window keeps the sidecar from pushing far more work items than the
    # pools can take: what is received must be finished or abandoned on stop, and some
    # sidecars drop an abandoned activity.
    ("grpc.http2.lookahead_bytes", 4096),
    ("grpc.http2.bdp_probe", 0),
    # No ``SingleThreadedUnaryStream`` (a presence flag: any value turns it on). The stream
    # is a call the channel manages, so the channel's one spin thread lives as long as the
    # stream, and the completions' events go through it; read on the reader thread instead,
    # the stream kept no spin thread alive, and a new one was started for each burst of
    # completions. Measured on the in-memory sidecar: 0.25 fewer turns per fan-out
    # orchestration (3.43 against 3.68, 6 rounds each, interleaved) and 13 % less CPU in all
    # parts together (docs/worker.md, *Where the time goes*).
)
"""Channel arguments of the worker's channel."""

ConnectionCallback = Callable[[str, str, "float | None"], None]


def error_name(err: BaseException) -> str:
    """The gRPC status name of a failed call (``UNAVAILABLE``), or the exception's type."""
    code = err.code() if isinstance(err, grpc.RpcError) and hasattr(err, "code") else None
    return code.name if isinstance(code, grpc.StatusCode) else type(err).__name__


def work_request(
    options: WorkerOptions, entities: tuple[str, ...] = (), capabilities: tuple[int, ...] = ()
) -> pb.GetWorkItemsRequest:
    """The ``GetWorkItems`` request for the worker's limits, filters and capabilities.

    Entity work is asked for only when the APP defines ``entities``; with filters, they are
    listed too (a filter without entities matches no entity work). ``capabilities`` are those
    the APP's worker advertises (large payloads when it has a payload store).
    """
    request = pb.GetWorkItemsRequest(
        maxConcurrentOrchestrationWorkItems=options.max_orchestrations,
        maxConcurrentActivityWorkItems=options.max_activities,
    )
    if entities:
        request.maxConcurrentEntityWorkItems = options.max_activities
    request.capabilities.extend(capabilities)  # type: ignore[arg-type]  # WorkerCapability ints
    if options.orchestrator_filter is not None or options.activity_filter is not None:
        filters = request.workItemFilters
        for name in options.orchestrator_filter or ():
            filters.orchestrations.add(name=name)
        for name in options.activity_filter or ():
            filters.activities.add(name=name)
        for name in entities:
            filters.entities.add(name=name)
    return request


class WorkStream:
    """Reads a sidecar's work items until the life cycle reaches ``CLOSING``.

    Args:
        connection: Where the sidecar is.
        dialer: Opens the channels (made, and the CA file read, before any thread starts).
        request: The ``GetWorkItems`` request to send on every connection.
        on_item: Called on the reader thread with every work item.
        life: The worker's life cycle.
        stats: Where reconnects are counted.
        log: Notices for people.
        on_connection: ``(state, detail, retry_in)`` on every connection change.
        busy: Whether work is in flight (the watchdog leaves a busy stream alone).
    """

    def __init__(
        self,
        connection: ConnectionOptions,
        dialer: Dialer,
        request: pb.GetWorkItemsRequest,
        on_item: Callable[[pb.WorkItem], None],
        life: LifeCycle,
        stats: WorkerStats,
        log: Callable[[str], None],
        on_connection: ConnectionCallback,
        busy: Callable[[], bool],
    ) -> None:
        self.connection = connection
        self._dialer = dialer
        self._request = request
        self._on_item = on_item
        self._life = life
        self._stats = stats
        self._log = log
        self._on_connection = on_connection
        self._busy = busy
        self._lock = threading.Lock()
        self._codec = DaprCodec() if connection.dialect == "dapr" else None
        self._stub: SidecarStub | None = None
        self._channel: grpc.Channel | None = None
        self._call: Any = None
        self._threads: list[threading.Thread] = []
        self.last_message = time.monotonic()
        """When the sidecar last sent (or answered) anything, in monotonic seconds."""

    def start(self) -> None:
        """Start the reader and the watchdog threads."""
        for target, name in ((self._read_loop, "stream"), (self._watchdog, "watchdog")):
            thread = threading.Thread(target=target, name=f"worker-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def touch(self) -> None:
        """Note that the sidecar just answered: the stream is not quiet."""
        self.last_message = time.monotonic()

    def stub(self) -> SidecarStub | None:
        """The client on the current connection (None while not connected)."""
        with self._lock:
            return self._stub

    def reading(self) -> bool:
        """Whether a stream is open now (work items can be on their way)."""
        with self._lock:
            return self._call is not None

    def cancel(self) -> None:
        """Cancel the stream being read now, if any."""
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()

    def join(self, timeout: float) -> None:
        """Wait for the threads to end (each at most ``timeout`` seconds)."""
        for thread in self._threads:
            thread.join(timeout)

    def close(self) -> None:
        """Close the current channel (after the stream ended and the last calls answered)."""
        with self._lock:
            channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            channel.close()

    def report(self, state: str, detail: str, retry_in: float | None = None) -> None:
        """Tell the ``on_connection`` callback (one that raises is logged and ignored)."""
        try:
            self._on_connection(state, detail, retry_in)
        except Exception as err:  # noqa: BLE001 - a broken callback never stops the worker
            self._log(f"connection callback failed ({type(err).__name__}: {err})")

    def _read_loop(self) -> None:
        backoff = self.connection.backoff()
        again = False
        while not self._life.reached(State.CLOSING):
            channel: grpc.Channel | None = None
            try:
                channel = self._dialer.open()
                stub = SidecarStub(channel, self._codec)
                stub.hello(timeout=self.connection.hello_timeout, metadata=self._metadata())
                self._adopt(stub, channel)
                backoff.reset()
                self._connected(again)
                again = True
                self._read(stub)
                if self._life.reached(State.CLOSING):
                    break
                self._log("the work-item stream ended; reconnecting")
                self.report("ended", "the work-item stream ended", 0.0)
                continue
            except Exception as err:  # noqa: BLE001 - never let the reader die
                if self._life.reached(State.CLOSING):
                    break
                failure = self._failed(err)
            finally:
                self._drop(channel)
            delay = backoff.next_delay()
            self.report("failed", failure, delay)
            self._life.wait_for(State.CLOSING, delay)

    def _metadata(self) -> list[tuple[str, str]] | None:
        return self.connection.metadata()

    def _adopt(self, stub: SidecarStub, channel: grpc.Channel) -> None:
        with self._lock:
            old, self._channel, self._stub = self._channel, channel, stub
        if old is not None:
            old.close()

    def _connected(self, again: bool) -> None:
        conn = self.connection
        if again:
            self._stats.reconnects += 1
        where = f"{'re' if again else ''}connected to {conn.address}"
        headers = f" (headers: {', '.join(conn.header_names())})" if conn.headers else ""
        self._log(where + headers)
        self.report("connected", where)

    def _read(self, stub: SidecarStub) -> None:
        call = stub.get_work_items(self._request, metadata=self._metadata())
        with self._lock:
            self._call = call
        if self._life.reached(State.CLOSING):
            call.cancel()
        self.touch()
        for item in call:
            self.touch()
            self._on_item(item)

    def _failed(self, err: Exception) -> str:
        if isinstance(err, grpc.RpcError):
            name = error_name(err)
            self._log(f"sidecar connection failed ({name}); retrying")
            return name
        text = f"{type(err).__name__}: {err}"
        self._log(f"work-item stream error ({text}); retrying")
        return text

    def _drop(self, channel: grpc.Channel | None) -> None:
        with self._lock:
            self._call = None
            current = self._channel
        if channel is not None and channel is not current:
            channel.close()

    def _watchdog(self) -> None:
        limit = self.connection.silent_timeout
        while not self._life.wait_for(State.CLOSING, 0.5):
            if time.monotonic() - self.last_message <= limit or self._busy():
                continue
            with self._lock:
                call = self._call
            if call is None:
                continue
            if self._codec is not None and self._still_there():
                continue
            self._log(f"no message for {limit:.0f}s; reconnecting")
            self.touch()
            call.cancel()

    def _still_there(self) -> bool:
        """A Dapr sidecar sends no health pings on the stream: a ``Hello`` that is answered
        says the connection is alive (Dapr's own worker says ``Hello`` every 30 s)."""
        stub = self.stub()
        if stub is None:
            return False
        try:
            stub.hello(timeout=self.connection.hello_timeout, metadata=self._metadata())
        except grpc.RpcError:
            return False
        self.touch()
        return True
