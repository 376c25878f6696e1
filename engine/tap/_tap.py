"""The tap's life cycle: the server, the channel to the sidecar, holds, and a stop that loses
nothing."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass

import grpc
import grpc.experimental

from engine.channel import BASE_OPTIONS, ConnectionOptions, Dialer
from engine.errors import TapError
from engine.holds import HoldGate
from engine.proto import orchestrator_service_pb2 as pb
from engine.tap._capture import Capture, TapStats
from engine.tap._forward import Forwarder
from engine.tap._relay import Relay
from engine.worker import WorkItemEvent

# Streams read on the forwarding thread itself: no hop through the channel's thread per message.
_UPSTREAM = [*BASE_OPTIONS, (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)]


@dataclass(frozen=True)
class TapOptions:
    """Where the tap listens and how it reaches the sidecar.

    Attributes:
        listen: ``HOST:PORT`` to serve on (port 0: any free port, see :attr:`Tap.port`).
        sidecar: The sidecar calls are forwarded to: its address, TLS, CA file, and the
            headers added to every forwarded call (values are secrets: never printed).
        record_dir: Save every work item's request and response here.
        grace: On stop, how long to wait for the work items in flight to be completed.
        max_calls: Calls served at once (each open stream holds one).
        relay: Relay HTTP/2 frame for frame (:mod:`engine.tap._relay`) where nothing needs
            the calls themselves: no hold gate, no TLS and no headers to the sidecar. False:
            every call goes through the gRPC forwarder.
        listen_cert: PEM certificate (chain) to serve TLS with, beside ``listen_key``; None:
            the tap listens in plain text.
        listen_key: PEM private key of ``listen_cert``.
    """

    listen: str
    sidecar: ConnectionOptions
    record_dir: str | None = None
    grace: float = 10.0
    max_calls: int = 256
    relay: bool = True
    listen_cert: str | None = None
    listen_key: str | None = None


def read_listen_tls(options: TapOptions) -> tuple[bytes, bytes] | None:
    """The certificate and key the tap serves TLS with (None: plain text), checked.

    Raises:
        TapError: Only one of the two is given, a file cannot be read, or it holds no PEM
            certificate / private key.
    """
    cert, key = options.listen_cert, options.listen_key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TapError("a TLS listener needs both a certificate and its key")
    found = []
    for path, what, marker in (
        (cert, "certificate", b"CERTIFICATE-----"),
        (key, "key", b"KEY-----"),
    ):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as err:
            raise TapError(f"cannot read the {what} file {path}: {err.strerror}") from None
        if b"-----BEGIN" not in data or marker not in data:
            raise TapError(f"the {what} file {path} holds no PEM {what}")
        found.append(data)
    return found[0], found[1]


def _server_context(options: TapOptions) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(options.listen_cert or "", options.listen_key or "")
    except (ssl.SSLError, OSError) as err:
        raise TapError(f"the certificate and key do not load: {err}") from None
    context.set_alpn_protocols(["h2"])
    return context


class Tap:
    """A transparent ``TaskHubSidecarService`` proxy that captures the work items it forwards.

    Usage::

        sidecar = ConnectionOptions("127.0.0.1:4001")
        tap = Tap(TapOptions("127.0.0.1:4002", sidecar), on_event=print)
        tap.start()
        ...
        tap.stop()

    Args:
        options: See :class:`TapOptions`.
        on_event: Called with each finished or held work item (from the capture thread).
        on_received: Called with each work item as it arrives.
        log: Called with notices for people (never header values).
        holds: Hold the orchestrator completions this gate takes (see :mod:`engine.holds`)
            until :meth:`release_held` forwards or :meth:`abandon_held` abandons them.
        on_idle: Called once every report so far was made (see :class:`Capture`).
    """

    def __init__(
        self,
        options: TapOptions,
        on_event: Callable[[WorkItemEvent], None] | None = None,
        on_received: Callable[[WorkItemEvent], None] | None = None,
        log: Callable[[str], None] | None = None,
        holds: HoldGate | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.options = options
        self._on_idle = on_idle
        self.holds = holds
        self._log = log or (lambda text: None)
        self._on_event = on_event
        self._on_received = on_received
        self._stop_requested = threading.Event()
        self._server: grpc.Server | None = None
        self._channel: grpc.Channel | None = None
        self._capture: Capture | None = None
        self._forwarder: Forwarder | None = None
        self._relay: Relay | None = None
        self._tls: tuple[bytes, bytes] | None = None
        self.port = 0
        """The port the tap listens on (known after :meth:`start`)."""

    @property
    def stats(self) -> TapStats:
        """The capture's counters."""
        return self._capture.stats if self._capture is not None else TapStats()

    def start(self) -> int:
        """Open the channel and start serving; return the port.

        Raises:
            TapError: The address cannot be served.
            ConnectionConfigError: The CA file cannot be read or holds no certificate.
        """
        check_listen(self.options.listen)
        self._tls = read_listen_tls(self.options)
        context = _server_context(self.options) if self._tls is not None else None
        sidecar = self.options.sidecar
        self._capture = Capture(
            self._on_event, self._on_received, self.options.record_dir, self._log, self._on_idle
        )
        if self.uses_relay:
            port = self._start_relay(self._capture, context)
        else:
            port = self._start_forwarder(self._capture)
        self.port = port
        names = sidecar.header_names()
        self._log(
            f"listening on {self.options.listen.rpartition(':')[0]}:{port}"
            + (" with TLS" if self._tls is not None else "")
            + ", "
            f"forwarding to {sidecar.address}"
            + (" over TLS" if sidecar.tls else "")
            + (f" (headers: {', '.join(names)})" if names else "")
        )
        return port

    @property
    def uses_relay(self) -> bool:
        """Whether calls are relayed frame for frame (see :attr:`TapOptions.relay`)."""
        sidecar = self.options.sidecar
        plain = sidecar.address.rpartition(":")[2].isdigit()  # HOST:PORT, not a gRPC target
        return (
            self.options.relay
            and plain
            and self.holds is None
            and not sidecar.tls
            and not sidecar.headers
        )

    def _start_relay(self, capture: Capture, context: ssl.SSLContext | None) -> int:
        self._relay = Relay(
            self.options.listen,
            self.options.sidecar.address,
            capture.item,
            capture.completion,
            self._log,
            context,
        )
        try:
            return self._relay.start()
        except OSError as exc:
            self._relay = None
            capture.close()
            raise TapError(f"cannot listen on {self.options.listen}: {exc.strerror}") from None

    def _start_forwarder(self, capture: Capture) -> int:
        sidecar = self.options.sidecar
        self._channel = Dialer(sidecar, _UPSTREAM).open()
        self._forwarder = Forwarder(
            self._channel,
            sidecar.headers,
            capture.item,
            capture.completion,
            self._hold if self.holds is not None else None,
        )
        server = grpc.server(
            futures.ThreadPoolExecutor(self.options.max_calls, thread_name_prefix="tap"),
            handlers=[self._forwarder],
            options=[*BASE_OPTIONS, ("grpc.so_reuseport", 0)],
        )
        try:
            if self._tls is not None:
                cert, key = self._tls
                credentials = grpc.ssl_server_credentials([(key, cert)])
                port = server.add_secure_port(self.options.listen, credentials)
            else:
                port = server.add_insecure_port(self.options.listen)
        except RuntimeError:
            port = 0
        if not port:
            capture.close()
            self._channel.close()
            raise TapError(f"cannot listen on {self.options.listen} (address in use?)")
        server.start()
        self._server = server
        return port

    # --- held completions ------------------------------------------------------------

    def _hold(self, request: bytes, peer: str) -> str | None:
        """The forwarder's question about an orchestrator completion: hold it?"""
        gate, capture, forwarder = self.holds, self._capture, self._forwarder
        if gate is None or not gate.armed or capture is None or forwarder is None:
            return None
        if forwarder.refuse_streams:  # stopping: nothing new is held
            return None
        try:
            token = pb.OrchestratorResponse.FromString(request).completionToken
            event = capture.open_item("orchestrator", token)
            if event is None or not gate.take(event.request, event.name):
                return None
        except Exception as err:  # noqa: BLE001 - a broken rule never costs a completion
            self._log(f"hold rule failed ({type(err).__name__}: {err}): forwarded")
            return None
        forwarder.held.hold(token)
        capture.held(token, request, peer)
        return token

    def held_tokens(self) -> list[str]:
        """Completion tokens of the orchestrator completions held right now."""
        return self._forwarder.held.tokens() if self._forwarder is not None else []

    def release_held(self, token: str) -> bool:
        """Forward the held completion of ``token``; False if it is not held."""
        return self._forwarder is not None and self._forwarder.held.settle(token, release=True)

    def abandon_held(self, token: str) -> bool:
        """Abandon the work item of a held completion instead; False if it is not held.

        The sidecar gets ``AbandonTaskOrchestratorWorkItem`` with the work item's token (it
        redelivers the turn); the worker's completion call gets the sidecar's answer to it.
        """
        return self._forwarder is not None and self._forwarder.held.settle(token, release=False)

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
        forwarded, and held completions are forwarded as the worker sent them; once the work
        items received have all been completed or abandoned (or :attr:`TapOptions.grace` ran
        out) and the streams were quiet for a moment, the streams are ended, and the calls
        still in flight (completions, client calls, any method) are forwarded and answered
        before the connections close, within the same grace.
        """
        if self._relay is not None:
            self._stop_relay(self._relay)
            return
        server, forwarder, capture = self._server, self._forwarder, self._capture
        if server is None or forwarder is None or capture is None:
            return
        self._server = None
        deadline = time.monotonic() + self.options.grace
        forwarder.refuse_streams = True
        released = forwarder.held.settle_all(release=True)
        if released:
            self._log(f"forwarded {released} held completion(s): the tap is stopping")
        self._wait_settled(capture, deadline, quiet=0.3)
        forwarder.end_streams()
        forwarder.held.settle_all(release=True)  # one held as the stop began
        self._wait_settled(capture, deadline, quiet=0.0)
        server.stop(max(1.0, deadline - time.monotonic())).wait()
        capture.flush()
        capture.close()
        if self._channel is not None:
            self._channel.close()
        self._log("stopped: " + capture.stats.summary(capture.open_items()))

    def _stop_relay(self, relay: Relay) -> None:
        """:meth:`stop` for the relay: the same steps, on the relayed connections."""
        capture = self._capture
        assert capture is not None
        self._relay = None
        deadline = time.monotonic() + self.options.grace
        relay.refuse_streams = True
        self._wait_settled(capture, deadline, quiet=0.3)
        relay.end_streams()
        self._wait_settled(capture, deadline, quiet=0.0)
        pending = relay.in_flight()
        if pending:
            self._log(f"waiting for {pending} call(s) in flight to be answered")
            if not relay.wait_idle(max(0.0, deadline - time.monotonic())):
                cut = relay.in_flight()
                self._log(f"{cut} call(s) still in flight after the grace: their connections close")
        relay.stop()
        capture.flush()
        capture.close()
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


def check_listen(address: str) -> None:
    """Whether ``address`` can be served: fail with one clear line before gRPC's own logging
    would (it prints to stderr).

    Raises:
        TapError: The address cannot be bound (in use, not an address of this machine...).
    """
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
