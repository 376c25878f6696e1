"""The relay's header blocks: the repeats from a cache, never a stale answer.

The blocks are written by ``hpack``'s encoder, as a peer writes them; every answer must be the
one ``hpack``'s decoder gives when fed every block in order.
"""

from __future__ import annotations

from hpack import Decoder, Encoder, NeverIndexedHeaderTuple

from engine.tap._blocks import Blocks, changes_table


def _same_as_the_decoder(blocks: list[bytes]) -> Blocks:
    ours, reference = Blocks(), Decoder()
    for block in blocks:
        assert ours.fields(block) == dict(reference.decode(block, raw=True)), block
    return ours


def test_the_same_bytes_naming_entries_that_moved_are_decoded_again() -> None:
    encoder = Encoder()
    blocks = [
        encoder.encode([("x-a", "1")]),  # added to the table: index 62
        encoder.encode([("x-a", "1")]),  # index 62
        encoder.encode([("x-b", "2")]),  # added: index 62 is x-b now
        encoder.encode([("x-b", "2")]),  # index 62, the same byte as before
        encoder.encode([("x-b", "2")]),
    ]
    assert blocks[1] == blocks[3] == blocks[4] == b"\xbe"
    ours = _same_as_the_decoder(blocks)
    assert ours.decoded == 4  # the last came from the cache


def test_repeated_blocks_skip_the_decoder() -> None:
    up = Encoder()
    headers = [(":method", "POST"), (":path", "/TaskHubSidecarService/CompleteActivityTask")]
    headers += [("content-type", "application/grpc"), ("te", "trailers")]
    blocks = [up.encode(headers) for _ in range(100)]
    assert len(set(blocks[1:])) == 1
    ours = _same_as_the_decoder(blocks)
    assert ours.decoded == 2


def test_what_changes_the_table() -> None:
    encoder = Encoder()
    added = encoder.encode([("x-new", "v")])
    indexed = encoder.encode([("x-new", "v"), (":method", "GET")])
    plain = encoder.encode([NeverIndexedHeaderTuple("x-secret", "s" * 300)])
    literal = encoder.encode([("x-other", "w")], huffman=False)  # added too
    encoder.header_table_size = 100
    resized = encoder.encode([(":method", "GET")])
    assert [changes_table(b) for b in (added, indexed, plain, literal, resized)] == [
        True,
        False,
        False,
        True,
        True,
    ]
    _same_as_the_decoder([added, indexed, plain, literal, resized])


def test_a_block_never_indexed_with_an_indexed_name_is_cached() -> None:
    encoder = Encoder()
    fields = [NeverIndexedHeaderTuple(":path", "/x"), NeverIndexedHeaderTuple("x-n", "1")]
    block = encoder.encode(fields)
    assert not changes_table(block)
    ours = _same_as_the_decoder([block, block, block])
    assert ours.decoded == 1
