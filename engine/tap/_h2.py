"""HTTP/2 frames of one relayed connection: relayed as they come, read on the side.

:class:`Connection` gets the bytes each side sends and writes them on to the other side at once,
unchanged; then it reads them: it cuts them into frames (the 9-byte frame header, RFC 9113
section 4.1; the bodies that must be read, padding and priority, by ``hyperframe``), reads the
header blocks (one decoder per direction, fed every block in order, so that its dynamic table
stays the peer's: :mod:`engine.tap._blocks`) and the DATA frames of the calls the tap captures.
It keeps track of where the frames end, so that the few frames of the relay's own (on stop) go
in at a frame boundary, never into a header block; while it has frames of its own to send, or
frames to drop, a direction is written frame by frame instead. The sockets are
:mod:`engine.tap._relay`'s.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

import grpc
from hpack import Encoder, NeverIndexedHeaderTuple
from hyperframe.frame import DataFrame, Frame, HeadersFrame, RstStreamFrame, WindowUpdateFrame

from engine.tap._blocks import Blocks, Fields
from engine.tap._forward import COMPLETIONS, WORK_ITEMS

if TYPE_CHECKING:
    from engine.tap._relay import Relay

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_CANCEL = 8
_CODES = {code.value[0]: code for code in grpc.StatusCode}
_HEADER = struct.Struct(">HBBBL")
"""A frame header: its length in 24 bits, type, flags, stream (RFC 9113, section 4.1)."""
_DATA, _HEADERS, _RST, _PUSH, _CONTINUATION = 0x0, 0x1, 0x3, 0x5, 0x9
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY = 0x1, 0x4, 0x8, 0x20
_BLOCKS = (_HEADERS, _PUSH, _CONTINUATION)


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


def _text(fields: Fields, name: bytes, default: str = "") -> str:
    value = fields.get(name)
    return default if value is None else value.decode("latin-1")


def _payload(kind: int, flags: int, stream: int, body: bytes | bytearray) -> bytes | bytearray:
    """What a DATA or HEADERS frame carries (its padding and priority left out, by
    ``hyperframe``, when it has them)."""
    if not flags & (_PADDED | _PRIORITY):
        return body
    frame = DataFrame(stream) if kind == _DATA else HeadersFrame(stream)
    frame.parse_flags(flags)
    frame.parse_body(memoryview(body))
    data: bytes = frame.data
    return data


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


_PASSING = _Call("")
"""A call the tap does not capture (every one alike: nothing of it is kept)."""


class _Direction:
    """One direction of a relayed connection: its frames, its header blocks, its writer."""

    def __init__(self, writer: asyncio.Transport, preface: int) -> None:
        self.writer = writer
        self.blocks = Blocks()
        self.buffer = bytearray()
        """Bytes from the last frame boundary read on."""
        self.sent = 0
        """How many of :attr:`buffer` were written on already."""
        self.preface = preface
        self.block = bytearray()
        self.block_stream = 0
        self.block_ends_stream = False
        self.in_block = False
        """A header block was written without its end: nothing may be sent in between."""
        self.reading = False
        self.waiting: list[bytes] = []
        """Frames of the relay's own, sent at the next frame boundary outside a header block."""
        self.dropping = False
        """Some frames may be dropped: written frame by frame, once read."""
        self.lost = False

    def send(self, frame: Frame) -> None:
        """Write one frame of the relay's own between two whole frames of the peer's (never
        into a direction relayed as raw bytes, where frames are no longer followed)."""
        if self.lost:
            return
        if self.reading or self.in_block or self.sent:
            self.waiting.append(frame.serialize())
        else:
            self.writer.write(frame.serialize())

    def block_read(
        self, kind: int, flags: int, stream: int, body: bytes | bytearray
    ) -> Fields | None:
        """Collect a header block; its fields once whole."""
        if kind == _HEADERS:
            self.block_stream = stream
            self.block_ends_stream = bool(flags & _END_STREAM)
            if flags & _END_HEADERS:  # the whole block in one frame
                return self.blocks.fields(bytes(_payload(kind, flags, stream, body)))
            self.block = bytearray(_payload(kind, flags, stream, body))
            return None
        if stream != self.block_stream:
            raise ValueError(f"a CONTINUATION of stream {stream} in another's block")
        self.block += body
        if not flags & _END_HEADERS:
            return None
        return self.blocks.fields(bytes(self.block))


_Reader = Callable[[_Direction, int, int, int, "bytes | bytearray", int, int, bool], bool]
"""Reads one frame: its type, flags and stream, the bytes its body is in (from, to), whether
it was written already; whether to relay it (a frame written already is relayed whole)."""


