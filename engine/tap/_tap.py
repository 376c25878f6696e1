"""The tap's life cycle: the server, the channel to the sidecar, and a stop that loses nothing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass

import grpc
import grpc.experimental

from engine.errors import InspectorError
from engine.tap._capture import Capture, TapEvent, TapStats
from engine.tap._forward import Forwarder

_UNLIMITED = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
]

# Streams read on the forwarding thread itself: no hop through the channel's thread per message.
_UPSTREAM = [*_UNLIMITED, (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)]


class TapError(InspectorError):
    """The tap could not start (address in use, unreadable CA file...)."""


@dataclass(frozen=True)
class TapOptions:
    """Where the tap listens and how it reaches the sidecar.

    Attributes:
        listen: ``HOST:PORT`` to serve on (port 0: any free port, see :attr:`Tap.port`).
        sidecar: ``HOST:PORT`` of the sidecar calls are forwarded to.
        tls: Reach the sidecar over TLS.
        ca_file: PEM file with the CA certificates to trust (TLS only; default: system roots).
        headers: Metadata added to every forwarded call. Values are secrets: never printed.
        record_dir: Save every work item's request and response here.
        grace: On stop, how long to wait for the work items in flight to be completed.
        max_calls: Calls served at once (each open stream holds one).
    """

    listen: str
    sidecar: str
    tls: bool = False
    ca_file: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    record_dir: str | None = None
    grace: float = 10.0
    max_calls: int = 256


class Tap:
    """A transparent ``TaskHubSidecarService`` proxy that captures the work items it forwards.

    Usage::

        tap = Tap(TapOptions("127.0.0.1:4002", sidecar="127.0.0.1:4001"), on_event=print)
        tap.start()
        ...
        tap.stop()

    Args:
        options: See :class:`TapOptions`.
        on_event: Called with each finished work item (from the capture thread).
        on_received: Called with each work item as it arrives.
        log: Called with notices for people (never header values).
    """

    def __init__(
        self,
        options: TapOptions,
        on_event: Callable[[TapEvent], None] | None = None,
        on_received: Callable[[TapEvent], None] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self._log = log or (lambda text: None)
        self._on_event = on_event
        self._on_received = on_received
        self._stop_requested = threading.Event()
        self._server: grpc.Server | None = None
        self._channel: grpc.Channel | None = None
        self._capture: Capture | None = None
        self._forwarder: Forwarder | None = None
        self.port = 0
        """The port the tap listens on (known after :meth:`start`)."""

    @property
    def stats(self) -> TapStats:
        """The capture's counters."""
        return self._capture.stats if self._capture is not None else TapStats()

    def start(self) -> int:
        """Open the channel and start serving; return the port.

        Raises:
            TapError: The address cannot be served or the CA file cannot be read.
        """
        _check_listen(self.options.listen)
        self._channel = self._open_channel()
        self._capture = Capture(
            self._on_event, self._on_received, self.options.record_dir, self._log
        )
        self._forwarder = Forwarder(
            self._channel, self.options.headers, self._capture.item, self._capture.completion
        )
        server = grpc.server(
            futures.ThreadPoolExecutor(self.options.max_calls, thread_name_prefix="tap"),
            handlers=[self._forwarder],
            options=[*_UNLIMITED, ("grpc.so_reuseport", 0)],
        )
        try:
            port = server.add_insecure_port(self.options.listen)
        except RuntimeError:
            port = 0
        if not port:
            self._capture.close()
            self._channel.close()
            raise TapError(f"cannot listen on {self.options.listen} (address in use?)")
        server.start()
        self._server, self.port = server, port
        names = [key for key, _ in self.options.headers]
        self._log(
            f"listening on {self.options.listen.rpartition(':')[0]}:{port}, "
            f"forwarding to {self.options.sidecar}"
            + (" over TLS" if self.options.tls else "")
            + (f" (headers: {', '.join(names)})" if names else "")
        )
        return port

    def _open_channel(self) -> grpc.Channel:
        options = self.options
        if not options.tls:
            return grpc.insecure_channel(options.sidecar, options=_UPSTREAM)
        roots = None
        if options.ca_file:
            try:
                with open(options.ca_file, "rb") as handle:
                    roots = handle.read()
            except OSError as exc:
                raise TapError(
                    f"cannot read the CA file {options.ca_file}: {exc.strerror}"
                ) from None
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        return grpc.secure_channel(options.sidecar, credentials, options=_UPSTREAM)

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (safe from a signal handler)."""
        self._stop_requested.set()

    def run(self) -> None:
        """Start, serve until :meth:`request_stop`, then stop cleanly."""
        self.start()
        try:
            while not self._stop_requested.wait(0.5):
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop without losing a work item in flight.

        New ``GetWorkItems`` streams are refused at once while every other call is still
        forwarded; once the work items received have all been completed or abandoned (or
        :attr:`TapOptions.grace` ran out) and the streams were quiet for a moment, the
        streams are ended, late completions are still forwarded, and the server stops.
        """
        server, forwarder, capture = self._server, self._forwarder, self._capture
        if server is None or forwarder is None or capture is None:
            return
        self._server = None
        deadline = time.monotonic() + self.options.grace
        forwarder.refuse_streams = True
        self._wait_settled(capture, deadline, quiet=0.3)
        forwarder.end_streams()
        self._wait_settled(capture, deadline, quiet=0.0)
        server.stop(max(1.0, deadline - time.monotonic())).wait()
        capture.flush()
        capture.close()
        if self._channel is not None:
            self._channel.close()
        self._log("stopped: " + capture.stats.summary(capture.open_items()))

    @staticmethod
    def _wait_settled(capture: Capture, deadline: float, quiet: float) -> None:
        calm_since: float | None = None
        while time.monotonic() < deadline:
            settled = capture.flush(max(0.1, deadline - time.monotonic()))
            now = time.monotonic()
            if settled and capture.open_items() == 0:
                calm_since = calm_since if calm_since is not None else now
                if now - calm_since >= quiet:
                    return
            else:
                calm_since = None
            time.sleep(0.05)


def _check_listen(address: str) -> None:
    """Fail with one clear line before gRPC's own logging would (it prints to stderr)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        family, kind, proto, _, where = socket.getaddrinfo(host, int(port), 0, socket.SOCK_STREAM)[
            0
        ]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(where)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise TapError(f"cannot listen on {address}: {reason}") from None
