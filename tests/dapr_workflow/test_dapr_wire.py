"""Wire compatibility of our Dapr schema with Dapr's vendored generated modules, and the rules.

The byte-for-byte checks run in a subprocess (``tests/dapr_workflow/wire_check.py``) that has Dapr's
packages imported: this pytest process holds the durabletask SDK, and the two register the same
protobuf symbols (DAPR.md §3). Every message we declare, every oneof member, both directions.
The rest checks, in this process, what the converter makes of Dapr's bytes on the Microsoft side.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import durabletask.internal.orchestrator_service_pb2 as sdk_pb
import pytest
from google.protobuf.unknown_fields import UnknownFieldSet

from engine import dapr_wire
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb
from tests.dapr_workflow.conftest import ROOT
from tests.wire_filler import Filler, variants

_RESULTS: dict[str, str] = {}


def _results() -> dict[str, str]:
    if not _RESULTS:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "dapr_workflow" / "wire_check.py")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        import json

        _RESULTS.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return _RESULTS


def _cases() -> list[str]:
    names = sorted(dpb.DESCRIPTOR.message_types_by_name)
    cases = [f"fields:{n}" for n in names]
    for name in names:
        for forced in variants(dpb.DESCRIPTOR.message_types_by_name[name]):
            label = name + "".join(f"[{m}]" for m in forced.values())
            cases += [f"dapr->ours:{label}", f"ours->dapr:{label}"]
    cases += [f"enum:{n}" for n in sorted(dpb.DESCRIPTOR.enum_types_by_name)]
    return cases


HELPER_CASES = [
    "WorkflowRequest",
    "WorkItem[workflowRequest]",
    "WorkItem[activityRequest]",
    "WorkflowResponse",
    "ActivityResponse",
    "GetWorkItemsRequest",
    "WorkflowAction[child]",
]


@pytest.mark.parametrize("case", _cases())
def test_byte_for_byte_with_dapr(case: str) -> None:
    assert _results().get(case) == "ok", _results().get(case, "not run")


@pytest.mark.parametrize("case", HELPER_CASES)
def test_dapr_helpers_through_the_converter(case: str) -> None:
    assert _results().get(f"helpers:{case}") == "ok", _results().get(f"helpers:{case}")


def test_every_case_was_run() -> None:
    expected = set(_cases()) | {f"helpers:{c}" for c in HELPER_CASES}
    assert set(_results()) == expected


# --- the dialect rules, on the Microsoft side ------------------------------------------------


def test_differences_are_dapr_documented_ones() -> None:
    """The derived rules are exactly DAPR.md §2's table for the messages we use."""
    diff = dapr_wire.dialect_differences()
    assert diff["ScheduleTaskAction/ScheduleTaskAction"] == [
        "ms 4 tags",
        "dapr 4 router",
        "ms 5 parentTraceContext",
        "dapr 5 taskExecutionId",
        "dapr 6 historyPropagationScope",
    ]
    assert diff["OrchestratorResponse/WorkflowResponse"] == [
        "ms 6 orchestrationTraceContext",
        "dapr 6 version",
        "ms 7 requiresHistory",
        "ms 8 isPartial",
        "ms 9 chunkIndex",
    ]
    assert "dapr 30 router" in diff["HistoryEvent/HistoryEvent"]
    assert "ms 30 executionRewound" in diff["HistoryEvent/HistoryEvent"]
    assert diff["ActivityRequest/ActivityRequest"] == [
        "ms 7 tags",
        "dapr 7 taskExecutionId",
        "dapr 8 propagatedHistory",
    ]
    assert "ExecutionStartedEvent/ExecutionStartedEvent" not in diff
    assert len(diff) == 21


def _has_unknown(msg: Any) -> bool:
    if len(UnknownFieldSet(msg)):
        return True
    for field, value in msg.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        for item in value if field.is_repeated else [value]:
            if _has_unknown(item):
                return True
    return False


@pytest.mark.parametrize(
    "name", ["WorkflowRequest", "WorkflowResponse", "WorkItem", "ActivityRequest", "HistoryEvent"]
)
def test_converted_messages_are_clean_microsoft_messages(name: str) -> None:
    """Every Dapr field set: what comes out parses under the SDK's schema with nothing unknown."""
    for forced in variants(dpb.DESCRIPTOR.message_types_by_name[name]):
        dapr_msg = Filler(forced).fill(getattr(dpb, name)())
        shaped, extras = dapr_wire.from_dapr(dapr_msg)
        sdk_msg = getattr(sdk_pb, shaped.DESCRIPTOR.name).FromString(shaped.SerializeToString())
        assert not _has_unknown(sdk_msg), (name, forced)
        back, _ = dapr_wire.to_dapr(shaped, extras)
        assert back.SerializeToString(deterministic=True) == dapr_msg.SerializeToString(
            deterministic=True
        ), (name, forced)


def test_microsoft_only_fields_never_reach_dapr() -> None:
    """A tag and a trace context would be a route and an execution id to Dapr (DAPR.md §2.1)."""
    action = pb.OrchestratorAction(id=1)
    action.scheduleTask.name = "say"
    action.scheduleTask.tags["k"] = "v"
    action.scheduleTask.parentTraceContext.traceParent = "00-abc"
    response = pb.OrchestratorResponse(instanceId="i1", actions=[action])
    response.orchestrationTraceContext.spanID.value = "span1"
    converted, dropped = dapr_wire.to_dapr(response)
    task = converted.actions[0].scheduleTask
    assert not task.HasField("router") and task.taskExecutionId == ""
    assert not converted.HasField("version")
    assert dropped.actions[0].scheduleTask.tags == {"k": "v"}
    assert dropped.HasField("orchestrationTraceContext")
    assert dpb.WorkflowResponse.FromString(converted.SerializeToString()) == converted


def test_response_facts_become_dapr_fields() -> None:
    action = pb.OrchestratorAction(id=2)
    action.createTimer.fireAt.seconds = dapr_wire.SENTINEL_FIRE_AT_SECONDS
    task = pb.OrchestratorAction(id=1)
    task.scheduleTask.name = "say"
    response = pb.OrchestratorResponse(instanceId="i1", actions=[task, action])
    facts = dapr_wire.ResponseFacts(
        patches=("p1",),
        actions={
            1: dapr_wire.ActionFacts(
                router=dapr_wire.Router("a"),
                task_router=dapr_wire.Router("a", "b"),
                task_execution_id="x",
            ),
            2: dapr_wire.ActionFacts(timer_origin=dapr_wire.TimerOrigin("externalEvent", "go")),
        },
    )
    converted = dapr_wire.with_extras(response, facts)
    first, second = converted.actions
    assert first.router.sourceAppID == "a" and first.scheduleTask.router.targetAppID == "b"
    assert first.scheduleTask.taskExecutionId == "x"
    assert second.createTimer.externalEvent.name == "go"
    assert list(converted.version.patches) == ["p1"]
