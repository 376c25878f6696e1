"""Turns of Dapr's own ``WorkflowRuntime`` serving real workflows, replayed with ``--app``.

Dapr's runtime (``samples/dapr_workflows.py``, unmodified) runs in a subprocess against the Dapr
shim (``tests/dapr_workflow/shim.py``: Dapr's dialect in front of the SDK's in-memory sidecar; no
daprd can run here). The shim is watched: every ``WorkflowRequest`` it hands to Dapr's worker and
the ``WorkflowResponse`` Dapr's worker answers with are kept, paired by completion token. Each
request is then replayed by the engine with the same app, in a Dapr process (Dapr's packages and
durabletask cannot share one, DAPR.md §3), and must give Dapr's response field by field (stack-trace
text aside: each names its own frames; the completion token is the sidecar's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format

from engine.proto import dapr_workflow_pb2 as dpb
from tests.dapr_workflow.conftest import ROOT
from tests.dapr_workflow.served import APP, RUNTIME, SCENARIOS, WatchedShim, serve


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[WatchedShim, dict[str, Any]]]:
    """Every scenario served by Dapr's own runtime through the watched shim, to its end."""
    with serve(RUNTIME) as found:
        yield found


def test_daprs_runtime_ends_every_scenario_as_expected(served: Any) -> None:
    _, states = served
    assert {name: s[0] for name, s in states.items()} == {n: st for n, _, _, st in SCENARIOS}


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
