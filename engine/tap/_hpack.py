"""HPACK (RFC 7541), as much as a passive reader of HTTP/2 header blocks needs.

:class:`Decoder` mirrors one direction's dynamic table so that a relay can read the header
blocks going by (the ``:path`` of a call, the ``grpc-status`` of its trailers) without changing
a byte of them; :func:`encode_literal` writes a block that leaves every dynamic table as it was
(each field a literal "without indexing"), for the frames the relay sends itself.
"""

from __future__ import annotations

from collections import deque

_STATIC: tuple[tuple[str, str], ...] = tuple(
    (name, value)
    for name, _, value in (
        line.partition(" ")
        for line in (
            ":authority|:method GET|:method POST|:path /|:path /index.html|:scheme http|"
            ":scheme https|:status 200|:status 204|:status 206|:status 304|:status 400|"
            ":status 404|:status 500|accept-charset|accept-encoding gzip, deflate|"
            "accept-language|accept-ranges|accept|access-control-allow-origin|age|allow|"
            "authorization|cache-control|content-disposition|content-encoding|"
            "content-language|content-length|content-location|content-range|content-type|"
            "cookie|date|etag|expect|expires|from|host|if-match|if-modified-since|"
            "if-none-match|if-range|if-unmodified-since|last-modified|link|location|"
            "max-forwards|proxy-authenticate|proxy-authorization|range|referer|refresh|"
            "retry-after|server|set-cookie|strict-transport-security|transfer-encoding|"
            "user-agent|vary|via|www-authenticate"
        ).split("|")
    )
)
"""The static table (RFC 7541 appendix A), index 1 first."""

# The Huffman code's length in bits for each symbol 0-255 and EOS (RFC 7541 appendix B), as
# characters from "0"; the code is canonical, so the lengths alone give every code.
_LENGTHS = (
    "=GLLLLLLLHNLLNLLLLLLLLNLLLLLLLLL6::<=68;::8;8666555666666678?6<:=677777777777777777777"
    "77878=C=>6?56565666577666567655677777?;>=LDFDDFFFGFGGGGGHGHHFGHGGGGEFGFGGHFEDFFGGEGFF"
    "HEFGGEEFEGFGGDFFFGFFGJJDCFGFIJJJKKJHICEJKKJKHEEJJLKKKDHDEFEEGFFIIHHJGJKJJKKKKKLKKKKKJN"
)
_EOS = 256


def _canonical() -> tuple[dict[int, int], dict[int, int], list[int]]:
    """For each length: its first code and how many codes; and the symbols in code order."""
    lengths = [ord(c) - ord("0") for c in _LENGTHS]
    order = sorted(range(len(lengths)), key=lambda s: (lengths[s], s))
    first: dict[int, int] = {}
    count: dict[int, int] = {}
    code, previous = 0, lengths[order[0]]
    for symbol in order:
        length = lengths[symbol]
        code <<= length - previous
        previous = length
        first.setdefault(length, code)
        count[length] = count.get(length, 0) + 1
        code += 1
    return first, count, order


_FIRST, _COUNT, _SYMBOLS = _canonical()
_OFFSET: dict[int, int] = {}
_seen = 0
for _length in sorted(_COUNT):
    _OFFSET[_length] = _seen
    _seen += _COUNT[_length]


class HpackError(ValueError):
    """A header block that does not decode."""


def huffman_decode(data: bytes) -> bytes:
    """The bytes a Huffman-coded string stands for.

    Raises:
        HpackError: The code is cut, holds EOS, or pads with more than 7 bits or zeros.
    """
    out = bytearray()
    code = length = 0
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            length += 1
            index = code - _FIRST.get(length, 1 << 31)
            if 0 <= index < _COUNT.get(length, 0):
                symbol = _SYMBOLS[_OFFSET[length] + index]
                if symbol == _EOS:
                    raise HpackError("EOS in a Huffman string")
                out.append(symbol)
                code = length = 0
    if length > 7 or code != (1 << length) - 1:
        raise HpackError("bad Huffman padding")
    return bytes(out)


def _integer(data: bytes, pos: int, prefix: int) -> tuple[int, int]:
    mask = (1 << prefix) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise HpackError("cut or oversized integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _string(data: bytes, pos: int) -> tuple[str, int]:
    if pos >= len(data):
        raise HpackError("cut string")
    huffman = data[pos] & 0x80
    length, pos = _integer(data, pos, 7)
    end = pos + length
    if end > len(data):
        raise HpackError("cut string")
    raw = bytes(data[pos:end])
    return (huffman_decode(raw) if huffman else raw).decode("latin-1"), end


class Decoder:
    """The header blocks of one direction of one connection, read in order."""

    def __init__(self, max_size: int = 4096) -> None:
        self._table: deque[tuple[str, str]] = deque()
        self._size = 0
        self._max = max_size

    def decode(self, block: bytes) -> list[tuple[str, str]]:
        """The fields of a whole header block (the dynamic table updated as the peer's is).

        Raises:
            HpackError: The block does not decode against the table read so far.
        """
        fields: list[tuple[str, str]] = []
        pos = 0
        try:
            while pos < len(block):
                first = block[pos]
                if first & 0x80:
                    index, pos = _integer(block, pos, 7)
                    fields.append(self._entry(index))
                    continue
                if first & 0xE0 == 0x20:
                    self._max, pos = _integer(block, pos, 5)
                    self._evict(0)
                    continue
                index, pos = _integer(block, pos, 6 if first & 0x40 else 4)
                if index:
                    name = self._entry(index)[0]
                else:
                    name, pos = _string(block, pos)
                value, pos = _string(block, pos)
                fields.append((name, value))
                if first & 0x40:
                    self._add(name, value)
        except IndexError:
            raise HpackError("cut header block") from None
        return fields

    def _entry(self, index: int) -> tuple[str, str]:
        if 1 <= index <= len(_STATIC):
            return _STATIC[index - 1]
        dynamic = index - len(_STATIC) - 1
        if index < 1 or dynamic >= len(self._table):
            raise HpackError(f"no header table entry {index}")
        return self._table[dynamic]

    def _add(self, name: str, value: str) -> None:
        size = len(name) + len(value) + 32
        self._evict(size)
        if size <= self._max:
            self._table.appendleft((name, value))
            self._size += size

    def _evict(self, room: int) -> None:
        while self._table and self._size + room > self._max:
            old_name, old_value = self._table.pop()
            self._size -= len(old_name) + len(old_value) + 32


def _encode_integer(value: int, prefix: int, flags: int = 0) -> bytes:
    mask = (1 << prefix) - 1
    if value < mask:
        return bytes([flags | value])
    out = bytearray([flags | mask])
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_literal(fields: list[tuple[str, str]]) -> bytes:
    """A header block of literal fields "without indexing" (no table changes either side)."""
    out = bytearray()
    for name, value in fields:
        out.append(0)
        for text in (name, value):
            raw = text.encode("latin-1")
            out += _encode_integer(len(raw), 7) + raw
    return bytes(out)
