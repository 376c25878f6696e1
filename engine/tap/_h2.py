"""HTTP/2 frames of one relayed connection: relayed whole, read on the way.

:class:`Connection` gets the bytes each side sends, cuts them into frames, reads the header
blocks (through a mirror of each direction's HPACK table) and the DATA frames of the calls the
tap captures, and writes the frames on, unchanged, with the few of the relay's own (on stop)
at frame boundaries. The sockets are :mod:`engine.tap._relay`'s.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc

from engine.tap._forward import COMPLETIONS, WORK_ITEMS
from engine.tap._hpack import Decoder, encode_literal

if TYPE_CHECKING:
    from engine.tap._relay import Relay

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _RST, _PUSH, _WINDOW, _CONTINUATION = 0, 1, 3, 5, 8, 9
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY = 0x1, 0x4, 0x8, 0x20
_CANCEL = 8
_CODES = {code.value[0]: code for code in grpc.StatusCode}


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream)
        + payload
    )


def _unescape(text: str) -> str:
    """``grpc-message`` is percent-encoded."""
    if "%" not in text:
        return text
    raw = text.encode("latin-1")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25 and i + 2 < len(raw):
            try:
                out.append(int(raw[i + 1 : i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(raw[i])
        i += 1
    return out.decode("utf-8", errors="replace")


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
        self.decoder = Decoder()
        self.buffer = bytearray()
        self.preface = preface
        self.block = bytearray()
        self.block_stream = 0
        self.block_flags = 0
        self.in_block = False
        """A header block was written without its end: nothing may be sent in between."""
        self.waiting: list[bytes] = []
        """Frames of the relay's own, sent once the header block being written ends."""
        self.lost = False

    def send(self, frame: bytes) -> None:
        """Write one frame of the relay's own between two whole frames of the peer's (never
        into a direction relayed as raw bytes, where a frame may be cut)."""
        if self.lost:
            return
        if self.in_block:
            self.waiting.append(frame)
        else:
            self.writer.write(frame)


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
                length = int.from_bytes(buffer[pos : pos + 3], "big")
                end = pos + 9 + length
                if end > len(buffer):
                    break
                kind, flags = buffer[pos + 3], buffer[pos + 4]
                stream = int.from_bytes(buffer[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
                keep, after = read(out, kind, flags, stream, buffer, pos + 9, end)
                if not keep:
                    pieces.append(buffer[start:pos])
                    start = end
                if after:
                    pieces.append(buffer[start:end])
                    pieces.extend(after)
                    start = end
                if kind in (_HEADERS, _PUSH, _CONTINUATION) and keep:
                    out.in_block = not flags & _END_HEADERS
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

    def _block(
        self,
        side: _Direction,
        kind: int,
        flags: int,
        stream: int,
        data: bytearray,
        at: int,
        end: int,
    ) -> list[tuple[str, str]] | None:
        """Collect a header block; its fields once it is whole."""
        if kind == _HEADERS:
            if flags & _PADDED:
                end -= data[at]
                at += 1
            if flags & _PRIORITY:
                at += 5
            side.block = bytearray(data[at:end])
            side.block_stream, side.block_flags = stream, flags
        else:
            side.block += data[at:end]
        if not flags & _END_HEADERS:
            return None
        return side.decoder.decode(bytes(side.block))

    @staticmethod
    def _payload(flags: int, data: bytearray, at: int, end: int) -> bytearray:
        if flags & _PADDED:
            end -= data[at]
            at += 1
        return data[at:end]

    # --- frames from the worker ----------------------------------------------------------

    def _from_worker(
        self,
        side: _Direction,
        kind: int,
        flags: int,
        stream: int,
        data: bytearray,
        at: int,
        end: int,
    ) -> tuple[bool, list[bytes]]:
        if kind in (_HEADERS, _CONTINUATION):
            fields = self._block(side, kind, flags, stream, data, at, end)
            if fields is not None and side.block_stream not in self.calls:
                return True, self._opened(side.block_stream, dict(fields))
        elif kind == _DATA:
            call = self.calls.get(stream)
            if call is not None and call.path in COMPLETIONS:
                call.data += self._payload(flags, data, at, end)
        elif kind == _RST:
            call = self.calls.pop(stream, None)
            if call is not None and call.path in COMPLETIONS and not call.ended:
                self._done(call, grpc.StatusCode.CANCELLED, "cancelled by the caller")
        elif kind == _PUSH:
            raise ValueError("a push promise from a client")
        return True, []

    def _opened(self, stream: int, fields: dict[str, str]) -> list[bytes]:
        path = fields.get(":path", "")
        if path != WORK_ITEMS and path not in COMPLETIONS:
            return []
        call = _Call(path, encoding=fields.get("grpc-encoding", ""))
        self.calls[stream] = call
        if path == WORK_ITEMS and self.relay.refuse_streams and not self._raw():
            self._end(stream, call, 14, "the tap is stopping")
            return [frame(_RST, 0, stream, struct.pack(">I", _CANCEL))]
        return []

    def _end(self, stream: int, call: _Call, status: int, message: str) -> None:
        """Answer the worker's call ourselves (trailers) and forget the sidecar's answer."""
        assert self.down is not None
        call.ended = True
        fields = [(":status", "200"), ("content-type", "application/grpc")]
        fields += [("grpc-status", str(status)), ("grpc-message", message)]
        block = encode_literal(fields)
        self.down.send(frame(_HEADERS, _END_STREAM | _END_HEADERS, stream, block))

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
                up.send(frame(_RST, 0, stream, struct.pack(">I", _CANCEL)))

    # --- frames from the sidecar ---------------------------------------------------------

    def _from_sidecar(
        self,
        side: _Direction,
        kind: int,
        flags: int,
        stream: int,
        data: bytearray,
        at: int,
        end: int,
    ) -> tuple[bool, list[bytes]]:
        if kind in (_HEADERS, _CONTINUATION):
            fields = self._block(side, kind, flags, stream, data, at, end)
            call = self.calls.get(side.block_stream)
            if fields is None or call is None:
                return True, []
            if call.ended:  # the worker's stream is closed: a header block it still decodes
                if side.block_flags & _END_STREAM:
                    del self.calls[side.block_stream]
                return True, []
            found = dict(fields)
            if not side.block_flags & _END_STREAM:
                call.response_encoding = found.get("grpc-encoding", "")
                return True, []
            del self.calls[side.block_stream]
            if call.path in COMPLETIONS:
                code = _CODES.get(int(found.get("grpc-status", "2")), grpc.StatusCode.UNKNOWN)
                self._done(call, code, _unescape(found.get("grpc-message", "")))
        elif kind == _DATA:
            call = self.calls.get(stream)
            if call is not None and call.ended:
                assert self.up is not None
                self.up.send(frame(_WINDOW, 0, 0, struct.pack(">I", end - at)))
                return False, []  # the worker's stream is closed: dropped, window given back
            if call is not None and call.path == WORK_ITEMS:
                call.data += self._payload(flags, data, at, end)
                self._items(call)
        elif kind == _RST:
            call = self.calls.pop(stream, None)
            if call is not None and call.ended:
                return False, []
            if call is not None and call.path in COMPLETIONS:
                self._done(call, grpc.StatusCode.CANCELLED, "reset by the sidecar")
        elif kind == _PUSH:
            raise ValueError("a push promise from the sidecar")
        return True, []

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
