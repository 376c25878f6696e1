"""The way to a sidecar: where it is, the channel (plaintext or TLS), headers and back-off.

The embedded worker and the live client both reach the sidecar through here:

- :class:`ConnectionOptions` says where the sidecar is and how to talk to it;
- :class:`Dialer` reads and checks the CA file once, when it is made (a missing or empty file
  is a :class:`~engine.errors.ConnectionConfigError` before any thread starts), and then opens
  as many channels as reconnecting needs;
- :class:`Backoff` is the one reconnect delay rule.

This module never imports Textual or Rich.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from engine.defaults import DIALECTS
from engine.errors import ConnectionConfigError

ChannelOptions = Sequence[tuple[str, int | str]]
"""gRPC channel arguments: ``(name, value)`` pairs."""

BASE_OPTIONS: ChannelOptions = (
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
)
"""Channel arguments every channel to a sidecar gets: no message size limits."""

_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"

LONGEST_WAIT = min(threading.TIMEOUT_MAX, (2**31 - 1) / 1000.0)
"""The longest wait, in seconds, every wait of the platform can take (``poll`` counts
milliseconds in a C ``int``: about 24.8 days)."""

_HEADER_KEY = re.compile(r"[0-9a-z_.-]+")


def header_problem(key: str, value: str) -> str | None:
    """Why ``key: value`` cannot be gRPC call metadata, or None when it can.

    A key is lower-case ``0-9 a-z _ . -`` and not ``grpc-`` (reserved); a text value is
    printable ASCII (no newline); ``-bin`` keys carry bytes, which a text header cannot give.
    """
    if not key or not _HEADER_KEY.fullmatch(key):
        return f"header name {key!r} is not lower-case letters, digits, '-', '_' or '.'"
    if key.startswith("grpc-"):
        return f"header name {key!r} is reserved for gRPC"
    if key.endswith("-bin"):
        return f"header {key!r} is binary (-bin); only text headers can be given"
    if any(not " " <= ch <= "~" for ch in value):
        return f"the value of header {key!r} is not printable ASCII (a newline, a tab, non-ASCII)"
    return None


class Backoff:
    """Full-jitter reconnect delays with a floor: ``max(floor, random() * min(cap, base * 2**n))``.

    ``n`` counts the failures since the last :meth:`reset`; the floor keeps a dead sidecar
    from being hammered when the jitter happens to be tiny.

    Args:
        base: Delay scale in seconds.
        cap: Longest jittered delay in seconds.
        floor: Shortest delay in seconds.
        rng: Source of randomness (tests pass a seeded one).
    """

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 30.0,
        floor: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.floor = floor
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt, in seconds (counts one more failure)."""
        delay = self._rng.random() * min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return max(self.floor, delay)

    def reset(self) -> None:
        """A connection succeeded: start over."""
        self.attempt = 0


@dataclass(frozen=True)
class ConnectionOptions:
    """How to reach the sidecar.

    Attributes:
        address: ``HOST:PORT`` of the sidecar.
        tls: Connect with TLS.
        ca_file: PEM file with the CA certificates to trust (TLS only; default: system roots).
        headers: Metadata sent with every call. Values are secrets: never print them.
            Each must pass :func:`header_problem` (else :class:`ConnectionConfigError`).
        hello_timeout: Deadline of the ``Hello`` call, in seconds.
        silent_timeout: Reconnect when nothing (work item or health ping) arrived for this long.
        backoff_base: Base of the reconnect back-off (:class:`Backoff`), in seconds.
        backoff_cap: Cap of the reconnect back-off, in seconds.
        backoff_floor: Shortest reconnect delay, in seconds.
        dialect: The sidecar's dialect of the protocol: ``durabletask`` (Microsoft's) or
            ``dapr`` (Dapr Workflow's; see :mod:`engine.dapr_wire`).
    """

    address: str
    tls: bool = False
    ca_file: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hello_timeout: float = 30.0
    silent_timeout: float = 120.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    backoff_floor: float = 0.5
    dialect: str = DIALECTS[0]

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ConnectionConfigError(
                f"--dialect: expected {' or '.join(DIALECTS)}, got {self.dialect!r}"
            )
        for key, value in self.headers:
            problem = header_problem(key, value)
            if problem is not None:
                raise ConnectionConfigError(problem)

    def header_names(self) -> list[str]:
        """The header keys (values are never shown)."""
        return [key for key, _ in self.headers]

    def metadata(self) -> list[tuple[str, str]] | None:
        """The headers as gRPC call metadata (None when there are none)."""
        return list(self.headers) or None

    def backoff(self) -> Backoff:
        """A fresh reconnect back-off with these options' base, cap and floor."""
        return Backoff(self.backoff_base, self.backoff_cap, self.backoff_floor)


