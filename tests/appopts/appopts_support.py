"""Helpers for the configured-app tests: run an app's scenarios under a worker, side by side."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from durabletask import client as dt_client

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests") not in sys.path:  # replay_compare, shared by the replay tests
    sys.path.append(str(ROOT / "tests"))
QUIET = logging.getLogger("tests.appopts.quiet")
QUIET.setLevel(logging.CRITICAL)
QUIET.propagate = False
TERMINAL = {
    dt_client.OrchestrationStatus.COMPLETED,
    dt_client.OrchestrationStatus.FAILED,
    dt_client.OrchestrationStatus.TERMINATED,
}


@pytest.fixture(autouse=True)
def keep_sys_path() -> Iterator[None]:
    """Loading an app from a file puts its folder on ``sys.path`` (for its own imports), and
    user processes spawned later inherit it: put the path back after each test, so a test's
    ``json.py`` never becomes the ``json`` of the rest of the suite."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _failure(details: Any) -> Any:
    if details is None:
        return None
    return (
        details.error_type,
        details.message,
        details.properties or None,
        _failure(details.inner_failure),
    )


def final_state(client: dt_client.TaskHubGrpcClient, iid: str, timeout: float = 60.0) -> Any:
    """Wait until the instance is terminal; its status, output and failure (with properties)."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_orchestration_state(iid)
        if state is not None and state.runtime_status in TERMINAL:
            return (
                state.runtime_status.name,
                state.serialized_output,
                state.serialized_custom_status,
                _failure(state.failure_details),
            )
        if time.monotonic() > deadline:
            status = state.runtime_status.name if state else "missing"
            raise AssertionError(f"{iid}: not done after {timeout}s ({status})")
        time.sleep(0.05)


def drive(
    port: int,
    starts: dict[str, tuple[str, Any]],
    converter: Any = None,
    payload_store: Any = None,
) -> dict[str, Any]:
    """Schedule each ``instance id -> (orchestrator, input)`` and return how each ended
    (the client uses the app's data converter, as the app's own client would)."""
    client = dt_client.TaskHubGrpcClient(
        host_address=f"127.0.0.1:{port}",
        logger=QUIET,
        data_converter=converter,
        payload_store=payload_store,
    )
    try:
        for iid, (name, value) in starts.items():
            client.schedule_new_orchestration(name, input=value, instance_id=iid)
        return {iid: final_state(client, iid) for iid in starts}
    finally:
        client.close()


class WorkerProcess:
    """``inspector worker ADDRESS --app APP`` as a subprocess; its output goes to a file."""

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

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m inspector ARGS`` with the project on the path."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


Starter = Callable[[int], Any]
