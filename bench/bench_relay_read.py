"""The relay's reading on its own: CPU per relayed call, no sockets, no peers.

The same bytes a gRPC client and server exchange for a unary completion (its HEADERS, one DATA
frame, a WINDOW_UPDATE and a PING; the answer's HEADERS, DATA and trailers, a WINDOW_UPDATE),
their header blocks written by one ``hpack`` encoder per direction as a peer would (indexed
after the first call), go through ``engine.tap._h2.Connection`` with stand-in sockets; the CPU
time per call and per frame is printed. It isolates what ``bench_tap.py`` measures as the tap's
CPU from the sockets, the capture and the log::

    python bench/bench_relay_read.py [--calls 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hpack import Encoder
from hyperframe.frame import DataFrame, HeadersFrame, PingFrame, SettingsFrame, WindowUpdateFrame

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.tap._h2 import PREFACE, Connection  # noqa: E402
from engine.tap._relay import Relay  # noqa: E402

SERVICE = "/TaskHubSidecarService/"
FRAMES_PER_CALL = 8


class _Socket:
    def __init__(self) -> None:
        self.sent = 0

    def write(self, data: bytes) -> None:
        self.sent += len(data)

    def writelines(self, pieces: Iterable[bytes]) -> None:
        for piece in pieces:
            self.sent += len(piece)

    def is_closing(self) -> bool:
        return False


def _call(n: int, up: Encoder, down: Encoder) -> tuple[bytes, bytes]:
    stream = 2 * n + 1
    path = SERVICE + ("CompleteActivityTask" if n % 2 else "CompleteOrchestratorTask")
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "127.0.0.1:5000"),
        ("te", "trailers"),
        ("content-type", "application/grpc"),
        ("user-agent", "grpc-python/1.70"),
        ("grpc-accept-encoding", "identity,deflate,gzip"),
        ("grpc-timeout", "29S"),
    ]
    message = b"\0" + (300).to_bytes(4, "big") + b"m" * 300
    request = [
        HeadersFrame(stream, up.encode(headers), flags=["END_HEADERS"]),
        DataFrame(stream, message, flags=["END_STREAM"]),
        WindowUpdateFrame(0, window_increment=305),
        PingFrame(0, b"12345678"),
    ]
    answer = [(":status", "200"), ("content-type", "application/grpc")]
    trailers = [("grpc-status", "0"), ("grpc-message", "")]
    response = [
        HeadersFrame(stream, down.encode(answer), flags=["END_HEADERS"]),
        DataFrame(stream, b"\0\0\0\0\0"),
        HeadersFrame(stream, down.encode(trailers), flags=["END_HEADERS", "END_STREAM"]),
        WindowUpdateFrame(0, window_increment=305),
    ]
    return (
        b"".join(frame.serialize() for frame in request),
        b"".join(frame.serialize() for frame in response),
    )


def run_once(calls: int) -> float:
    """CPU seconds to relay and read ``calls`` calls on one connection."""
    up, down = Encoder(), Encoder()
    data = [_call(n, up, down) for n in range(calls)]
    done: list[Any] = []
    relay = Relay("127.0.0.1:0", "127.0.0.1:1", lambda *a: None, lambda *r: done.append(r), print)
    connection = Connection(relay, "bench")
    connection.connected(_Socket(), _Socket())  # type: ignore[arg-type]
    connection.received(PREFACE + SettingsFrame(0).serialize(), from_worker=True)
    connection.received(SettingsFrame(0).serialize(), from_worker=False)
    started = time.process_time()
    for request, response in data:
        connection.received(request, from_worker=True)
        connection.received(response, from_worker=False)
    elapsed = time.process_time() - started
    if len(done) != calls:
        raise SystemExit(f"{len(done)} of {calls} completions read")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=20_000, help="calls per run")
    parser.add_argument("--runs", type=int, default=3, help="runs")
    args = parser.parse_args(argv)
    per_call = [1e6 * run_once(args.calls) / args.calls for _ in range(args.runs)]
    median = statistics.median(per_call)
    print(
        f"{args.calls} calls ({FRAMES_PER_CALL} frames, 3 header blocks each), {args.runs} runs: "
        f"{median:.1f} µs CPU per call (runs: {', '.join(f'{v:.1f}' for v in per_call)}), "
        f"{median / FRAMES_PER_CALL:.2f} µs per frame"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
