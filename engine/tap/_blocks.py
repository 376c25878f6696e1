"""Header blocks of one direction of a relayed connection, decoded by ``hpack``, the repeats
from a cache.

gRPC peers send the same header blocks over and over, byte for byte (a completion's request
headers, a response's ``:status`` and its trailers, once their fields are in the dynamic table).
A block none of whose representations changes the dynamic table (no literal with incremental
indexing, no table size update) decodes to the same fields every time the table is the same, so
its fields are kept, keyed by its bytes, and the decoder is skipped when it comes again. A block
that changes the table goes through the decoder (every one, in order, so that its table stays
the peer's) and empties the cache, whose blocks may name entries that just moved.
"""

from __future__ import annotations

from hpack import Decoder
from hpack.hpack import decode_integer

_UNLIMITED = 1 << 31
"""The decoder's own limits: each peer enforces the ones it announced, the relay reads what
they accept."""
_CACHED = 256
"""Blocks kept per direction (a gRPC connection repeats a handful)."""

Fields = dict[bytes, bytes]


def changes_table(block: bytes) -> bool:
    """Whether a header block has a representation that changes the dynamic table (RFC 7541,
    section 6: its leading bits name the representation; the prefix integers and string
    lengths are read by ``hpack``)."""
    view = memoryview(block)
    at, end = 0, len(block)
    while at < end:
        first = block[at]
        if first & 0x80:  # indexed field
            at += decode_integer(view[at:], 7)[1]
            continue
        if first & 0x60:  # literal with incremental indexing, or a table size update
            return True
        index, used = decode_integer(view[at:], 4)  # literal, not indexed / never indexed
        at += used
        for _ in range(1 if index else 2):  # the name when not indexed, then the value
            length, used = decode_integer(view[at:], 7)
            at += used + length
    return False


class Blocks:
    """The header blocks of one direction, decoded in order."""

    def __init__(self) -> None:
        self.decoder = Decoder(max_header_list_size=_UNLIMITED)
        self.decoder.max_allowed_table_size = _UNLIMITED
        self.cache: dict[bytes, Fields] = {}
        self.decoded = 0
        """Blocks that went through the decoder (the rest came from the cache)."""

    def fields(self, block: bytes) -> Fields:
        """The fields of a whole header block (name to value, raw bytes; not to be changed).

        Raises:
            hpack.HPACKError: The block cannot be decoded.
        """
        fields = self.cache.get(block)
        if fields is not None:
            return fields
        self.decoded += 1
        fields = dict(self.decoder.decode(block, raw=True))
        if changes_table(block):
            self.cache.clear()
        elif len(self.cache) < _CACHED:
            self.cache[block] = fields
        return fields
