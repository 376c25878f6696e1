"""Dapr workflows served to their end through the Dapr shim, by any Dapr-dialect worker.

No daprd can run here: the shim (``tests/dapr_workflow/shim.py``) puts Dapr's dialect in front of
the SDK's in-memory sidecar. :func:`serve` starts a worker process against it (Dapr's own
``WorkflowRuntime``, or ``inspector worker --dialect dapr``), runs every scenario of
``samples/dapr_workflows.py`` to its end with the SDK's client, and gives the final states and the
watched shim (every workflow request it handed out and every response, by completion token).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

from engine.proto import dapr_workflow_pb2 as dpb
from tests.dapr_workflow.conftest import ROOT
from tests.dapr_workflow.shim import DaprShim
from tests.worker.conftest import free_port

APP = "samples/dapr_workflows.py"

SCENARIOS: list[tuple[str, Any, list[tuple[str, Any]], str]] = [
    ("greeting", "bob", [("approve", True)], "COMPLETED"),
    ("fan_out", 3, [("go", "now")], "COMPLETED"),
    ("parent", 5, [], "COMPLETED"),
    ("retries", "k1", [], "COMPLETED"),
    ("failing", "disk full", [], "FAILED"),
    ("counter", 0, [], "COMPLETED"),
    ("cross_app", "ann", [], "COMPLETED"),
    ("timeouts", 1, [("poke", 7)], "COMPLETED"),
    # Truthy event data only: whether "extra" lands before continue-as-new (carried over) or
    # after it is a race, and Dapr's runtime carries a falsy value over as null (the recorded
    # requests of make_requests.py pin that quirk down, race-free).
    ("carry", 0, [("extra", 1), ("extra", "b")], "COMPLETED"),
    ("child_retries", "c1", [], "COMPLETED"),
    ("patched", "eve", [], "COMPLETED"),
    ("no_retry", "no way", [], "FAILED"),
    ("onboard", "kim", [], "COMPLETED"),
]
"""Workflow, input, events raised once it started, and the final status Dapr's runtime reaches."""

_RUNTIME = """
import sys
import samples.dapr_workflows as app
app.wfr.start()
print("ready", flush=True)
sys.stdin.read()
app.wfr.shutdown()
"""


class WatchedShim(DaprShim):
    """The Dapr shim, keeping every workflow request it hands out and every response."""

    def __init__(self, backend_address: str) -> None:
        super().__init__(backend_address)
        self.requests: dict[str, bytes] = {}
        self.responses: dict[str, bytes] = {}
        self._kept = threading.Lock()

    def work_items(self, data: bytes) -> Iterator[bytes]:
        for raw in super().work_items(data):
            item = dpb.WorkItem.FromString(raw)
            if item.HasField("workflowRequest"):
                with self._kept:
                    self.requests[item.completionToken] = item.workflowRequest.SerializeToString()
            yield raw

    def unary(self, method: str, data: bytes) -> bytes:
        if method == "CompleteOrchestratorTask":
            token = dpb.WorkflowResponse.FromString(data).completionToken
            with self._kept:
                self.responses[token] = data
        return super().unary(method, data)


RUNTIME = [sys.executable, "-c", _RUNTIME]
"""Dapr's own ``WorkflowRuntime`` serving the app (it reads the sidecar's address from
``DAPR_GRPC_PORT``, as a Dapr app does)."""
INSPECTOR = [sys.executable, "-m", "inspector", "worker", "127.0.0.1:{port}"]
INSPECTOR += ["--dialect", "dapr", "--app", APP]
"""The inspector's embedded worker serving the same app."""


@contextmanager
def serve(command: list[str]) -> Iterator[tuple[WatchedShim, dict[str, Any]]]:
    """Every scenario served by the worker ``command`` starts (``{port}`` in it: the shim's)
    to its end: the watched shim and each scenario's final state (status, output, failure
    message)."""
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    shim = WatchedShim(f"127.0.0.1:{port}").start()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DAPR_RUNTIME_HOST="127.0.0.1")
    env["DAPR_GRPC_PORT"] = str(shim.port)
    env.pop("DAPR_GRPC_ENDPOINT", None)
    worker = subprocess.Popen(
        [part.replace("{port}", str(shim.port)) for part in command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}")
    try:
        for name, value, _, _ in SCENARIOS:
            client.schedule_new_orchestration(name, input=value, instance_id=f"rt-{name}")
        for name, _, events, _ in SCENARIOS:
            client.wait_for_orchestration_start(f"rt-{name}", timeout=60)
            for event, data in events:
                client.raise_orchestration_event(f"rt-{name}", event, data=data)
        states: dict[str, Any] = {}
        for name, *_ in SCENARIOS:
            state = client.wait_for_orchestration_completion(f"rt-{name}", timeout=120)
            assert state is not None, name
            failure = state.failure_details.message if state.failure_details else None
            states[name] = (state.runtime_status.name, state.serialized_output, failure)
        yield shim, states
    finally:
        client.close()
        assert worker.stdin is not None
        worker.stdin.close()
        worker.terminate()
        worker.wait(timeout=60)
        shim.stop()
        backend.stop(grace=None)
