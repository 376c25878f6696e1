"""HTTP/2 frames of one relayed connection: relayed whole, read on the way.

:class:`Connection` gets the bytes each side sends, cuts them into frames (their headers, flags,
padding and priority read by ``hyperframe``), reads the header blocks (one ``hpack`` decoder per
direction, fed every block in order, so that its dynamic table stays the peer's) and the DATA
frames of the calls the tap captures, and writes the frames on, unchanged, with the few of the
relay's own (on stop) at frame boundaries. The sockets are :mod:`engine.tap._relay`'s.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

import grpc
from hpack import Decoder, Encoder, NeverIndexedHeaderTuple
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    HeadersFrame,
    PushPromiseFrame,
    RstStreamFrame,
    WindowUpdateFrame,
)

from engine.tap._forward import COMPLETIONS, WORK_ITEMS

if TYPE_CHECKING:
    from engine.tap._relay import Relay

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_CANCEL = 8
_CODES = {code.value[0]: code for code in grpc.StatusCode}
_UNLIMITED = 1 << 31
"""The readers' own limits: each peer enforces the ones it announced, the relay reads what
they accept."""
_BLOCKS = (HeadersFrame, PushPromiseFrame, ContinuationFrame)


def _decoder() -> Decoder:
    decoder = Decoder(max_header_list_size=_UNLIMITED)
    decoder.max_allowed_table_size = _UNLIMITED
    return decoder


def _trailers(fields: list[tuple[str, str]]) -> bytes:
    """A header block of fields never indexed: no table changes on either side."""
    return Encoder().encode([NeverIndexedHeaderTuple(name, value) for name, value in fields])


def _first_message(data: bytes | bytearray, encoding: str) -> bytes | None:
    """The first whole gRPC message in ``data`` (None: not all there yet)."""
    if len(data) < 5:
        return None
    length = int.from_bytes(data[1:5], "big")
    if len(data) < 5 + length:
        return None
    body = bytes(data[5 : 5 + length])
    if data[0] & 1:
        wbits = {"gzip": 31, "deflate": 15}.get(encoding)
        if wbits is None:
            raise ValueError(f"a message compressed with {encoding or 'no encoding'!r}")
        body = zlib.decompress(body, wbits)
    return body


def _text(fields: dict[bytes, bytes], name: bytes, default: str = "") -> str:
    value = fields.get(name)
    return default if value is None else value.decode("latin-1")


@dataclass
class _Call:
    path: str
    encoding: str = ""
    """The request's ``grpc-encoding``."""
    response_encoding: str = ""
    data: bytearray = field(default_factory=bytearray)
    """Request bytes (a completion) or response bytes not yet read (``GetWorkItems``)."""
    ended: bool = False
    """Ended by the relay itself: what the sidecar still sends for it is dropped."""


class _Direction:
    """One direction of a relayed connection: its frames, its header table, its writer."""

    def __init__(self, writer: asyncio.Transport, preface: int) -> None:
        self.writer = writer
        self.decoder = _decoder()
        self.buffer = bytearray()
        self.preface = preface
        self.block = bytearray()
        self.block_stream = 0
        self.block_ends_stream = False
        self.in_block = False
        """A header block was written without its end: nothing may be sent in between."""
        self.waiting: list[bytes] = []
        """Frames of the relay's own, sent once the header block being written ends."""
        self.lost = False

    def send(self, frame: Frame) -> None:
        """Write one frame of the relay's own between two whole frames of the peer's (never
        into a direction relayed as raw bytes, where a frame may be cut)."""
        if self.lost:
            return
        if self.in_block:
            self.waiting.append(frame.serialize())
        else:
            self.writer.write(frame.serialize())

    def block_read(self, frame: HeadersFrame | ContinuationFrame) -> dict[bytes, bytes] | None:
        """Collect a header block (its padding and priority left out); its fields once whole."""
        if isinstance(frame, HeadersFrame):
            self.block = bytearray(frame.data)
            self.block_stream = frame.stream_id
            self.block_ends_stream = "END_STREAM" in frame.flags
        elif frame.stream_id != self.block_stream:
            raise ValueError(f"a CONTINUATION of stream {frame.stream_id} in another's block")
        else:
            self.block += frame.data
        if "END_HEADERS" not in frame.flags:
            return None
        return dict(self.decoder.decode(bytes(self.block), raw=True))


