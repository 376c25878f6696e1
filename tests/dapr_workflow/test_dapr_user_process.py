"""The worker's user process with a Dapr app answers as Dapr's executor answers.

The user process is started as the worker starts it (``spawn``), so it is a fresh interpreter:
it imports the Dapr app before the engine (:mod:`engine.user_process`) and runs on Dapr's fork
of the SDK, although this pytest process has durabletask loaded (the two cannot share a process:
DAPR.md §3). It gets what the worker hands it: Microsoft-shaped messages (a ``--dialect dapr``
worker converts at the sidecar, :mod:`engine.worker._dapr`). Its answers are compared with the
recorded responses of Dapr's own executor (``samples/dapr_requests``, see
``test_dapr_replay.py``) in the same shape, and an activity's result with the one Dapr's
runtime wrapper gave when the turns were recorded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from engine.dapr_wire import from_dapr
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb
from engine.worker._process import UserProcess

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "samples" / "dapr_requests"
APP = str(ROOT / "samples" / "dapr_workflows.py")
INDEX = json.loads((RECORDINGS / "INDEX.json").read_text())


def _b64(name: str) -> bytes:
    return base64.b64decode((RECORDINGS / name).read_text())


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "stackTrace"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


@pytest.fixture(scope="module")
def user_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserProcess]:
    proc = UserProcess(APP, "dapr-turns", str(tmp_path_factory.mktemp("stacks")), None, "spawn")
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.close()


@pytest.mark.parametrize("entry", INDEX, ids=[e["request"] for e in INDEX])
def test_a_turn_answers_as_dapr(user_process: UserProcess, entry: dict[str, str]) -> None:
    request = from_dapr(dpb.WorkflowRequest.FromString(_b64(entry["request"])))[0]
    result = user_process.run("turn", request.SerializeToString(), "token-1", 60.0)
    assert result.outcome == "done", result
    ours = json_format.MessageToDict(pb.OrchestratorResponse.FromString(result.response))
    recorded = from_dapr(dpb.WorkflowResponse.FromString(_b64(entry["response"])))[0]
    expected = json_format.MessageToDict(recorded)
    expected["completionToken"] = "token-1"
    assert _comparable(ours) == _comparable(expected)
    assert result.failed == any(
        a.get("completeOrchestration", {}).get("orchestrationStatus")
        == "ORCHESTRATION_STATUS_FAILED"
        for a in expected["actions"]
    )


def _scheduled_and_answered(turn: str, answer: str) -> tuple[dpb.HistoryEvent, dpb.HistoryEvent]:
    """The first ``taskScheduled`` of one recorded request and what answered it in the next."""
    first = dpb.WorkflowRequest.FromString(_b64(turn))
    scheduled = next(e for e in first.pastEvents if e.HasField("taskScheduled"))
    later = dpb.WorkflowRequest.FromString(_b64(answer))
    done = next(
        e
        for e in later.newEvents
        if e.WhichOneof("eventType") in ("taskCompleted", "taskFailed")
        and getattr(e, e.WhichOneof("eventType")).taskScheduledId == scheduled.eventId
    )
    return scheduled, done


@pytest.mark.parametrize(
    ("turn", "answer"),
    [("greeting-turn2.b64", "greeting-turn2.b64"), ("failing-turn2.b64", "failing-turn2.b64")],
)
def test_an_activity_runs_as_daprs_runtime_ran_it(
    user_process: UserProcess, turn: str, answer: str
) -> None:
    scheduled, done = _scheduled_and_answered(turn, answer)
    request = dpb.ActivityRequest(
        name=scheduled.taskScheduled.name,
        input=scheduled.taskScheduled.input,
        taskId=scheduled.eventId,
        taskExecutionId=scheduled.taskScheduled.taskExecutionId,
    )
    request.workflowInstance.instanceId = dpb.WorkflowRequest.FromString(_b64(turn)).instanceId
    shaped = from_dapr(request)[0]  # as the worker hands it over
    result = user_process.run("activity", shaped.SerializeToString(), "token-2", 60.0)
    assert result.outcome == "done", result
    response = pb.ActivityResponse.FromString(result.response)
    assert response.completionToken == "token-2"
    assert response.taskId == scheduled.eventId
    if done.HasField("taskCompleted"):
        assert not result.failed
        assert response.result == done.taskCompleted.result
    else:
        assert result.failed
        ours, theirs = response.failureDetails, done.taskFailed.failureDetails
        assert (ours.errorType, ours.errorMessage) == (theirs.errorType, theirs.errorMessage)
