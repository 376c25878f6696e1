"""The serving worker's cell in the work-item list: a peer as ``HOST:PORT``, cut from the left."""

from __future__ import annotations

import pytest

from inspector.text import peer_cell


@pytest.mark.parametrize(
    ("peer", "width", "cell"),
    [
        ("ipv4:127.0.0.1:36384", 21, "127.0.0.1:36384"),
        ("ipv4:127.0.0.1:36384", 11, "….0.1:36384"),
        ("ipv6:[::1]:41022", 11, "[::1]:41022"),
        ("ipv6:[2001:db8::7]:41022", 12, "…8::7]:41022"),
        ("unix:/tmp/sidecar.sock", 30, "unix:/tmp/sidecar.sock"),
        ("", 21, ""),
        ("ipv4:127.0.0.1:36384", 0, ""),
    ],
)
def test_peer_cell(peer: str, width: int, cell: str) -> None:
    assert peer_cell(peer, width) == cell
    assert len(cell) <= width
