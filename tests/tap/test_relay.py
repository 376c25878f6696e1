"""The relay (the tap's fast path): header blocks read as the peers wrote them, work items and
completions read from the frames, and the stop's own frames.

HPACK is checked on the examples of RFC 7541 appendix C, then against real gRPC peers (grpcio's
client and server; the JavaScript worker's grpc-js runs in test_js_worker.py): hundreds of calls
with fresh metadata churn both dynamic tables through evictions, and every completion must still
be read with its request, status and message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from engine.tap._hpack import Decoder, HpackError, encode_literal, huffman_decode
from engine.tap._relay import Relay

from .support import free_port, wait_until

SERVICE = "/TaskHubSidecarService/"


def test_rfc_7541_requests_without_huffman() -> None:
    decoder = Decoder()
    first = bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")
    assert decoder.decode(first) == [
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ]
    second = bytes.fromhex("828684be58086e6f2d6361636865")
    assert decoder.decode(second)[-2:] == [
        (":authority", "www.example.com"),  # from the dynamic table
        ("cache-control", "no-cache"),
    ]


def test_rfc_7541_requests_with_huffman() -> None:
    decoder = Decoder()
    assert decoder.decode(bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))[-1] == (
        ":authority",
        "www.example.com",
    )
    assert decoder.decode(bytes.fromhex("828684be5886a8eb10649cbf"))[-1] == (
        "cache-control",
        "no-cache",
    )
    third = bytes.fromhex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf")
    assert decoder.decode(third) == [
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ]


def test_bad_blocks_and_codes_are_refused() -> None:
    with pytest.raises(HpackError):
        Decoder().decode(bytes([0x80 | 70]))  # no such entry yet
    with pytest.raises(HpackError):
        Decoder().decode(bytes.fromhex("418c f1e3"))  # a cut string
    with pytest.raises(HpackError):
        huffman_decode(b"\xff\xff\xff\xff")  # EOS
    assert huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")) == b"www.example.com"


def test_literal_blocks_leave_the_table_alone() -> None:
    decoder = Decoder()
    block = encode_literal([("grpc-status", "14"), ("grpc-message", "x" * 300)])
    assert decoder.decode(block) == [("grpc-status", "14"), ("grpc-message", "x" * 300)]
    with pytest.raises(HpackError):
        decoder.decode(bytes([0x80 | 62]))  # nothing was added


class Sidecar:
    """A server of our own under the sidecar's method paths, answering raw bytes."""

    def __init__(self) -> None:
        self.hang = threading.Event()
        self.server = grpc.server(futures.ThreadPoolExecutor(8), compression=grpc.Compression.Gzip)
        handlers = {
            "CompleteActivityTask": grpc.unary_unary_rpc_method_handler(self.complete),
            "GetWorkItems": grpc.unary_stream_rpc_method_handler(self.items),
        }
        self.server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("TaskHubSidecarService", handlers)]
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def complete(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        if request.startswith(b"fail"):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "100% refused: ✓ " + "n" * 50)
        return b""

    def items(self, request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        for size in (0, 1, 17_000, 100_000):
            yield bytes([size % 251]) * size
        if request == b"hang":
            context.add_callback(self.hang.set)
            self.hang.wait(60)


@pytest.fixture
def relayed() -> Iterator[tuple[Relay, grpc.Channel, list[Any], list[Any], list[str], Sidecar]]:
    sidecar = Sidecar()
    items: list[Any] = []
    done: list[Any] = []
    notes: list[str] = []
    relay = Relay(
        f"127.0.0.1:{free_port()}",
        f"127.0.0.1:{sidecar.port}",
        lambda data, peer: items.append((data, peer)),
        lambda *report: done.append(report),
        notes.append,
    )
    port = relay.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield relay, channel, items, done, notes, sidecar
    finally:
        channel.close()
        sidecar.hang.set()
        relay.stop()
        sidecar.server.stop(0)


def test_completions_are_read_through_header_table_churn(relayed: Any) -> None:
    relay, channel, _, done, notes, _ = relayed
    complete = channel.unary_unary(SERVICE + "CompleteActivityTask")
    sent = []
    for n in range(300):
        request = (b"fail" if n % 7 == 0 else b"ok") + n.to_bytes(2, "big") * (n + 1)
        sent.append(request)
        metadata = [(f"x-key-{n % 40}", f"{n}-" + "v" * (n % 200))]
        try:
            complete(request, metadata=metadata, timeout=30)
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    wait_until("every completion read", lambda: len(done) == 300)
    assert [report[1] for report in done] == sent
    for request, (path, _, code, details, peer) in zip(sent, done, strict=True):
        assert path == SERVICE + "CompleteActivityTask"
        assert peer.startswith("ipv4:127.0.0.1:")
        if request.startswith(b"fail"):
            assert (code, details) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "100% refused: ✓ " + "n" * 50,
            )
        else:
            assert (code, details) == (grpc.StatusCode.OK, "")
    assert notes == []


