"""Dapr apps replayed with ``--app``: the same responses as Dapr's own executor, field by field.

Why subprocesses: Dapr's vendored SDK and the durabletask package register clashing protobuf
symbols ("duplicate symbol 'OrchestrationStatus'", DAPR.md §3), and this pytest process has
durabletask loaded, so every step that loads a Dapr app runs in a fresh interpreter (a Dapr
process, as ``inspector`` is when its ``--app`` imports Dapr). The recorded responses are
parsed here with our own schema of Dapr's dialect (its own package, no clash).

Why recorded turns and not a sidecar: no Dapr sidecar (daprd) can run here. The turns in
``samples/dapr_requests`` were made by ``samples/record_dapr.py``, which keeps each history
as Dapr's sidecar writes it and asks Dapr's own executor for every response;
:func:`test_the_recordings_are_what_dapr_answers_today` records them again and compares.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from engine.proto import dapr_workflow_pb2 as dpb

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "samples" / "dapr_requests"
APP = "samples/dapr_workflows.py"
INDEX = json.loads((RECORDINGS / "INDEX.json").read_text())


def _run_dapr(script: str, *args: str) -> Any:
    """Run Python source in a fresh interpreter (a Dapr process); the JSON it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _comparable(value: Any) -> Any:
    """A response as a dict without stack-trace text (each executor names its own frames)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "stackTrace"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _recorded(name: str) -> dict[str, Any]:
    data = base64.b64decode((RECORDINGS / name).read_text())
    return json_format.MessageToDict(dpb.WorkflowResponse.FromString(data))


_REPLAY_ALL = """
import json, sys
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
from google.protobuf import json_format
from engine.dapr_turn import dapr_response
from engine.load import load_request
from engine.headless import replay_request
app = load_app(sys.argv[1])
out = {}
for name in sys.argv[2:]:
    outcome = replay_request(load_request(name, "dapr"), app, maximum_timer_interval=None)
    out[name] = json_format.MessageToDict(dapr_response(outcome))
out["loaded"] = sorted(m for m in ("durabletask", "dapr.ext.workflow") if m in sys.modules)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def replayed() -> dict[str, Any]:
    """Every recorded request replayed by the engine with the Dapr app, in one Dapr process."""
    names = [str(RECORDINGS / e["request"]) for e in INDEX]
    return _run_dapr(_REPLAY_ALL, APP, *names)  # type: ignore[no-any-return]


@pytest.mark.parametrize("entry", INDEX, ids=[e["request"] for e in INDEX])
def test_replay_gives_daprs_response(replayed: dict[str, Any], entry: dict[str, str]) -> None:
    ours = replayed[str(RECORDINGS / entry["request"])]
    assert _comparable(ours) == _comparable(_recorded(entry["response"]))


def test_the_process_never_loaded_durabletask(replayed: dict[str, Any]) -> None:
    assert replayed["loaded"] == ["dapr.ext.workflow"]


def test_the_recordings_cover_what_the_issue_names() -> None:
    seen: set[str] = set()
    for entry in INDEX:
        for action in _recorded(entry["response"]).get("actions", []):
            for kind in ("scheduleTask", "createChildWorkflow"):
                if kind in action:
                    seen.add(kind)
            if "createTimer" in action:
                timer = action["createTimer"]
                origin = next(k for k in timer if k != "fireAt")
                endless = timer["fireAt"].startswith("9999-12-31")
                seen.add(f"timer:{origin}" + (":endless" if endless else ""))
            if "completeWorkflow" in action:
                seen.add(action["completeWorkflow"]["workflowStatus"])
            if action.get("scheduleTask", {}).get("router", {}).get("targetAppID"):
                seen.add("cross-app")
            if action.get("completeWorkflow", {}).get("carryoverEvents"):
                seen.add("carry-over")
    assert seen >= {
        "scheduleTask",
        "createChildWorkflow",
        "timer:createTimer",
        "timer:externalEvent",
        "timer:externalEvent:endless",
        "timer:activityRetry",
        "timer:childWorkflowRetry",
        "carry-over",
        "ORCHESTRATION_STATUS_COMPLETED",
        "ORCHESTRATION_STATUS_FAILED",
        "ORCHESTRATION_STATUS_CONTINUED_AS_NEW",
        "cross-app",
    }


