"""Byte-for-byte checks of our Dapr schema against Dapr's own generated modules.

Run by ``tests/dapr_workflow/test_dapr_wire.py`` in a subprocess, because it imports Dapr's vendored
modules (``dapr.ext.workflow._durabletask.internal``), which cannot be loaded beside the
durabletask SDK the pytest process holds (DAPR.md §3). Prints one JSON object: per case, ``"ok"``
or what went wrong.

Cases:
- ``fields:<name>``: our descriptor has Dapr's fields (number, name, type, label, presence,
  oneof, message or enum type), for every message we declare; ``enum:<name>`` the same values.
- ``dapr->ours:<name>[member]`` and ``ours->dapr:<name>[member]``: a message with every field set
  (one case per oneof member) is serialized by one side and parsed by the other: same bytes
  back, same JSON, and the same bytes when each side builds it from its own descriptor.
- ``helpers:<what>``: messages Dapr's own helpers build, through ``engine.dapr_wire`` to the
  Microsoft-shaped messages and back: the same bytes as Dapr's.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from dapr.ext.workflow._durabletask.internal import attestation_pb2, helpers
from dapr.ext.workflow._durabletask.internal import protos as dapr_pb

from engine import dapr_wire
from engine.proto import dapr_workflow_pb2 as dpb
from tests.wire_filler import Filler, as_json, ser, variants

OURS = dpb.DESCRIPTOR
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)


def _theirs(name: str) -> Any:
    """Dapr's generated class (``protos`` re-exports all but the attestation module's)."""
    return getattr(dapr_pb, name, None) or getattr(attestation_pb2, name)


def _type_name(field: Any) -> str | None:
    target = field.message_type or field.enum_type
    if target is None:
        return None
    return target.full_name.removeprefix(OURS.package + ".")


def _oneof(field: Any) -> str | None:
    return field.containing_oneof.name if field.containing_oneof else None


def check_fields(name: str) -> None:
    ours = OURS.message_types_by_name[name]
    theirs = _theirs(name).DESCRIPTOR
    assert sorted(ours.fields_by_number) == sorted(theirs.fields_by_number), name
    for number, field in ours.fields_by_number.items():
        other = theirs.fields_by_number[number]
        mine = (field.name, field.json_name, field.type, field.is_repeated, field.has_presence)
        their = (other.name, other.json_name, other.type, other.is_repeated, other.has_presence)
        assert mine == their, (name, number, mine, their)
        assert _type_name(field) == _type_name(other), (name, number)
        assert _oneof(field) == _oneof(other), (name, number)
        assert field.GetOptions().deprecated == other.GetOptions().deprecated


def check_enum(name: str) -> None:
    ours = [(v.name, v.number) for v in OURS.enum_types_by_name[name].values]
    theirs = [(v.name, v.number) for v in getattr(dapr_pb, name).DESCRIPTOR.values]
    assert ours == theirs, name


def dapr_to_ours(name: str, forced: dict[str, str]) -> None:
    theirs = Filler(forced).fill(_theirs(name)())
    data = ser(theirs)
    mine = getattr(dpb, name).FromString(data)
    assert ser(mine) == data
    assert as_json(mine) == as_json(theirs)  # JSON drops unknown fields: we knew every one
    for oneof, member in forced.items():
        assert mine.WhichOneof(oneof) == member


def ours_to_dapr(name: str, forced: dict[str, str]) -> None:
    mine = Filler(forced).fill(getattr(dpb, name)())
    data = ser(mine)
    theirs = _theirs(name).FromString(data)
    assert ser(theirs) == data
    assert as_json(theirs) == as_json(mine)
    assert ser(Filler(forced).fill(_theirs(name)())) == data


def through_converter(theirs: Any) -> None:
    """Dapr's message, read by our schema, to Microsoft's shape and back: Dapr's bytes."""
    data = ser(theirs)
    mine = getattr(dpb, theirs.DESCRIPTOR.name).FromString(data)
    shaped, extras = dapr_wire.from_dapr(mine)
    back, dropped = dapr_wire.to_dapr(shaped, extras)
    assert dropped is None
    assert ser(back) == data, (back, theirs)


