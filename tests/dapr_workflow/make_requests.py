"""Write the Dapr-encoded requests of ``tests/dapr_workflow/fixtures/requests/`` (rerun to
regenerate).

``python tests/dapr_workflow/make_requests.py`` (Dapr's packages importable; never durabletask: the
two cannot share a process). The requests are built turn by turn the way Dapr's sidecar builds them:
Dapr's own executor (``_OrchestrationExecutor``) answers each turn, and its actions become the next
turn's history events as the sidecar's applier writes them (``eventId`` = action id, the action's
router on the event, the sidecar's app id as the source, no completion markers). Each file is base64
of a ``WorkflowRequest``.

- ``approval-turn3.b64``: an activity routed to app ``billing``, then a wait without timeout
  (Dapr's timer at 9999-12-31), then the event arrives.
- ``deadline-turn3.b64``: the same with a 30 s timeout; another event arrives, the wait stays
  open.
"""

from __future__ import annotations

import base64
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dapr.ext.workflow as wf
from dapr.ext.workflow._durabletask import worker as dw
from dapr.ext.workflow._durabletask.internal import helpers
from dapr.ext.workflow._durabletask.internal import protos as pb

OUT = Path(__file__).resolve().parent / "fixtures" / "requests"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
APP = "orders"

wfr = wf.WorkflowRuntime()


@wfr.workflow(name="approval")
def approval(ctx: wf.DaprWorkflowContext, name: str):
    said = yield ctx.call_activity("say", input=name, app_id="billing")
    answer = yield ctx.wait_for_external_event("go")
    return [said, answer]


@wfr.workflow(name="deadline")
def deadline(ctx: wf.DaprWorkflowContext, name: str):
    said = yield ctx.call_activity("say", input=name, app_id="billing")
    answer = yield ctx.wait_for_external_event("go", timeout=timedelta(seconds=30))
    return [said, answer]


def _registry() -> object:
    return wfr._WorkflowRuntime__worker._registry  # type: ignore[attr-defined]


def _event_for(action: pb.WorkflowAction) -> pb.HistoryEvent:
    """The history event Dapr's applier writes for an action."""
    event = pb.HistoryEvent(eventId=action.id)
    kind = action.WhichOneof("workflowActionType")
    if kind == "scheduleTask":
        task = action.scheduleTask
        event.taskScheduled.name = task.name
        event.taskScheduled.input.CopyFrom(task.input)
        event.taskScheduled.taskExecutionId = task.taskExecutionId
        event.router.CopyFrom(task.router)
        event.router.sourceAppID = APP
    elif kind == "createTimer":
        timer = action.createTimer
        event.timerCreated.fireAt.CopyFrom(timer.fireAt)
        origin = timer.WhichOneof("origin")
        if origin:
            getattr(event.timerCreated, origin).CopyFrom(getattr(timer, origin))
    else:
        raise AssertionError(f"no event for {kind}")
    return event


def _turn(instance: str, past: list, new: list) -> list:
    executor = dw._OrchestrationExecutor(_registry(), logging.getLogger("fixtures"))
    result = executor.execute(instance, past, new)
    return list(result.actions)


def _request(name: str, second_event: pb.HistoryEvent) -> pb.WorkflowRequest:
    instance = f"{name}-1"
    started = helpers.new_execution_started_event(name, instance, '"bob"')
    started.router.sourceAppID = APP
    past: list = []
    new = [helpers.new_workflow_started_event(T0), started]
    for step, completion in enumerate(
        [helpers.new_task_completed_event(1, '"hi bob"'), second_event], start=1
    ):
        actions = _turn(instance, past, new)
        past = past + new + [_event_for(a) for a in actions]
        if completion.HasField("taskCompleted"):
            scheduled = next(e for e in past if e.HasField("taskScheduled"))
            completion.taskCompleted.taskExecutionId = scheduled.taskScheduled.taskExecutionId
            completion.router.CopyFrom(scheduled.router)
        new = [helpers.new_workflow_started_event(T0 + timedelta(seconds=step)), completion]
    _turn(instance, past, new)  # Dapr's executor takes the request as it is
    request = pb.WorkflowRequest(instanceId=instance, pastEvents=past, newEvents=new)
    request.router.sourceAppID = APP
    return request


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        "approval-turn3.b64": _request("approval", helpers.new_event_raised_event("go", '"yes"')),
        "deadline-turn3.b64": _request("deadline", helpers.new_event_raised_event("nudge")),
    }
    for name, request in files.items():
        data = base64.b64encode(request.SerializeToString()) + b"\n"
        (OUT / name).write_bytes(data)
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
