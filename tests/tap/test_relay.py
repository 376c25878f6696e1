"""The relay (the tap's fast path): header blocks read as the peers wrote them, work items and
completions read from the frames, and the stop's own frames.

The header blocks are decoded by ``hpack`` and the frames read by ``hyperframe``; what is ours is
feeding them: against real gRPC peers (grpcio's client and server; the JavaScript worker's
grpc-js runs in test_js_worker.py), hundreds of calls with fresh metadata churn both dynamic
tables through evictions, metadata of 40 KB goes both ways, and every completion must still be
read with its request, status and message. CONTINUATION frames, padding and priority, which
grpcio does not write (it sends a large header block in one frame), are checked on frames written
with the same libraries, as ``h2`` or nghttp2 would write them.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any, cast

import grpc
import pytest
from hpack import Encoder
from hyperframe.frame import ContinuationFrame, DataFrame, HeadersFrame, SettingsFrame

from engine.tap._relay import Relay

from .support import free_port, wait_until

SERVICE = "/TaskHubSidecarService/"
BIG = [("grpc.max_metadata_size", 1 << 20)]
LARGE = "".join(f"{n:x}" for n in range(12_000))
"""Metadata larger than HTTP/2's smallest frame size (16 KiB) however coded."""


class Sidecar:
    """A server of our own under the sidecar's method paths, answering raw bytes."""

    def __init__(self) -> None:
        self.hang = threading.Event()
        self.slow_reached = threading.Event()
        self.slow_release = threading.Event()
        self.server = grpc.server(
            futures.ThreadPoolExecutor(8), compression=grpc.Compression.Gzip, options=BIG
        )
        handlers = {
            "CompleteActivityTask": grpc.unary_unary_rpc_method_handler(self.complete),
            "GetWorkItems": grpc.unary_stream_rpc_method_handler(self.items),
            "Slow": grpc.unary_unary_rpc_method_handler(self.slow),
        }
        self.server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("TaskHubSidecarService", handlers)]
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def complete(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        if request.startswith(b"fail"):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "100% refused: ✓ " + "n" * 50)
        if request.startswith(b"large"):
            context.set_trailing_metadata([("x-large", LARGE)])
        return b""

    def slow(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        """A method no sidecar has, answered when the test says so."""
        self.slow_reached.set()
        self.slow_release.wait(60)
        return b"answer to " + request

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
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=BIG)
    try:
        yield relay, channel, items, done, notes, sidecar
    finally:
        channel.close()
        sidecar.hang.set()
        sidecar.slow_release.set()
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


def test_large_metadata_is_read_both_ways(relayed: Any) -> None:
    _, channel, _, done, notes, _ = relayed
    complete = channel.unary_unary(SERVICE + "CompleteActivityTask")
    for n in range(3):  # the table in step after each
        _, call = complete.with_call(
            b"large%d" % n, metadata=[("x-large", LARGE), ("x-n", str(n))], timeout=30
        )
        assert dict(call.trailing_metadata())["x-large"] == LARGE
        complete(b"ok%d" % n, metadata=[("x-n", str(n))], timeout=30)
    wait_until("every completion read", lambda: len(done) == 6)
    assert [r[1] for r in done] == [b"large0", b"ok0", b"large1", b"ok1", b"large2", b"ok2"]
    assert {r[2] for r in done} == {grpc.StatusCode.OK}
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


def test_the_stop_waits_for_every_call_in_flight(relayed: Any) -> None:
    """Any call, of any method (here one no sidecar has: the SDK's sidecar has no call the
    test could hold open at will), is followed until its answer went through; the streams the
    stop ended are not waited for."""
    relay, channel, _, _, notes, sidecar = relayed
    stream = channel.unary_stream(SERVICE + "GetWorkItems")(b"hang", timeout=60)
    assert len([next(stream) for _ in range(4)]) == 4
    answer = channel.unary_unary(SERVICE + "Slow").future(b"question", timeout=60)
    wait_until("the call at the server", sidecar.slow_reached.is_set)
    relay.refuse_streams = True
    relay.end_streams()
    assert list(stream) == []
    assert relay.in_flight() == 1  # the slow call, not the ended stream
    assert not relay.wait_idle(0)
    sidecar.slow_release.set()
    assert relay.wait_idle(60)
    assert answer.result(timeout=60) == b"answer to question"
    assert relay.in_flight() == 0
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


def _connection() -> tuple[Any, _Socket, _Socket, list[Any], list[str]]:
    """A relayed connection between two stand-in sockets, and what it reports."""
    from engine.tap._h2 import Connection

    done: list[Any] = []
    notes: list[str] = []
    relay = Relay(
        "127.0.0.1:0", "127.0.0.1:1", lambda *a: None, lambda *r: done.append(r), notes.append
    )
    connection = Connection(relay, "ipv4:127.0.0.1:5")
    worker, sidecar = _Socket(), _Socket()
    connection.connected(cast(asyncio.Transport, worker), cast(asyncio.Transport, sidecar))
    return connection, worker, sidecar, done, notes


def _in_pieces(connection: Any, data: bytes, from_worker: bool, size: int) -> None:
    for at in range(0, len(data), size):
        connection.received(data[at : at + size], from_worker=from_worker)


def test_frames_that_cannot_be_read_are_still_relayed_unchanged() -> None:
    from engine.tap._h2 import PREFACE

    connection, worker, sidecar, _, notes = _connection()
    bad = HeadersFrame(1, bytes([0x80 | 70]), flags=("END_HEADERS", "END_STREAM")).serialize()
    data = (
        PREFACE
        + SettingsFrame(0).serialize()
        + bad  # a header block naming no table entry
        + DataFrame(1, b"\x00\x00\x00\x00\x01z", flags=("END_STREAM",)).serialize()
    )
    for cut in (10, 30, 40, len(data)):  # in pieces, cut anywhere
        connection.received(data[:cut], from_worker=True)
        data = data[cut:]
    more = DataFrame(3, b"after").serialize()
    connection.received(more, from_worker=True)
    assert bytes(sidecar.sent) == (
        PREFACE
        + SettingsFrame(0).serialize()
        + bad
        + DataFrame(1, b"\x00\x00\x00\x00\x01z", flags=("END_STREAM",)).serialize()
        + more
    )
    assert len(notes) == 1 and "ipv4:127.0.0.1:5" in notes[0] and "no longer captured" in notes[0]
    assert worker.sent == b""


def _block(
    stream: int, block: bytes, end_stream: bool, pieces: int = 3
) -> list[HeadersFrame | ContinuationFrame]:
    """A header block cut into a HEADERS frame (padded, with a priority) and CONTINUATIONs."""
    size = len(block) // pieces + 1
    cuts = [block[at : at + size] for at in range(0, len(block), size)]
    flags = ["PADDED", "PRIORITY"] + (["END_STREAM"] if end_stream else [])
    first = HeadersFrame(stream, cuts[0], pad_length=7, stream_weight=15, flags=flags)
    frames: list[HeadersFrame | ContinuationFrame] = [first]
    frames += [ContinuationFrame(stream, cut) for cut in cuts[1:]]
    frames[-1].flags.add("END_HEADERS")
    return frames


