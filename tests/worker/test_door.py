"""Options checked at the door: headers gRPC can send, waits the platform can take."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from engine.channel import LONGEST_WAIT, ConnectionOptions, header_problem
from engine.errors import ConnectionConfigError
from inspector.options import header, seconds

BAD_HEADERS = [
    ("x-token=a\nb", "not printable ASCII"),
    ("x-token=caf\u00e9", "not printable ASCII"),
    ("x-token=a\tb", "not printable ASCII"),
    ("x-data-bin=abc", "binary (-bin)"),
    ("grpc-timeout=1", "reserved for gRPC"),
    ("x token=1", "is not lower-case letters"),
    ("x\u00e9=1", "is not lower-case letters"),
]


@pytest.mark.parametrize(("text", "why"), BAD_HEADERS)
def test_a_header_grpc_cannot_send_is_refused_with_why(text: str, why: str) -> None:
    with pytest.raises(
        argparse.ArgumentTypeError, match=why.replace("(", r"\(").replace(")", r"\)")
    ):
        header(text)
    key, _, value = text.partition("=")
    with pytest.raises(ConnectionConfigError):
        ConnectionOptions("127.0.0.1:1", headers=((key.strip().lower(), value),))


def test_valid_headers_pass() -> None:
    assert header("Authorization=Bearer abc.def-1") == ("authorization", "Bearer abc.def-1")
    assert header_problem("x-id_1.v", "") is None


def test_the_worker_says_which_header_is_wrong_and_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "worker", "127.0.0.1:1", "--app", "x"]
        + ["--header", "x-token=a\nb"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "--header" in lines[0] and "'x-token'" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("text", ["2592000", "2147484", "1e300", "inf"])
def test_waits_past_what_poll_can_take_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        seconds(text)


def test_the_longest_wait_is_accepted_and_poll_can_take_it() -> None:
    import select

    assert seconds(str(int(LONGEST_WAIT))) == int(LONGEST_WAIT)
    read, write = os.pipe()
    try:
        os.write(write, b"x")  # readable at once: poll returns without waiting
        poller = select.poll()
        poller.register(read, select.POLLIN)
        assert poller.poll(LONGEST_WAIT * 1000.0)
        with pytest.raises(OverflowError):  # one day more is what killed the slot threads
            poller.poll((LONGEST_WAIT + 86400) * 1000.0)
    finally:
        os.close(read)
        os.close(write)