def _helper_messages() -> dict[str, Any]:
    """Messages as Dapr's worker and helpers build them (DAPR.md §6, §7)."""
    scheduled = helpers.new_task_scheduled_event(1, "say", '"bob"')
    scheduled.taskScheduled.taskExecutionId = "98039379-7f5d-5bee-8d61-05a95dd1677e"
    scheduled.router.sourceAppID = "app1"
    started = helpers.new_execution_started_event("wf_main", "i1", '"bob"')
    started.router.sourceAppID = "app1"
    started.router.targetAppID = "app2"
    wf_started = helpers.new_workflow_started_event(T0)
    wf_started.workflowStarted.version.patches.append("p1")
    wf_started.workflowStarted.version.name = "v2"
    timer = dapr_pb.HistoryEvent(eventId=2)
    timer.timerCreated.fireAt.CopyFrom(helpers.new_timestamp(T0 + timedelta(seconds=30)))
    timer.timerCreated.externalEvent.name = "approve"
    sentinel = dapr_pb.HistoryEvent(eventId=3)
    sentinel.timerCreated.fireAt.seconds = dapr_wire.SENTINEL_FIRE_AT_SECONDS
    sentinel.timerCreated.fireAt.nanos = 999_999_999
    sentinel.timerCreated.externalEvent.name = "go"
    completed = helpers.new_task_completed_event(1, '"hi bob"')
    completed.taskCompleted.taskExecutionId = "x-1"
    failed = helpers.new_task_failed_event(1, ValueError("boom"))
    child = helpers.new_child_workflow_created_event(4, "child", "i1:0004", "21")
    child.router.targetAppID = "other-app"
    request = dapr_pb.WorkflowRequest(instanceId="i1", router=dapr_pb.TaskRouter(sourceAppID="a"))
    request.pastEvents.extend([wf_started, started, scheduled, timer, sentinel, child])
    request.newEvents.extend([helpers.new_workflow_started_event(T0), completed, failed])
    task = helpers.new_schedule_task_action(
        1, "say", '"bob"', router=dapr_pb.TaskRouter(sourceAppID="a", targetAppID="b")
    )
    task.scheduleTask.taskExecutionId = "exec-1"
    task.router.sourceAppID = "a"
    timer_action = dapr_pb.WorkflowAction(id=2)
    timer_action.createTimer.fireAt.CopyFrom(helpers.new_timestamp(T0))
    timer_action.createTimer.activityRetry.taskExecutionId = "exec-1"
    done = helpers.new_complete_workflow_action(
        3, dapr_pb.ORCHESTRATION_STATUS_COMPLETED, '"ok"', router=dapr_pb.TaskRouter()
    )
    response = dapr_pb.WorkflowResponse(instanceId="i1", completionToken="7")
    response.actions.extend([task, timer_action, done])
    response.version.patches.append("p1")
    item = dapr_pb.WorkItem(workflowRequest=request, completionToken="10")
    activity = dapr_pb.ActivityRequest(name="say", taskId=1, taskExecutionId="exec-1")
    activity.workflowInstance.instanceId = "i1"
    activity_item = dapr_pb.WorkItem(activityRequest=activity, completionToken="11")
    return {
        "WorkflowRequest": request,
        "WorkItem[workflowRequest]": item,
        "WorkItem[activityRequest]": activity_item,
        "WorkflowResponse": response,
        "ActivityResponse": dapr_pb.ActivityResponse(instanceId="i1", taskId=1),
        "GetWorkItemsRequest": dapr_pb.GetWorkItemsRequest(),
        "WorkflowAction[child]": helpers.new_create_child_workflow_action(
            4, "child", "i1:0004", "21", router=dapr_pb.TaskRouter(targetAppID="b")
        ),
    }


def main() -> int:
    checks: dict[str, Callable[[], None]] = {}
    for name in sorted(OURS.message_types_by_name):
        checks[f"fields:{name}"] = lambda name=name: check_fields(name)  # type: ignore[misc]
        for forced in variants(OURS.message_types_by_name[name]):
            label = name + "".join(f"[{m}]" for m in forced.values())
            checks[f"dapr->ours:{label}"] = lambda n=name, f=forced: dapr_to_ours(n, f)  # type: ignore[misc]
            checks[f"ours->dapr:{label}"] = lambda n=name, f=forced: ours_to_dapr(n, f)  # type: ignore[misc]
    for name in sorted(OURS.enum_types_by_name):
        checks[f"enum:{name}"] = lambda name=name: check_enum(name)  # type: ignore[misc]
    for what, msg in _helper_messages().items():
        checks[f"helpers:{what}"] = lambda msg=msg: through_converter(msg)  # type: ignore[misc]
    results: dict[str, str] = {}
    for case, check in checks.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            results[case] = traceback.format_exc(limit=3)
        else:
            results[case] = "ok"
    assert "durabletask" not in sys.modules, "Dapr's modules and durabletask met in one process"
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