class Connection:
    """One worker's connection and the tap's own to the sidecar, relayed and read."""

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
            return
        if not (out.waiting or out.dropping):
            out.writer.write(data)  # on at once; read below
            out.sent += len(data)
        self._read(out, data, self._from_worker if from_worker else self._from_sidecar)

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

    def _read(self, out: _Direction, data: bytes, read: _Reader) -> None:
        """Read the whole frames that came; write the ones not written yet."""
        if out.buffer:
            out.buffer += data
            buffer: bytes | bytearray = out.buffer
        else:
            buffer = data  # no copy when the bytes start at a frame boundary
        size = len(buffer)
        pieces: list[bytes] = []
        pos, sent = 0, out.sent
        out.reading = True
        try:
            if out.preface:
                pos = min(out.preface, size)
                out.preface -= pos
                sent = max(sent, pos)
                if out.sent < pos:
                    pieces.append(bytes(buffer[out.sent : pos]))
            while size - pos >= 9:
                high, low, kind, flags, stream = _HEADER.unpack_from(buffer, pos)
                end = pos + 9 + (high << 8 | low)
                if end > size:
                    break
                stream &= 0x7FFFFFFF
                keep = read(out, kind, flags, stream, buffer, pos + 9, end, sent > pos)
                if sent < end:  # not written yet, all of it or its end
                    if keep or sent > pos:
                        pieces.append(bytes(buffer[max(sent, pos) : end]))
                    sent = end
                if kind in _BLOCKS:
                    out.in_block = not flags & _END_HEADERS
                pos = end
                if out.waiting and sent == pos and not out.in_block:
                    pieces += out.waiting
                    out.waiting.clear()
        except Exception as err:  # noqa: BLE001 - reading may fail, relaying must not
            out.lost = True
            out.waiting.clear()
            self.relay.log(
                f"cannot read the frames from {self.peer} ({err}): relayed, no longer captured"
            )
            pieces.append(bytes(buffer[sent:]))
            sent = pos = size
        finally:
            out.reading = False
        if buffer is data:
            out.buffer = bytearray(data[pos:])
        else:
            del out.buffer[:pos]
        out.sent = sent - pos
        if pieces:
            out.writer.writelines(pieces)

    # --- frames from the worker ----------------------------------------------------------

    def _from_worker(
        self,
        side: _Direction,
        kind: int,
        flags: int,
        stream: int,
        data: bytes | bytearray,
        at: int,
        end: int,
        written: bool,
    ) -> bool:
        if kind == _DATA:
            call = self.calls.get(stream)
            if call is not None and call.path in COMPLETIONS:
                call.data += _payload(kind, flags, stream, data[at:end])
        elif kind == _HEADERS or kind == _CONTINUATION:
            fields = side.block_read(kind, flags, stream, data[at:end])
            if fields is not None and side.block_stream not in self.calls:
                self._opened(side.block_stream, fields)
        elif kind == _RST:
            call = self.calls.pop(stream, None)
            if call is not None and call.path in COMPLETIONS and not call.ended:
                self._done(call, grpc.StatusCode.CANCELLED, "cancelled by the caller")
        elif kind == _PUSH:
            raise ValueError("a push promise from a client")
        return True

    def _opened(self, stream: int, fields: Fields) -> None:
        path = _text(fields, b":path")
        if path != WORK_ITEMS and path not in COMPLETIONS:
            self.calls[stream] = _PASSING  # followed only until it is answered
            return
        call = _Call(path, encoding=_text(fields, b"grpc-encoding"))
        self.calls[stream] = call
        if path == WORK_ITEMS and self.relay.refuse_streams and not self._raw():
            assert self.up is not None
            self._end(stream, call, 14, "the tap is stopping")
            self.up.send(RstStreamFrame(stream, error_code=_CANCEL))

    def _end(self, stream: int, call: _Call, status: int, message: str) -> None:
        """Answer the worker's call ourselves (trailers) and forget the sidecar's answer."""
        assert self.down is not None
        call.ended = True
        self.down.dropping = True
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

    def in_flight(self) -> int:
        """Calls whose answer is still to be relayed to the worker (the ``GetWorkItems``
        calls the relay ended are not counted, nor the calls of a connection whose frames
        could not be read: that is not known there)."""
        if self._raw():
            return 0
        return sum(not call.ended for call in self.calls.values())

    # --- frames from the sidecar ---------------------------------------------------------

    def _from_sidecar(
        self,
        side: _Direction,
        kind: int,
        flags: int,
        stream: int,
        data: bytes | bytearray,
        at: int,
        end: int,
        written: bool,
    ) -> bool:
        if kind == _DATA:
            call = self.calls.get(stream)
            if call is None:
                return True
            if call.ended and not written:
                assert self.up is not None
                if end > at:
                    self.up.send(WindowUpdateFrame(0, window_increment=end - at))
                if flags & _END_STREAM:
                    del self.calls[stream]
                return False  # the worker's stream is closed: dropped, window given back
            if call.path == WORK_ITEMS:
                call.data += _payload(kind, flags, stream, data[at:end])
                self._items(call)
            if flags & _END_STREAM:  # an answer with no trailers (not gRPC's way)
                self._answered(stream, {})
        elif kind == _HEADERS or kind == _CONTINUATION:
            fields = side.block_read(kind, flags, stream, data[at:end])
            if fields is not None:
                self._answered(side.block_stream, fields, side.block_ends_stream)
        elif kind == _RST:
            call = self.calls.pop(stream, None)
            if call is not None and call.ended:
                return written
            if call is not None and call.path in COMPLETIONS:
                self._done(call, grpc.StatusCode.CANCELLED, "reset by the sidecar")
        elif kind == _PUSH:
            raise ValueError("a push promise from the sidecar")
        return True

    def _answered(self, stream: int, fields: Fields, ends: bool = True) -> None:
        """A response's headers, or its end (its trailers)."""
        call = self.calls.get(stream)
        if call is None:
            return
        if call.ended:  # the worker's stream is closed: a header block it still decodes
            if ends:
                del self.calls[stream]
            return
        if not ends:
            if call.path == WORK_ITEMS:
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