def read_ca_file(path: str) -> bytes:
    """The PEM certificates of a CA file, checked.

    Args:
        path: The file ``--ca`` names.

    Returns:
        The file's bytes.

    Raises:
        ConnectionConfigError: the file cannot be read or holds no PEM certificate.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConnectionConfigError(f"cannot read the CA file {path}: {reason}") from None
    if _PEM_MARKER not in data:
        raise ConnectionConfigError(f"the CA file {path} holds no PEM certificate")
    return data


class Dialer:
    """Opens channels to one sidecar; TLS credentials are built (and the CA file read) once.

    Args:
        connection: Where the sidecar is and how to talk to it.
        options: gRPC channel arguments (default: :data:`BASE_OPTIONS`).

    Raises:
        ConnectionConfigError: the CA file cannot be read or holds no certificate.
    """

    def __init__(
        self, connection: ConnectionOptions, options: ChannelOptions = BASE_OPTIONS
    ) -> None:
        self.connection = connection
        self.options = list(options)
        self._credentials: grpc.ChannelCredentials | None = None
        if connection.tls:
            roots = read_ca_file(connection.ca_file) if connection.ca_file else None
            self._credentials = grpc.ssl_channel_credentials(root_certificates=roots)

    def open(self) -> grpc.Channel:
        """A new channel to the sidecar (connecting lazily, as gRPC channels do)."""
        address = self.connection.address
        if self._credentials is not None:
            return grpc.secure_channel(address, self._credentials, options=self.options)
        return grpc.insecure_channel(address, options=self.options)


def open_channel(
    connection: ConnectionOptions, options: ChannelOptions = BASE_OPTIONS
) -> grpc.Channel:
    """One channel to the sidecar (see :class:`Dialer`).

    Raises:
        ConnectionConfigError: the CA file cannot be read or holds no certificate.
    """
    return Dialer(connection, options).open()


_UNAVAILABLE_WHY = (
    (
        ("errors resolving", "lookup failed", "name resolution", "dns resolution"),
        "name resolution failed",
    ),
    (("connection refused",), "connection refused"),
    (("tls", "ssl", "handshake", "certificate"), "TLS failure"),
)


def describe_failure(err: grpc.RpcError, method: str = "") -> str:
    """A failed call in a few words: why it failed, as a user would fix it.

    ``name resolution failed``, ``connection refused``, ``TLS failure``, ``unauthenticated``,
    ``permission denied``, ``this sidecar does not implement <method>``; otherwise the status
    name and the sidecar's own words.

    Args:
        err: The failed call.
        method: The RPC that was called (named when the sidecar lacks it).
    """
    code = err.code() if hasattr(err, "code") else None
    details = (err.details() if hasattr(err, "details") else None) or ""
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return f"this sidecar does not implement {method or 'this call'}"
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return "unauthenticated (check --header)"
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return "permission denied"
    if code == grpc.StatusCode.UNAVAILABLE:
        lowered = details.lower()
        for needles, why in _UNAVAILABLE_WHY:
            if any(n in lowered for n in needles):
                return why
    name = code.name if isinstance(code, grpc.StatusCode) else type(err).__name__
    first = details.strip().splitlines()[0] if details.strip() else ""
    return f"{name}: {first}" if first else name


def is_unimplemented(err: grpc.RpcError) -> bool:
    """Whether the sidecar answered that it lacks the method called."""
    return hasattr(err, "code") and err.code() == grpc.StatusCode.UNIMPLEMENTED
