"""Helpers for the tap tests: free ports, sidecars, the ``inspector tap`` process."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from durabletask.testing import InMemoryOrchestrationBackend

ROOT = Path(__file__).resolve().parents[2]
QUIET = logging.getLogger("tests.tap.quiet")
QUIET.setLevel(logging.CRITICAL)
QUIET.propagate = False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def sidecar(
    backend_class: type[InMemoryOrchestrationBackend] = InMemoryOrchestrationBackend,
) -> Iterator[tuple[InMemoryOrchestrationBackend, int]]:
    """The SDK's in-memory sidecar on a free port, stopped on exit."""
    port = free_port()
    backend = backend_class(port=port)
    backend.start()
    try:
        yield backend, port
    finally:
        backend.stop(grace=0)


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class TapProcess:
    """``inspector tap`` as a subprocess; its stderr goes to a file."""

    def __init__(self, port: int, sidecar_port: int, *extra: str, log: Path) -> None:
        self.port = port
        self.log_path = log
        self._log: IO[bytes] = open(log, "wb")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inspector",
                "tap",
                f"127.0.0.1:{port}",
                "--sidecar",
                f"127.0.0.1:{sidecar_port}",
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.wait_for("tap: listening on")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def lines(self) -> list[str]:
        """The work-item lines (not the ``tap:`` notices)."""
        return [line for line in self.output().splitlines() if " via " in line]

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(f"tap exited ({self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the tap log:\n{self.output()}")
            time.sleep(0.05)

    def terminate(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def show_every_recorded_file(folder: Path, capsys: Any) -> dict[str, int]:
    """Run ``inspector show --json`` on every file in ``folder``; how many of each kind.

    Each must be read (exit 0) as the kind its name says (the names of docs/worker.md).
    """
    import json

    from inspector.__main__ import main

    def kind_of(name: str) -> str:
        if name.endswith(".abandoned"):
            return "abandonNote"
        activity = "-activity-" in name
        if name.endswith(".response.b64"):
            return "activityResponse" if activity else "orchestratorResponse"
        return "activityRequest" if activity else "orchestratorRequest"

    kinds: dict[str, int] = {}
    for path in sorted(folder.iterdir()):
        capsys.readouterr()
        assert main(["show", str(path), "--json"]) == 0, path.name
        kind = json.loads(capsys.readouterr().out)["kind"]
        assert kind == kind_of(path.name), path.name
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds
