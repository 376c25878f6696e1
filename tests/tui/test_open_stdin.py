"""``inspector open -``: once the request is read from a pipe, keys come from the terminal."""

from __future__ import annotations

import errno

import pytest

from inspector.cli_open import NoTerminalError, keyboard_from_terminal


class FakeFds:
    """Records what the function does to file descriptors."""

    def __init__(self, *, tty_fd: int | None = 7) -> None:
        self.tty_fd = tty_fd
        self.opened = 0
        self.duped: list[tuple[int, int]] = []
        self.closed: list[int] = []

    def open_terminal(self) -> int:
        self.opened += 1
        if self.tty_fd is None:
            raise OSError(errno.ENXIO, "No such device or address")
        return self.tty_fd

    def dup2(self, fd: int, fd2: int) -> None:
        self.duped.append((fd, fd2))

    def close(self, fd: int) -> None:
        self.closed.append(fd)


def call(source: str, fds: FakeFds, *, stdin_is_tty: bool) -> bool:
    return keyboard_from_terminal(
        source,
        stdin_is_tty=lambda: stdin_is_tty,
        open_terminal=fds.open_terminal,
        dup2=fds.dup2,
        close=fds.close,
    )


def test_a_piped_request_puts_the_terminal_on_fd_0() -> None:
    fds = FakeFds()
    assert call("-", fds, stdin_is_tty=False)
    assert fds.duped == [(7, 0)]
    assert fds.closed == [7]


def test_a_file_request_leaves_stdin_alone() -> None:
    fds = FakeFds()
    assert not call("samples/requests/x.b64", fds, stdin_is_tty=False)
    assert fds.opened == 0 and not fds.duped


def test_stdin_already_a_terminal_is_kept() -> None:
    fds = FakeFds()
    assert not call("-", fds, stdin_is_tty=True)
    assert fds.opened == 0 and not fds.duped


def test_no_terminal_is_one_clear_error() -> None:
    fds = FakeFds(tty_fd=None)
    with pytest.raises(NoTerminalError) as info:
        call("-", fds, stdin_is_tty=False)
    message = str(info.value)
    assert "no terminal" in message and "\n" not in message
    assert not fds.duped


def test_no_terminal_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    import io
    import sys

    from inspector import cli_open
    from inspector.__main__ import main
    from tests.tui.conftest import REQUESTS

    data = (REQUESTS / "activity_chain-turn4.b64").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    def no_tty() -> int:
        raise OSError(errno.ENXIO, "No such device or address")

    monkeypatch.setattr(cli_open, "_open_terminal", no_tty)
    monkeypatch.setattr(cli_open.os, "isatty", lambda fd: False)
    assert main(["open", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inspector: the request came on stdin") and err.count("\n") == 1
