"""Helpers for the entity worker tests (a copy of the worker tests' helpers, no fixtures)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_APP = str(Path(__file__).resolve().parent / "fixtures" / "worker_app.py")

QUIET = logging.getLogger("tests.worker.quiet")
QUIET.setLevel(logging.CRITICAL)
QUIET.propagate = False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sidecar(port: int | None = None) -> tuple[InMemoryOrchestrationBackend, int]:
    port = port or free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    return backend, port


class WorkerProcess:
    """``inspector worker`` as a subprocess; its stderr goes to a file."""

    def __init__(self, address: str, app: str, *extra: str, log: Path) -> None:
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "worker", address, "--app", app, *extra],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the worker log:\n{self.output()}")
            time.sleep(0.05)

    def wait_for_count(self, text: str, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} {text!r} in the log:\n{self.output()}")
            time.sleep(0.05)

    def terminate(self, timeout: float = 30.0) -> int:
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


@pytest.fixture
def sidecar() -> Iterator[tuple[InMemoryOrchestrationBackend, int]]:
    backend, port = start_sidecar()
    try:
        yield backend, port
    finally:
        backend.stop(grace=0)


@pytest.fixture
def client_for() -> Iterator[Any]:
    clients: list[dt_client.TaskHubGrpcClient] = []

    def make(port: int) -> dt_client.TaskHubGrpcClient:
        client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


def wait_done(client: dt_client.TaskHubGrpcClient, iid: str, timeout: float = 30.0) -> Any:
    """Poll until the instance is terminal (short polls keep the sidecar's threads free)."""
    terminal = {
        dt_client.OrchestrationStatus.COMPLETED,
        dt_client.OrchestrationStatus.FAILED,
        dt_client.OrchestrationStatus.TERMINATED,
    }
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_orchestration_state(iid)
        if state is not None and state.runtime_status in terminal:
            return state
        if time.monotonic() > deadline:
            status = state.runtime_status.name if state else "missing"
            raise AssertionError(f"{iid}: not done after {timeout}s ({status})")
        time.sleep(0.05)
