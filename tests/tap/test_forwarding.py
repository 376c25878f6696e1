"""What the proxy passes through: unknown methods, metadata, deadlines, statuses, cancellation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from durabletask.testing import InMemoryOrchestrationBackend
from google.protobuf import empty_pb2

from engine.channel import ConnectionOptions
from engine.tap import Tap, TapOptions

from .support import free_port, sidecar, wait_until

UNLIMITED = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]


class RecordingBackend(InMemoryOrchestrationBackend):
    """The SDK's sidecar, noting the metadata and deadline each ``Hello`` arrives with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hellos: list[tuple[dict[str, Any], float | None]] = []

    def Hello(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:  # noqa: N802
        self.hellos.append((dict(context.invocation_metadata()), context.time_remaining()))
        return super().Hello(request, context)


class Echo:
    """A server of our own behind the tap, with a method of each shape under unknown paths."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.server = grpc.server(futures.ThreadPoolExecutor(8), options=UNLIMITED)
        handlers = {
            "Unary": grpc.unary_unary_rpc_method_handler(self.unary),
            "Fail": grpc.unary_unary_rpc_method_handler(self.fail),
            "Split": grpc.unary_stream_rpc_method_handler(self.split),
            "Join": grpc.stream_unary_rpc_method_handler(self.join),
            "Each": grpc.stream_stream_rpc_method_handler(self.each),
            "Hang": grpc.unary_stream_rpc_method_handler(self.hang),
        }
        self.server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("x.Echo", handlers)]
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def unary(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        context.send_initial_metadata([("echo-initial", "yes")])
        context.set_trailing_metadata([("echo-trailing", str(len(request)))])
        return request[::-1]

    def fail(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        context.set_trailing_metadata([("why", "because")])
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "not you")
        raise AssertionError  # not reached

    def split(self, request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        for byte in request:
            yield bytes([byte])
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "no more")

    def join(self, requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        return b"+".join(requests)

    def each(self, requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
        for request in requests:
            yield request.upper()

    def hang(self, request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        context.add_callback(self.cancelled.set)
        yield b"first"
        self.cancelled.wait(60)


@pytest.fixture(params=[True, False], ids=["relay", "forwarder"])
def echo_tap(request: pytest.FixtureRequest) -> Iterator[tuple[Echo, grpc.Channel]]:
    echo = Echo()
    sidecar = ConnectionOptions(f"127.0.0.1:{echo.port}")
    tap = Tap(TapOptions(f"127.0.0.1:{free_port()}", sidecar, relay=request.param))
    assert tap.uses_relay is request.param
    channel = None
    try:
        port = tap.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=UNLIMITED)
        yield echo, channel
    finally:
        if channel is not None:
            channel.close()
        tap.stop()
        echo.server.stop(0)


@pytest.mark.parametrize("relay", [True, False], ids=["relay", "forwarder"])
def test_an_unknown_method_gets_the_sidecars_own_unimplemented(relay: bool) -> None:
    with sidecar() as (_, port):
        options = TapOptions(
            f"127.0.0.1:{free_port()}", ConnectionOptions(f"127.0.0.1:{port}"), relay=relay
        )
        tap = Tap(options)
        tap_port = tap.start()
        try:
            answers = []
            for address in (f"127.0.0.1:{port}", f"127.0.0.1:{tap_port}"):
                with grpc.insecure_channel(address) as channel:
                    for path in ("/TaskHubSidecarService/NoSuchMethod", "/other.Service/Call"):
                        with pytest.raises(grpc.RpcError) as info:
                            channel.unary_unary(path)(b"", timeout=10)
                        answers.append((path, info.value.code(), info.value.details()))
            direct, tapped = answers[:2], answers[2:]
            assert tapped == direct
            assert all(code == grpc.StatusCode.UNIMPLEMENTED for _, code, _ in tapped)
        finally:
            tap.stop()


def test_metadata_and_deadlines_reach_the_sidecar() -> None:
    logs: list[str] = []
    with sidecar(RecordingBackend) as (backend, port):
        assert isinstance(backend, RecordingBackend)
        options = TapOptions(
            f"127.0.0.1:{free_port()}",
            ConnectionOptions(f"127.0.0.1:{port}", headers=(("x-taskhub", "hub-secret-value"),)),
        )
        tap = Tap(options, log=logs.append)
        assert not tap.uses_relay  # headers to add: each call goes through the forwarder
        tap_port = tap.start()
        try:
            with grpc.insecure_channel(f"127.0.0.1:{tap_port}") as channel:
                hello = channel.unary_unary(
                    "/TaskHubSidecarService/Hello",
                    request_serializer=empty_pb2.Empty.SerializeToString,
                    response_deserializer=empty_pb2.Empty.FromString,
                )
                metadata = [("authorization", "Bearer s3cret"), ("trace-bin", b"\x00\x01\xff")]
                hello(empty_pb2.Empty(), metadata=metadata, timeout=600.0)
                hello(empty_pb2.Empty())
        finally:
            tap.stop()
    (with_deadline, seen_deadline), (without, no_deadline) = backend.hellos
    assert with_deadline["authorization"] == "Bearer s3cret"
    assert with_deadline["trace-bin"] == b"\x00\x01\xff"
    assert with_deadline["x-taskhub"] == without["x-taskhub"] == "hub-secret-value"
    # A deadline far off: the time the call took on a busy machine never matters. Each hop
    # sends it as a grpc-timeout header, which gRPC may round up when it encodes it, so the
    # sidecar may see a little more than the client gave (600.999 was seen); a deadline of
    # the tap's own would not be near 600.
    assert seen_deadline is not None and 300.0 < seen_deadline < 602.0
    assert no_deadline is None or no_deadline > 1e6
    assert "authorization" not in without
    text = "\n".join(logs)
    assert "x-taskhub" in text
    assert "hub-secret-value" not in text and "s3cret" not in text


def test_each_shape_with_its_metadata_and_status(echo_tap: tuple[Echo, grpc.Channel]) -> None:
    _, channel = echo_tap
    answer, call = channel.unary_unary("/x.Echo/Unary").with_call(b"abc", timeout=10)
    assert answer == b"cba"
    assert ("echo-initial", "yes") in call.initial_metadata()
    assert ("echo-trailing", "3") in call.trailing_metadata()
    with pytest.raises(grpc.RpcError) as info:
        channel.unary_unary("/x.Echo/Fail")(b"", timeout=10)
    assert (info.value.code(), info.value.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "not you",
    )
    assert ("why", "because") in info.value.trailing_metadata()
    parts = channel.unary_stream("/x.Echo/Split")(b"xyz", timeout=10)
    received = []
    with pytest.raises(grpc.RpcError) as info:
        for part in parts:
            received.append(part)
    assert received == [b"x", b"y", b"z"]
    assert (info.value.code(), info.value.details()) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "no more",
    )
    assert channel.stream_unary("/x.Echo/Join")(iter([b"a", b"b", b"c"]), timeout=10) == b"a+b+c"
    assert list(channel.stream_stream("/x.Echo/Each")(iter([b"p", b"q"]), timeout=10)) == [
        b"P",
        b"Q",
    ]


def test_large_messages_pass(echo_tap: tuple[Echo, grpc.Channel]) -> None:
    _, channel = echo_tap
    big = bytes(range(256)) * (40 * 1024)  # 10 MiB, over gRPC's 4 MiB default
    assert channel.unary_unary("/x.Echo/Unary")(big, timeout=60) == big[::-1]


def test_cancellation_reaches_the_server_behind(echo_tap: tuple[Echo, grpc.Channel]) -> None:
    echo, channel = echo_tap
    call = channel.unary_stream("/x.Echo/Hang")(b"", timeout=60)
    assert next(call) == b"first"
    call.cancel()
    wait_until("the cancellation behind the tap", echo.cancelled.is_set)


def test_a_deadline_passes_before_the_server_behind_answers(
    echo_tap: tuple[Echo, grpc.Channel],
) -> None:
    echo, channel = echo_tap
    call = channel.unary_stream("/x.Echo/Hang")(b"", timeout=1.0)
    with pytest.raises(grpc.RpcError) as info:
        list(call)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_until("the deadline behind the tap", echo.cancelled.is_set)