def test_the_recordings_are_what_dapr_answers_today(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from samples.record_dapr import write_all\n"
        "print(json.dumps(write_all(Path(sys.argv[1]))))\n"
    )
    index = _run_dapr(script, str(tmp_path))
    assert index == INDEX
    for entry in INDEX:
        for key in ("request", "response"):
            assert (tmp_path / entry[key]).read_text() == (RECORDINGS / entry[key]).read_text()


@pytest.mark.parametrize("turn", ["greeting-turn2", "fan_out-turn2", "retries-turn2"])
def test_inspector_replay_on_a_dapr_app(turn: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "replay", f"samples/dapr_requests/{turn}.b64"]
        + ["--app", APP, "--json"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ours = json.loads(done.stdout)
    assert _comparable(ours) == _comparable(_recorded(f"{turn}.response.b64"))


_FUNCTIONS = """
import json, sys
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
app = load_app(sys.argv[1])
import samples.dapr_workflows as m
fn = app.functions["say"]
print(json.dumps({
    "names": sorted(app.functions),
    "thunk": fn is m.say_hello,
    "chunking": app.options.maximum_timer_interval is None,
    "flavour": __import__("engine.sdk").sdk.flavour(),
}))
"""


def test_a_dapr_app_is_found_through_its_runtime() -> None:
    found = _run_dapr(_FUNCTIONS, APP)
    assert found["names"] == sorted(
        ["say", "double", "flaky", "broken", "greeting", "fan_out", "child", "parent"]
        + ["retries", "failing", "counter", "cross_app", "timeouts", "carry", "shaky_child"]
        + ["child_retries", "patched", "no_retry", "refuse", "inherits", "onboard"]
        + ["onboard@v1", "onboard@v2"]
    )
    assert found["thunk"] is False  # the registry's wrapper, not the module-level thunk
    assert found["chunking"] is True
    assert found["flavour"] == "dapr"


def test_a_durabletask_process_keeps_durabletask() -> None:
    script = (
        "import json, sys\n"
        "from engine.app_loader import import_app, load_app\n"
        "import_app('samples/orchestrations.py')\n"
        "import engine.replay\n"
        "from engine import sdk\n"
        "print(json.dumps([sdk.flavour(), 'dapr.ext.workflow' in sys.modules]))\n"
    )
    assert _run_dapr(script) == ["durabletask", False]


_OLD_HISTORY = """
import base64, json, logging, sys
from pathlib import Path
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
import dapr.ext.workflow._durabletask.internal.protos as pb
from dapr.ext.workflow._durabletask import worker as dw
from google.protobuf import json_format
from engine.dapr_turn import dapr_request, dapr_response
from engine.headless import replay_request
from engine.proto import dapr_workflow_pb2 as dpb
import samples.dapr_workflows as m
msg = pb.WorkflowRequest.FromString(base64.b64decode(Path(sys.argv[2]).read_text()))
events = [e for e in msg.pastEvents if not (e.HasField("timerCreated") and e.eventId == 2)]
for e in events:
    if e.HasField("timerCreated") and e.eventId == 3:
        e.eventId = 2
old = pb.WorkflowRequest(instanceId=msg.instanceId, pastEvents=events, newEvents=msg.newEvents)
registry = m.wfr._WorkflowRuntime__worker._registry
result = dw._OrchestrationExecutor(registry, logging.getLogger("t")).execute(
    old.instanceId, old.pastEvents, old.newEvents
)
theirs = pb.WorkflowResponse(instanceId=old.instanceId, actions=result.actions)
theirs = json_format.MessageToDict(theirs)
request = dapr_request(dpb.WorkflowRequest.FromString(old.SerializeToString()))
outcome = replay_request(request, load_app(sys.argv[1]), maximum_timer_interval=None)
ours = json_format.MessageToDict(dapr_response(outcome))
print(json.dumps({"ours": ours, "theirs": theirs, "removed": len(msg.pastEvents) - len(events)}))
"""


def test_a_history_without_the_sentinel_timer_replays_as_dapr_replays_it() -> None:
    """Histories written before Dapr added the 9999-12-31 timer: the optional timer is dropped
    and later ids move down by one (DAPR.md 6.3), compared with Dapr's executor on the same
    request (the recorded ``timeouts`` turn with its sentinel timer taken out)."""
    found = _run_dapr(_OLD_HISTORY, APP, str(RECORDINGS / "timeouts-turn3.b64"))
    assert found["removed"] == 1
    assert found["theirs"]["actions"][0]["completeWorkflow"]["workflowStatus"].endswith("COMPLETED")
    assert _comparable(found["ours"]) == _comparable(found["theirs"])


_ODD_EVENTS = """
import json, logging, sys
from datetime import datetime
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
import dapr.ext.workflow._durabletask.internal.helpers as ph
import dapr.ext.workflow._durabletask.internal.protos as pb
from dapr.ext.workflow._durabletask import worker as dw
from google.protobuf import json_format
from engine.dapr_turn import dapr_request, dapr_response
from engine.headless import replay_request
from engine.proto import dapr_workflow_pb2 as dpb
import samples.dapr_workflows as m
t0 = datetime(2026, 1, 1, 12, 0, 0)
start = [
    ph.new_workflow_started_event(t0),
    ph.new_execution_started_event("greeting", "odd-1", '"bob"'),
]
extra = {
    "workflowCompleted": pb.HistoryEvent(eventId=-1, workflowCompleted=pb.WorkflowCompletedEvent()),
    "executionStalled": pb.HistoryEvent(eventId=-1, executionStalled=pb.ExecutionStalledEvent()),
    "eventSent": pb.HistoryEvent(eventId=-1, eventSent=pb.EventSentEvent(instanceId="x", name="y")),
    "executionResumed": pb.HistoryEvent(eventId=-1, executionResumed=pb.ExecutionResumedEvent()),
    "unset": pb.HistoryEvent(eventId=-1),
}
app = load_app(sys.argv[1])
registry = m.wfr._WorkflowRuntime__worker._registry
out = {}
for name, event in extra.items():
    req = pb.WorkflowRequest(instanceId="odd-1", pastEvents=[], newEvents=start + [event])
    result = dw._OrchestrationExecutor(registry, logging.getLogger("t")).execute(
        req.instanceId, req.pastEvents, req.newEvents
    )
    theirs = pb.WorkflowResponse(instanceId=req.instanceId, actions=result.actions)
    outcome = replay_request(
        dapr_request(dpb.WorkflowRequest.FromString(req.SerializeToString())),
        app,
        maximum_timer_interval=None,
    )
    ours = dapr_response(outcome)
    out[name] = [json_format.MessageToDict(theirs), json_format.MessageToDict(ours)]
print(json.dumps(out))
"""


def test_events_daprs_executor_does_not_handle_fail_the_workflow_as_in_dapr() -> None:
    """Markers, ``eventSent``, a resume while running and an event with no type fail the
    workflow with Dapr's own message; ``executionStalled`` is let pass (DAPR.md §7)."""
    found = _run_dapr(_ODD_EVENTS, APP)
    for name, (theirs, ours) in found.items():
        assert _comparable(ours) == _comparable(theirs), name
    failed = found["workflowCompleted"][0]["actions"][0]["completeWorkflow"]["failureDetails"]
    assert failed["errorMessage"] == "Don't know how to handle event of type 'workflowCompleted'"
    assert "scheduleTask" in found["executionStalled"][0]["actions"][0]


_PROPAGATED = """
import base64, json, logging, sys
from datetime import datetime
from pathlib import Path
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
import dapr.ext.workflow._durabletask.internal.helpers as ph
import dapr.ext.workflow._durabletask.internal.protos as pb
from dapr.ext.workflow._durabletask import worker as dw
from dapr.ext.workflow.propagation import PropagatedHistory
from google.protobuf import json_format
from engine.dapr_turn import dapr_request, dapr_response
from engine.headless import replay_request
from engine.proto import dapr_workflow_pb2 as dpb
import samples.dapr_workflows as m
parent = pb.WorkflowRequest.FromString(base64.b64decode(Path(sys.argv[2]).read_text()))
chunk = pb.PropagatedHistoryChunk(
    appId="inspector-demo", instanceId=parent.instanceId, workflowName="cross_app",
    rawEvents=[e.SerializeToString() for e in list(parent.pastEvents) + list(parent.newEvents)],
)
t0 = datetime(2026, 1, 1, 12, 0, 0)
req = pb.WorkflowRequest(
    instanceId="child-1",
    newEvents=[
        ph.new_workflow_started_event(t0),
        ph.new_execution_started_event("inherits", "child-1", None),
    ],
    propagatedHistory=pb.PropagatedHistory(
        scope=pb.HISTORY_PROPAGATION_SCOPE_OWN_HISTORY, chunks=[chunk]
    ),
)
registry = m.wfr._WorkflowRuntime__worker._registry
result = dw._OrchestrationExecutor(registry, logging.getLogger("t")).execute(
    req.instanceId, req.pastEvents, req.newEvents,
    propagated_history=PropagatedHistory.from_proto(req.propagatedHistory),
)
theirs = pb.WorkflowResponse(instanceId=req.instanceId, actions=result.actions)
theirs = json_format.MessageToDict(theirs)
request = dapr_request(dpb.WorkflowRequest.FromString(req.SerializeToString()))
outcome = replay_request(request, load_app(sys.argv[1]), maximum_timer_interval=None)
print(json.dumps([theirs, json_format.MessageToDict(dapr_response(outcome))]))
"""


def test_a_propagated_history_reaches_the_workflow_as_in_dapr() -> None:
    """``get_propagated_history()`` sees what the request's ``propagatedHistory`` carries (here:
    the recorded ``cross_app`` turn's events, as a parent with ``OWN_HISTORY`` sends them)."""
    theirs, ours = _run_dapr(_PROPAGATED, APP, str(RECORDINGS / "cross_app-turn2.b64"))
    result = json.loads(theirs["actions"][0]["completeWorkflow"]["result"])
    assert result == {"apps": ["inspector-demo"], "said": ['"hi ann"']}
    assert ours == theirs


_PINNED = """
import json, logging, sys
from datetime import datetime
from engine.app_loader import import_app, load_app
import_app(sys.argv[1])
import dapr.ext.workflow._durabletask.internal.helpers as ph
import dapr.ext.workflow._durabletask.internal.protos as pb
from dapr.ext.workflow._durabletask import worker as dw
from google.protobuf import json_format
from engine.dapr_turn import dapr_request, dapr_response
from engine.headless import replay_request
from engine.proto import dapr_workflow_pb2 as dpb
import samples.dapr_workflows as m
app = load_app(sys.argv[1])
registry = m.wfr._WorkflowRuntime__worker._registry
out = {}
for version in ("v1", "v2", "v9"):
    started = ph.new_workflow_started_event(datetime(2026, 1, 1, 12, 0, 0))
    started.workflowStarted.version.name = version
    start = ph.new_execution_started_event("onboard", "pin-1", '"kim"')
    req = pb.WorkflowRequest(instanceId="pin-1", newEvents=[started, start])
    result = dw._OrchestrationExecutor(registry, logging.getLogger("t")).execute(
        req.instanceId, req.pastEvents, req.newEvents
    )
    theirs = pb.WorkflowResponse(instanceId=req.instanceId, actions=result.actions)
    if result.version_name:
        theirs.version.name = result.version_name
    request = dapr_request(dpb.WorkflowRequest.FromString(req.SerializeToString()))
    ours = dapr_response(replay_request(request, app, maximum_timer_interval=None))
    out[version] = [json_format.MessageToDict(theirs), json_format.MessageToDict(ours)]
print(json.dumps(out))
"""


def test_a_pinned_version_runs_as_in_dapr() -> None:
    """``workflowStarted.version.name`` pins a version of a versioned workflow; the version
    used goes back in the response; an unknown one stalls the workflow (DAPR.md 6.4)."""
    found = _run_dapr(_PINNED, APP)
    for version, (theirs, ours) in found.items():
        assert ours == theirs, version
    assert found["v1"][0]["version"] == {"name": "v1"}
    assert found["v9"][0]["actions"] == [{"id": 1, "workflowVersionNotAvailable": {}}]
