"""Turns of Dapr's own ``WorkflowRuntime`` serving real workflows, replayed with ``--app``.

Dapr's runtime (``samples/dapr_workflows.py``, unmodified) runs in a subprocess against the
Dapr shim (``tests/dapr/shim.py``: Dapr's dialect in front of the SDK's in-memory sidecar; no
daprd can run here). The shim is watched: every ``WorkflowRequest`` it hands to Dapr's worker
and the ``WorkflowResponse`` Dapr's worker answers with are kept, paired by completion token.
Each request is then replayed by the engine with the same app, in a Dapr process (Dapr's
packages and durabletask cannot share one, DAPR.md §3), and must give Dapr's response field by
field (stack-trace text aside: each names its own frames; the completion token is the
sidecar's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend
from google.protobuf import json_format

from engine.proto import dapr_workflow_pb2 as dpb
from tests.dapr.conftest import ROOT
from tests.dapr.shim import DaprShim
from tests.worker.conftest import free_port

APP = "samples/dapr_workflows.py"
_SENTINEL = 253_402_300_799

SCENARIOS: list[tuple[str, Any, list[tuple[str, Any]], str]] = [
    ("greeting", "bob", [("approve", True)], "COMPLETED"),
    ("fan_out", 3, [("go", "now")], "COMPLETED"),
    ("parent", 5, [], "COMPLETED"),
    ("retries", "k1", [], "COMPLETED"),
    ("failing", "disk full", [], "FAILED"),
    ("counter", 0, [], "COMPLETED"),
    ("cross_app", "ann", [], "COMPLETED"),
    ("timeouts", 1, [("poke", 7)], "COMPLETED"),
    ("carry", 0, [("extra", 0), ("extra", "b")], "COMPLETED"),
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


def _keep_sentinel_nanos(request: dpb.WorkflowRequest) -> None:
    """The in-memory sidecar keeps timer fire times to the microsecond; daprd keeps Dapr's
    9999-12-31 sentinel to the nanosecond, and Dapr's executor recognises it only so."""
    for event in list(request.pastEvents) + list(request.newEvents):
        if event.HasField("timerCreated") and event.timerCreated.fireAt.seconds == _SENTINEL:
            event.timerCreated.fireAt.nanos = 999_999_999


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
                _keep_sentinel_nanos(item.workflowRequest)
                raw = item.SerializeToString()
                with self._kept:
                    self.requests[item.completionToken] = item.workflowRequest.SerializeToString()
            yield raw

    def unary(self, method: str, data: bytes) -> bytes:
        if method == "CompleteOrchestratorTask":
            token = dpb.WorkflowResponse.FromString(data).completionToken
            with self._kept:
                self.responses[token] = data
        return super().unary(method, data)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[WatchedShim, dict[str, str]]]:
    """Every scenario served by Dapr's runtime through the watched shim, to its end."""
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    shim = WatchedShim(f"127.0.0.1:{port}").start()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DAPR_RUNTIME_HOST="127.0.0.1")
    env["DAPR_GRPC_PORT"] = str(shim.port)
    env.pop("DAPR_GRPC_ENDPOINT", None)
    runtime = subprocess.Popen(
        [sys.executable, "-c", _RUNTIME],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}")
    try:
        assert runtime.stdout is not None
        assert runtime.stdout.readline().strip() == "ready"
        for name, value, _, _ in SCENARIOS:
            client.schedule_new_orchestration(name, input=value, instance_id=f"rt-{name}")
        for name, _, events, _ in SCENARIOS:
            client.wait_for_orchestration_start(f"rt-{name}", timeout=60)
            for event, data in events:
                client.raise_orchestration_event(f"rt-{name}", event, data=data)
        states = {}
        for name, *_ in SCENARIOS:
            state = client.wait_for_orchestration_completion(f"rt-{name}", timeout=120)
            assert state is not None, name
            states[name] = state.runtime_status.name
        yield shim, states
    finally:
        client.close()
        assert runtime.stdin is not None
        runtime.stdin.close()
        runtime.wait(timeout=60)
        shim.stop()
        backend.stop(grace=None)


def test_daprs_runtime_ends_every_scenario_as_expected(served: Any) -> None:
    _, states = served
    assert states == {name: status for name, _, _, status in SCENARIOS}


_REPLAY = """
import base64, json, sys
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
from google.protobuf import json_format
from engine.dapr_turn import dapr_response, dapr_request
from engine.headless import replay_request
from engine.proto import dapr_workflow_pb2 as dpb
app = load_app(sys.argv[1])
out = {}
for token, encoded in json.loads(sys.stdin.read()).items():
    request = dapr_request(dpb.WorkflowRequest.FromString(base64.b64decode(encoded)))
    outcome = replay_request(request, app, completion_token=token, maximum_timer_interval=None)
    out[token] = json_format.MessageToDict(dapr_response(outcome))
print(json.dumps(out))
"""


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "stackTrace"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def test_every_turn_of_daprs_runtime_replays_to_its_response(served: Any) -> None:
    import base64

    shim, _ = served
    pairs = {t: r for t, r in shim.requests.items() if t in shim.responses}
    assert len(pairs) >= 3 * len(SCENARIOS)  # every scenario takes several turns
    done = subprocess.run(
        [sys.executable, "-c", _REPLAY, APP],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        input=json.dumps({t: base64.b64encode(r).decode() for t, r in pairs.items()}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    ours = json.loads(done.stdout.strip().splitlines()[-1])
    kinds: set[str] = set()
    for token in pairs:
        theirs = json_format.MessageToDict(dpb.WorkflowResponse.FromString(shim.responses[token]))
        assert _comparable(ours[token]) == _comparable(theirs), token
        for action in theirs.get("actions", []):
            kinds.update(k for k in action if k not in ("id", "router"))
    assert kinds >= {"scheduleTask", "createTimer", "createChildWorkflow", "completeWorkflow"}