_Read = tuple[bool, list[Frame]]
"""Whether to relay the frame just read, and the relay's own frames to send after it."""


class Connection:
    """One worker's connection and the tap's own to the sidecar, frame for frame."""

    def __init__(self, relay: Relay, peer: str) -> None:
        self.relay = relay
        self.peer = peer
        self.calls: dict[int, _Call] = {}
        self.up: _Direction | None = None  # towards the sidecar
        self.down: _Direction | None = None  # towards the worker
        self.early: list[tuple[bytes, bool]] = []

    def connected(self, worker: asyncio.Transport, sidecar: asyncio.Transport) -> None:
        """Both sockets are open: relay from here on."""
        self.up, self.down = _Direction(sidecar, len(PREFACE)), _Direction(worker, 0)
        self.relay.connections.add(self)
        early, self.early = self.early, []
        for data, from_worker in early:  # bytes that came before both sockets were open
            self.received(data, from_worker)

    def received(self, data: bytes, from_worker: bool) -> None:
        """Bytes from one side, for the other."""
        out = self.up if from_worker else self.down
        if out is None:
            self.early.append((data, from_worker))
            return
        if out.writer.is_closing():
            return
        if out.lost:
            out.writer.write(data)
        else:
            self._relay(data, out, self._from_worker if from_worker else self._from_sidecar)

    def closed(self) -> None:
        """One side closed: close the other, and tell what was in flight."""
        self.close()
        if self not in self.relay.connections:
            return
        self.relay.connections.discard(self)
        for call in self.calls.values():
            if call.path in COMPLETIONS and not call.ended:
                self._done(call, grpc.StatusCode.UNAVAILABLE, "the connection closed")
        self.calls.clear()

    def close(self) -> None:
        """Close both sides."""
        for side in (self.up, self.down):
            if side is not None and not side.writer.is_closing():
                side.writer.close()

    def _relay(self, chunk: bytes, out: _Direction, read: Any) -> None:
        buffer = out.buffer
        buffer += chunk
        pieces: list[bytes | bytearray] = []
        start = pos = 0
        if out.preface:
            pos = min(out.preface, len(buffer))
            out.preface -= pos
        try:
            while len(buffer) - pos >= 9 and not out.preface:
                frame, length = Frame.parse_frame_header(memoryview(buffer[pos : pos + 9]))
                end = pos + 9 + length
                if end > len(buffer):
                    break
                keep, after = read(out, frame, buffer, pos + 9, end)
                if not keep:
                    pieces.append(buffer[start:pos])
                    start = end
                if after:
                    pieces.append(buffer[start:end])
                    pieces.extend(own.serialize() for own in after)
                    start = end
                if keep and isinstance(frame, _BLOCKS):
                    out.in_block = "END_HEADERS" not in frame.flags
                pos = end
        except Exception as err:  # noqa: BLE001 - reading may fail, relaying must not
            out.lost = True
            self.relay.log(
                f"cannot read the frames from {self.peer} ({err}): relayed, no longer captured"
            )
            pos = len(buffer)
        pieces.append(buffer[start:pos])
        del buffer[:pos]
        out.writer.writelines(p for p in pieces if p)
        if out.waiting and not out.in_block:
            out.writer.writelines(out.waiting)
            out.waiting.clear()

    @staticmethod
    def _body(frame: Frame, data: bytearray, at: int, end: int) -> None:
        """Read the frame's body (a copy: the buffer stays free to shrink)."""
        frame.parse_body(memoryview(data[at:end]))

    # --- frames from the worker ----------------------------------------------------------

    def _from_worker(
        self, side: _Direction, frame: Frame, data: bytearray, at: int, end: int
    ) -> _Read:
        if isinstance(frame, HeadersFrame | ContinuationFrame):
            self._body(frame, data, at, end)
            fields = side.block_read(frame)
            if fields is not None and side.block_stream not in self.calls:
                return True, self._opened(side.block_stream, fields)
        elif isinstance(frame, DataFrame):
            call = self.calls.get(frame.stream_id)
            if call is not None and call.path in COMPLETIONS:
                self._body(frame, data, at, end)
                call.data += frame.data
        elif isinstance(frame, RstStreamFrame):
            call = self.calls.pop(frame.stream_id, None)
            if call is not None and call.path in COMPLETIONS and not call.ended:
                self._done(call, grpc.StatusCode.CANCELLED, "cancelled by the caller")
        elif isinstance(frame, PushPromiseFrame):
            raise ValueError("a push promise from a client")
        return True, []

    def _opened(self, stream: int, fields: dict[bytes, bytes]) -> list[Frame]:
        path = _text(fields, b":path")
        if path != WORK_ITEMS and path not in COMPLETIONS:
            return []
        call = _Call(path, encoding=_text(fields, b"grpc-encoding"))
        self.calls[stream] = call
        if path == WORK_ITEMS and self.relay.refuse_streams and not self._raw():
            self._end(stream, call, 14, "the tap is stopping")
            return [RstStreamFrame(stream, error_code=_CANCEL)]
        return []

    def _end(self, stream: int, call: _Call, status: int, message: str) -> None:
        """Answer the worker's call ourselves (trailers) and forget the sidecar's answer."""
        assert self.down is not None
        call.ended = True
        fields = [(":status", "200"), ("content-type", "application/grpc")]
        fields += [("grpc-status", str(status)), ("grpc-message", message)]
        trailers = HeadersFrame(stream, _trailers(fields), flags=("END_STREAM", "END_HEADERS"))
        self.down.send(trailers)

    def _raw(self) -> bool:
        """Whether a direction is relayed as raw bytes (the relay can add no frame there)."""
        return self.up is None or self.down is None or self.up.lost or self.down.lost

    def end_streams(self) -> None:
        """End every ``GetWorkItems`` call: status OK to the worker, reset to the sidecar."""
        up = self.up
        if up is None or self._raw():
            return
        for stream, call in list(self.calls.items()):
            if call.path == WORK_ITEMS and not call.ended:
                self._end(stream, call, 0, "")
                up.send(RstStreamFrame(stream, error_code=_CANCEL))

    # --- frames from the sidecar ---------------------------------------------------------

    def _from_sidecar(
        self, side: _Direction, frame: Frame, data: bytearray, at: int, end: int
    ) -> _Read:
        if isinstance(frame, HeadersFrame | ContinuationFrame):
            self._body(frame, data, at, end)
            fields = side.block_read(frame)
            if fields is not None:
                self._answered(side, fields)
        elif isinstance(frame, DataFrame):
            call = self.calls.get(frame.stream_id)
            if call is not None and call.ended:
                assert self.up is not None
                if end > at:
                    self.up.send(WindowUpdateFrame(0, window_increment=end - at))
                return False, []  # the worker's stream is closed: dropped, window given back
            if call is not None and call.path == WORK_ITEMS:
                self._body(frame, data, at, end)
                call.data += frame.data
                self._items(call)
        elif isinstance(frame, RstStreamFrame):
            call = self.calls.pop(frame.stream_id, None)
            if call is not None and call.ended:
                return False, []
            if call is not None and call.path in COMPLETIONS:
                self._done(call, grpc.StatusCode.CANCELLED, "reset by the sidecar")
        elif isinstance(frame, PushPromiseFrame):
            raise ValueError("a push promise from the sidecar")
        return True, []

    def _answered(self, side: _Direction, fields: dict[bytes, bytes]) -> None:
        """A whole header block from the sidecar: a response's headers or its trailers."""
        stream = side.block_stream
        call = self.calls.get(stream)
        if call is None:
            return
        if call.ended:  # the worker's stream is closed: a header block it still decodes
            if side.block_ends_stream:
                del self.calls[stream]
            return
        if not side.block_ends_stream:
            call.response_encoding = _text(fields, b"grpc-encoding")
            return
        del self.calls[stream]
        if call.path in COMPLETIONS:
            code = _CODES.get(int(_text(fields, b"grpc-status", "2")), grpc.StatusCode.UNKNOWN)
            message = unquote_to_bytes(fields.get(b"grpc-message", b"")).decode("utf-8", "replace")
            self._done(call, code, message)

    def _items(self, call: _Call) -> None:
        while True:
            message = _first_message(call.data, call.response_encoding)
            if message is None:
                return
            del call.data[: 5 + int.from_bytes(call.data[1:5], "big")]
            self.relay.on_item(message, self.peer)

    def _done(self, call: _Call, code: grpc.StatusCode, details: str) -> None:
        request = _first_message(call.data, call.encoding) or b""
        self.relay.on_completion(call.path, request, code, details, self.peer)