def test_work_items_are_read_across_frames_and_compressed(relayed: Any) -> None:
    _, channel, items, _, notes, _ = relayed
    stream = channel.unary_stream(SERVICE + "GetWorkItems")
    received = list(stream(b"", timeout=30))
    assert [len(m) for m in received] == [0, 1, 17_000, 100_000]
    wait_until("the items read", lambda: len(items) == 4)
    assert [data for data, _ in items] == received
    assert notes == []


def test_the_stop_ends_the_streams_and_refuses_new_ones(relayed: Any) -> None:
    relay, channel, _, done, notes, sidecar = relayed
    stream = channel.unary_stream(SERVICE + "GetWorkItems")(b"hang", timeout=60)
    first = [next(stream) for _ in range(4)]
    assert len(first) == 4
    relay.refuse_streams = True
    with pytest.raises(grpc.RpcError) as info:
        list(channel.unary_stream(SERVICE + "GetWorkItems")(b"", timeout=30))
    assert (info.value.code(), info.value.details()) == (
        grpc.StatusCode.UNAVAILABLE,
        "the tap is stopping",
    )
    # the connection still serves the other calls, its header tables in step
    channel.unary_unary(SERVICE + "CompleteActivityTask")(b"late", timeout=30)
    relay.end_streams()
    assert list(stream) == []  # a clean end for the worker
    assert stream.code() == grpc.StatusCode.OK
    wait_until("the sidecar saw its call reset", sidecar.hang.is_set)
    channel.unary_unary(SERVICE + "CompleteActivityTask")(b"later", timeout=30)
    wait_until("both completions", lambda: [r[1] for r in done] == [b"late", b"later"])
    assert relay.wait_idle(10)
    assert notes == []


class _Socket:
    """What the relay writes to one side (a stand-in for a socket's transport)."""

    def __init__(self) -> None:
        self.sent = bytearray()

    def write(self, data: bytes) -> None:
        self.sent += data

    def writelines(self, pieces: Any) -> None:
        for piece in pieces:
            self.sent += piece

    def is_closing(self) -> bool:
        return False


def test_frames_that_cannot_be_read_are_still_relayed_unchanged() -> None:
    from engine.tap._h2 import PREFACE as _PREFACE
    from engine.tap._h2 import Connection as _Connection
    from engine.tap._h2 import frame as _frame

    notes: list[str] = []
    relay = Relay("127.0.0.1:0", "127.0.0.1:1", lambda *a: None, lambda *a: None, notes.append)
    connection = _Connection(relay, "ipv4:127.0.0.1:5")
    worker, sidecar = _Socket(), _Socket()
    connection.connected(worker, sidecar)  # type: ignore[arg-type]
    bad = _frame(1, 0x4 | 0x1, 1, bytes([0x80 | 70]))  # HEADERS naming no table entry
    data = _PREFACE + _frame(4, 0, 0, b"") + bad + _frame(0, 1, 1, b"\x00\x00\x00\x00\x01z")
    for cut in (10, 30, 40, len(data)):  # in pieces, cut anywhere
        connection.received(data[:cut], from_worker=True)
        data = data[cut:]
    more = _frame(0, 0, 3, b"after")
    connection.received(more, from_worker=True)
    assert bytes(sidecar.sent) == (
        _PREFACE + _frame(4, 0, 0, b"") + bad + _frame(0, 1, 1, b"\x00\x00\x00\x00\x01z") + more
    )
    assert len(notes) == 1 and "ipv4:127.0.0.1:5" in notes[0] and "no longer captured" in notes[0]
    assert worker.sent == b""


def test_a_compressed_completion_is_read(relayed: Any) -> None:
    relay, _, _, done, notes, _ = relayed
    host, port = relay._servers[0].sockets[0].getsockname()[:2]
    with grpc.insecure_channel(f"{host}:{port}", compression=grpc.Compression.Gzip) as channel:
        channel.unary_unary(SERVICE + "CompleteActivityTask")(b"z" * 5000, timeout=30)
    wait_until("the completion read", lambda: len(done) == 1)
    assert done[0][1] == b"z" * 5000 and done[0][2] == grpc.StatusCode.OK
    assert notes == []


@pytest.mark.parametrize("host", ["localhost", "[::1]"])
def test_listens_on_every_address_of_a_name_on_one_port(host: str) -> None:
    sidecar = Sidecar()
    done: list[Any] = []
    relay = Relay(
        f"{host}:0",
        f"127.0.0.1:{sidecar.port}",
        lambda *a: None,
        lambda *report: done.append(report),
        lambda t: None,
    )
    try:
        try:
            port = relay.start()
        except OSError as err:  # no IPv6 on this machine
            pytest.skip(f"cannot listen on {host}: {err}")
        ports = {server.sockets[0].getsockname()[1] for server in relay._servers}
        assert ports == {port}
        with grpc.insecure_channel(f"{host}:{port}") as channel:
            channel.unary_unary(SERVICE + "CompleteActivityTask")(b"ok", timeout=30)
        wait_until("the completion read", lambda: len(done) == 1)
    finally:
        relay.stop()
        sidecar.server.stop(0)
