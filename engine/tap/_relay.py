"""The tap's fast path: HTTP/2 relayed frame for frame, read on the way, never rebuilt.

Each connection a worker (or client) opens to the tap gets its own connection to the sidecar,
and the bytes go through unchanged both ways: every method, metadata, deadline, cancellation,
flow control and status is the peers' own. On the way the frames are read: the header blocks
through one ``hpack`` decoder per direction (:mod:`engine.tap._h2`), the messages of
``GetWorkItems`` and of the completions from their DATA frames, and handed to the capture as
the gRPC forwarder hands them (:data:`engine.tap._forward.OnItem`, ``OnCompletion``). A
connection whose frames cannot be read is still relayed; only its capture stops (said once).

The relay writes only whole frames, so it can add its own at a frame boundary: on stop it
refuses new ``GetWorkItems`` calls (an ``UNAVAILABLE`` trailers-only answer, the call reset on
the sidecar's side) and ends the open ones (status OK to the worker, reset to the sidecar).
Holds and the sidecar's TLS and headers need the calls themselves: they go through the gRPC
forwarder (:mod:`engine.tap._forward`).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc

from engine.tap._forward import OnItem
from engine.tap._h2 import Connection

OnCompletion = Callable[[str, bytes, grpc.StatusCode, str, str], None]
"""Called when the sidecar answered a completion or abandon: path, request, status, details,
the worker's peer."""


class _Side(asyncio.Protocol):
    """One socket of a relayed connection; its reading pauses while the other side's
    writing is full."""

    def __init__(self, connection: Connection, from_worker: bool) -> None:
        self.connection = connection
        self.from_worker = from_worker
        self.transport: asyncio.Transport | None = None
        self.other: _Side | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.connection.received(data, self.from_worker)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.closed()

    def pause_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            if not self.other.transport.is_closing():
                self.other.transport.resume_reading()


class _WorkerSide(_Side):
    """The socket a worker opened: the sidecar's socket is opened for it, and until then
    nothing is read."""

    def __init__(self, relay: Relay) -> None:
        super().__init__(Connection(relay, ""), True)
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.Transport)
        self.connection.peer = _peer(transport)
        transport.pause_reading()
        task = asyncio.get_running_loop().create_task(self._open(transport))
        self.relay.tasks.add(task)
        task.add_done_callback(self.relay.tasks.discard)

    async def _open(self, worker: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, sidecar = await loop.create_connection(
                lambda: _Side(self.connection, False), *self.relay.sidecar
            )
        except OSError:
            worker.close()
            return
        assert sidecar.transport is not None
        if worker.is_closing():
            sidecar.transport.close()
            return
        sidecar.other, self.other = self, sidecar
        self.connection.connected(worker, sidecar.transport)
        worker.resume_reading()


def _peer(writer: asyncio.BaseTransport) -> str:
    address = writer.get_extra_info("peername")
    if not isinstance(address, tuple):
        return str(address)
    if ":" in address[0]:
        return f"ipv6:[{address[0]}]:{address[1]}"
    return f"ipv4:{address[0]}:{address[1]}"


class Relay:
    """The listening side of the fast path, on an event loop of its own thread.

    Args:
        listen: ``HOST:PORT`` to serve on (port 0: any free port).
        sidecar: ``HOST:PORT`` of the sidecar (plain text).
        on_item: Called with each ``GetWorkItems`` message before it is relayed.
        on_completion: See :data:`OnCompletion`.
        log: Called with notices.
        ssl_context: Serve TLS with this context (its ALPN offering ``h2``); None: plain.
    """

    def __init__(
        self,
        listen: str,
        sidecar: str,
        on_item: OnItem,
        on_completion: OnCompletion,
        log: Callable[[str], None],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._ssl = ssl_context
        host, _, port = sidecar.rpartition(":")
        self.sidecar = (host.strip("[]"), int(port))
        self._listen = listen
        self.on_item = on_item
        self.on_completion = on_completion
        self.log = log
        self.connections: set[Connection] = set()
        self.refuse_streams = False
        """Set on stop: new ``GetWorkItems`` calls are answered ``UNAVAILABLE``."""
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        """Sidecar connections being opened."""
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tap-relay", daemon=True
        )

    def start(self) -> int:
        """Listen and relay on the relay's thread; the port."""
        sockets = _bind(self._listen)
        self._thread.start()
        for sock in sockets:
            server = self._loop.create_server(lambda: _WorkerSide(self), sock=sock, ssl=self._ssl)
            self._servers.append(self._call(server))
        port: int = sockets[0].getsockname()[1]
        return port

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def end_streams(self) -> None:
        """End every ``GetWorkItems`` call (the workers see a clean end)."""

        async def end() -> None:
            for connection in list(self.connections):
                connection.end_streams()

        self._call(end())

    def in_flight(self) -> int:
        """Calls whose answer is still to be relayed (every method; the ``GetWorkItems``
        calls the relay ended are not counted)."""

        async def count() -> int:
            return sum(connection.in_flight() for connection in self.connections)

        calls: int = self._call(count())
        return calls

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every call in flight to be answered (see
        :meth:`in_flight`); whether they all were."""
        deadline = time.monotonic() + timeout
        while self.in_flight():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        """Stop listening, close every connection, end the thread."""

        async def close() -> None:
            for server in self._servers:
                server.close()
            for connection in list(self.connections):
                connection.close()
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=5)
            for _ in range(250):  # each closed socket reports connection_lost next
                if not self.connections:
                    break
                await asyncio.sleep(0.02)

        if self._thread.is_alive():
            self._call(close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()


def _bind(listen: str) -> list[socket.socket]:
    """Listening sockets for ``HOST:PORT`` (every address of HOST, on one port)."""
    host, _, port_text = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    port = int(port_text)
    sockets: list[socket.socket] = []
    for family, kind, proto, _, where in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((where[0], port, *where[2:]))
        except OSError:
            sock.close()
            if sockets:
                continue
            raise
        sock.listen(128)
        sock.setblocking(False)
        port = sock.getsockname()[1]
        sockets.append(sock)
    return sockets