def test_headers_are_read_across_continuation_padding_and_priority() -> None:
    from engine.tap._h2 import PREFACE

    connection, worker, sidecar, done, notes = _connection()
    request, response = Encoder(), Encoder()
    request_bytes = PREFACE + SettingsFrame(0).serialize()
    answer_bytes = SettingsFrame(0).serialize()
    message = gzip.compress(b"r" * 3000)
    framed = b"\x01" + len(message).to_bytes(4, "big") + message
    for n in range(1, 40, 2):  # the same encoders throughout: the dynamic tables fill and churn
        headers = [(":method", "POST"), (":path", SERVICE + "CompleteActivityTask")]
        headers += [("grpc-encoding", "gzip"), (f"x-{n % 9}", "v" * (n * 40))]
        frames: list[Any] = _block(n, request.encode(headers), end_stream=False)
        cut = len(framed) // 2
        frames.append(DataFrame(n, framed[:cut], pad_length=3, flags=("PADDED",)))
        frames.append(DataFrame(n, framed[cut:], flags=("END_STREAM",)))
        request_bytes += b"".join(frame.serialize() for frame in frames)
        trailers = [(":status", "200"), ("grpc-status", "9"), ("grpc-message", f"n%C3%A9 {n}")]
        trailers += [(f"x-{n % 5}", "w" * (n * 30))]
        answer = _block(n, response.encode(trailers), end_stream=True, pieces=4)
        answer_bytes += b"".join(frame.serialize() for frame in answer)
    _in_pieces(connection, request_bytes, from_worker=True, size=1000)
    _in_pieces(connection, answer_bytes, from_worker=False, size=777)
    assert (bytes(sidecar.sent), bytes(worker.sent)) == (request_bytes, answer_bytes)
    assert notes == []
    assert len(done) == 20
    for n, (path, body, code, details, _) in zip(range(1, 40, 2), done, strict=True):
        assert (path, body) == (SERVICE + "CompleteActivityTask", b"r" * 3000)
        assert (code, details) == (grpc.StatusCode.FAILED_PRECONDITION, f"né {n}")


def test_bytes_go_on_at_once_and_the_relays_own_frames_at_the_next_frame_end() -> None:
    from hpack import Decoder
    from hyperframe.frame import Frame, RstStreamFrame, WindowUpdateFrame

    from engine.tap._h2 import PREFACE

    connection, worker, sidecar, _, notes = _connection()
    call = [(":method", "POST"), (":path", SERVICE + "GetWorkItems")]
    request = PREFACE + SettingsFrame(0).serialize()
    request += HeadersFrame(1, Encoder().encode(call), flags=["END_HEADERS"]).serialize()
    request += DataFrame(1, b"\0\0\0\0\0", flags=["END_STREAM"]).serialize()
    connection.received(request, from_worker=True)
    answer = [(":status", "200"), ("content-type", "application/grpc")]
    start = SettingsFrame(0).serialize()
    start += HeadersFrame(1, Encoder().encode(answer), flags=["END_HEADERS"]).serialize()
    item = DataFrame(1, b"\0\0\0\0\x03abc").serialize()
    connection.received(start + item[:11], from_worker=False)  # the stream cut in a frame
    assert bytes(worker.sent) == start + item[:11]  # written as it came, before a whole frame
    connection.end_streams()  # the stop, while the worker has half a frame
    assert bytes(worker.sent) == start + item[:11]
    assert bytes(sidecar.sent) == request + RstStreamFrame(1, error_code=8).serialize()
    later = DataFrame(1, b"\0\0\0\0\x01z").serialize()
    connection.received(item[11:] + later, from_worker=False)
    sent = bytes(worker.sent)
    assert sent.startswith(start + item)  # the frame whole, then the relay's trailers
    trailers, length = Frame.parse_frame_header(memoryview(sent[len(start + item) :][:9]))
    trailers.parse_body(memoryview(sent[len(start + item) + 9 :]))
    assert len(sent) == len(start + item) + 9 + length  # what followed on the stream: dropped
    assert (trailers.stream_id, trailers.flags) == (1, {"END_HEADERS", "END_STREAM"})
    assert isinstance(trailers, HeadersFrame)
    assert dict(Decoder().decode(trailers.data, raw=True))[b"grpc-status"] == b"0"
    window = WindowUpdateFrame(0, window_increment=len(later) - 9).serialize()
    assert bytes(sidecar.sent) == request + RstStreamFrame(1, error_code=8).serialize() + window
    assert connection.in_flight() == 0
    assert notes == []


def test_a_continuation_of_another_stream_stops_the_capture_not_the_relay() -> None:
    from engine.tap._h2 import PREFACE

    connection, _, sidecar, done, notes = _connection()
    frames = _block(1, Encoder().encode([(":path", SERVICE + "CompleteActivityTask")]), False)
    frames[1].stream_id = 3
    data = PREFACE + b"".join(frame.serialize() for frame in frames)
    connection.received(data, from_worker=True)
    assert bytes(sidecar.sent) == data
    assert len(notes) == 1 and "CONTINUATION" in notes[0]
    assert done == []


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
