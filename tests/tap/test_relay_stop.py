"""A stop of the relay (the headless tap's path) answers the calls in flight before it closes.

Real peers: ``inspector tap`` as a process, stopped by SIGTERM; the SDK's in-memory sidecar and
its client. The call in flight is the client's ``WaitForInstanceCompletion`` (a unary call,
not a completion), which the sidecar answers only once the instance ends: the instance waits
for an event the test raises when it chooses (the SDK's worker, straight to the sidecar, runs
it), so nothing depends on timing. The sidecar tells when the call has reached it.
"""

from __future__ import annotations

import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

from .scenario import sdk_worker, wait_running
from .support import QUIET, TapProcess, free_port, sidecar, wait_until


class _Backend(InMemoryOrchestrationBackend):
    """The SDK's sidecar, telling when a ``WaitForInstanceCompletion`` call reached it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = threading.Event()

    def WaitForInstanceCompletion(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.waiting.set()
        return super().WaitForInstanceCompletion(request, context)


def _wait_through(
    pool: ThreadPoolExecutor, tap: TapProcess, instance: str
) -> tuple[dt_client.TaskHubGrpcClient, Future[Any]]:
    client = dt_client.TaskHubGrpcClient(host_address=tap.address, logger=QUIET)
    return client, pool.submit(client.wait_for_orchestration_completion, instance, timeout=300)


def test_a_call_in_flight_is_answered_before_the_tap_stops(tmp_path: Path) -> None:
    with sidecar(_Backend) as (backend, port), ThreadPoolExecutor(1) as pool:
        assert isinstance(backend, _Backend)
        tap = TapProcess(free_port(), port, "--grace", "300", log=tmp_path / "tap.log")
        direct = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        worker = sdk_worker(f"127.0.0.1:{port}", QUIET)
        client = None
        try:
            worker.start()
            instance = direct.schedule_new_orchestration("wait_event")
            wait_running(direct, instance)
            client, answer = _wait_through(pool, tap, instance)
            wait_until("the call at the sidecar", backend.waiting.is_set)
            tap.proc.send_signal(signal.SIGTERM)
            wait_until(
                "the tap waiting for the call (or the call cut)",
                lambda: answer.done() or "waiting for 1 call(s) in flight" in tap.output(),
            )
            assert not answer.done(), tap.output()  # the stop did not cut it
            direct.raise_orchestration_event(instance, "approve", data="yes")
            state = answer.result(timeout=120)  # the sidecar's answer, forwarded
            assert state is not None
            assert state.runtime_status == dt_client.OrchestrationStatus.COMPLETED
            assert state.serialized_output == '{"approved": "yes"}'
            assert tap.proc.wait(120) == 0, tap.output()
            assert "still in flight" not in tap.output()
            assert "tap: stopped:" in tap.output()
        finally:
            direct.close()
            worker.stop()
            if client is not None:
                client.close()
            tap.stop()


def test_the_grace_bounds_the_wait_for_calls_in_flight(tmp_path: Path) -> None:
    with sidecar(_Backend) as (backend, port), ThreadPoolExecutor(1) as pool:
        assert isinstance(backend, _Backend)
        tap = TapProcess(free_port(), port, "--grace", "1", log=tmp_path / "tap.log")
        direct = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        client = None
        try:
            instance = direct.schedule_new_orchestration("served-by-no-one")  # no worker
            client, answer = _wait_through(pool, tap, instance)
            wait_until("the call at the sidecar", backend.waiting.is_set)
            assert tap.terminate(timeout=120) == 0, tap.output()  # the instance never ends
            assert "1 call(s) still in flight after the grace" in tap.output()
            with pytest.raises(grpc.RpcError) as info:
                answer.result(timeout=120)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            direct.close()
            if client is not None:
                client.close()
            tap.stop()
