"""Helpers for the live tests: the SDK's in-memory sidecar on a free port, its client and worker."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from durabletask import client as dt_client
from durabletask import worker as dt_worker
from durabletask.testing import InMemoryOrchestrationBackend

from samples import orchestrations as samples

QUIET = logging.getLogger("tests.live.quiet")
QUIET.setLevel(logging.CRITICAL)
QUIET.propagate = False

TERMINAL = {
    dt_client.OrchestrationStatus.COMPLETED,
    dt_client.OrchestrationStatus.FAILED,
    dt_client.OrchestrationStatus.TERMINATED,
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_backend(
    cls: type[InMemoryOrchestrationBackend] = InMemoryOrchestrationBackend,
) -> tuple[InMemoryOrchestrationBackend, str]:
    port = free_port()
    backend = cls(port=port)
    backend.start()
    return backend, f"127.0.0.1:{port}"


@pytest.fixture
def sidecar() -> Iterator[tuple[InMemoryOrchestrationBackend, str]]:
    backend, address = start_backend()
    try:
        yield backend, address
    finally:
        backend.stop(grace=0)


@pytest.fixture
def client(sidecar: tuple[InMemoryOrchestrationBackend, str]) -> Iterator[Any]:
    c = dt_client.TaskHubGrpcClient(host_address=sidecar[1], logger=QUIET)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def sdk_worker(sidecar: tuple[InMemoryOrchestrationBackend, str]) -> Iterator[Any]:
    w = dt_worker.TaskHubGrpcWorker(host_address=sidecar[1], logger=QUIET)
    samples.register(w)
    w.start()
    try:
        yield w
    finally:
        w.stop()


def wait_done(client: Any, iid: str, timeout: float = 30.0) -> Any:
    """Poll until the instance is terminal."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_orchestration_state(iid)
        if state is not None and state.runtime_status in TERMINAL:
            return state
        if time.monotonic() > deadline:
            status = state.runtime_status.name if state else "missing"
            raise AssertionError(f"{iid}: not done after {timeout}s ({status})")
        time.sleep(0.05)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run the ``async def`` pilot tests on a fresh event loop."""
    import asyncio
    import inspect

    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
