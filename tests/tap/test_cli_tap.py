"""``inspector tap`` at the door: bad options are one line and exit 2, before anything starts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .support import ROOT, free_port


def _tap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", "tap", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ca", "ca.pem"], "inspector: --ca needs --tls"),
        (
            ["--tls", "--ca", "/nonexistent/ca.pem"],
            "inspector: cannot read the CA file /nonexistent/ca.pem: No such file or directory",
        ),
        (["--record", "FILE"], "is not a directory"),
        (["--app", "samples/orchestrations.py"], "inspector: --app needs --ui"),
        (["--tls", "--ca", "FILE"], "inspector: the CA file FILE holds no PEM certificate"),
        (["--listen-cert", "FILE"], "inspector: --listen-cert and --listen-key go together"),
        (
            ["--listen-cert", "FILE", "--listen-key", "FILE"],
            "inspector: the certificate file FILE holds no PEM certificate",
        ),
        (
            ["--listen-cert", "/nonexistent/c.pem", "--listen-key", "FILE"],
            "inspector: cannot read the certificate file /nonexistent/c.pem: No such file",
        ),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    some_file = tmp_path / "file"
    some_file.write_text("x")
    extra = [str(some_file) if arg == "FILE" else arg for arg in extra]
    message = message.replace("FILE", str(some_file))
    result = _tap(f"127.0.0.1:{free_port()}", "--sidecar", "127.0.0.1:1", *extra)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_address_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _tap(f"127.0.0.1:{port}", "--sidecar", "127.0.0.1:1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"inspector: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["127.0.0.1:99999", "--sidecar", "127.0.0.1:1"],
        ["127.0.0.1:5000", "--sidecar", "nowhere"],
        ["127.0.0.1:5000"],
        ["127.0.0.1:5000", "--sidecar", "127.0.0.1:1", "--grace", "nan"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = _tap(*args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("inspector tap: ") and "see 'inspector tap --help'" in lines[0]


def test_help_names_every_option_the_command_takes() -> None:
    import inspector.__main__ as cli

    tap_help = _tap("--help")
    assert tap_help.returncode == 0
    for option in ("--sidecar", "--record", "--grace", "--ui", "--app", "--tls", "--header"):
        assert option in tap_help.stdout, option
    for option in ("--listen-cert", "--listen-key"):
        assert option in tap_help.stdout, option
    top = subprocess.run(
        [sys.executable, "-m", "inspector", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert "tap a transparent proxy between any worker and its sidecar (--ui: live TUI)" in (
        " ".join(top.stdout.split())
    )
    assert cli.__doc__ is not None and "``ui`` (bool" in cli.__doc__
    assert "``app`` (str or None,\n  only with ``ui``)" in cli.__doc__
