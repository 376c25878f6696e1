"""A CA file that cannot be used: one line naming it, exit 2 at once (worker and attach)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from engine.channel import ConnectionOptions, Dialer, read_ca_file
from engine.errors import ConnectionConfigError

DEADLINE = 60.0
"""Generous: the command must end on its own; before the fix it never did."""

COMMANDS = {
    "worker": ["worker", "127.0.0.1:1", "--app", "samples/orchestrations.py"],
    "attach": ["attach", "127.0.0.1:1"],
    "attach --app": ["attach", "127.0.0.1:1", "--app", "samples/orchestrations.py"],
}


def _inspector(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_ca_file_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.pem"
    done = _inspector(*COMMANDS[command], "--tls", "--ca", str(missing))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [f"inspector: cannot read the CA file {missing}: No such file or directory"]


@pytest.mark.parametrize("command", ["worker", "attach"])
def test_a_ca_file_without_a_certificate_is_one_line_and_exit_2(
    command: str, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    done = _inspector(*COMMANDS[command], "--tls", "--ca", str(empty))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"inspector: the CA file {empty} holds no PEM certificate"
    ]


def test_the_dialer_reads_the_ca_file_once_when_it_is_made(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert read_ca_file(str(ca)).startswith(b"-----BEGIN CERTIFICATE-----")
    dialer = Dialer(ConnectionOptions("127.0.0.1:1", tls=True, ca_file=str(ca)))
    ca.unlink()
    dialer.open().close()  # reconnecting never goes back to the file
    with pytest.raises(ConnectionConfigError, match="cannot read the CA file"):
        Dialer(ConnectionOptions("127.0.0.1:1", tls=True, ca_file=str(ca)))
