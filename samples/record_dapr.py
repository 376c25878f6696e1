"""Record Dapr workflow turns: the requests Dapr's worker receives, and what its executor answers.

No Dapr sidecar (daprd) runs here, so this module plays the sidecar's part: it keeps each
instance's history the way Dapr's sidecar writes it (``DAPR.md`` §6: ``taskScheduled`` with
the task execution id and the router, timers with their origin, no completion markers,
continue-as-new restarting the history with the carried-over events) and hands every turn to
Dapr's own executor (``_OrchestrationExecutor`` of ``dapr.ext.workflow._durabletask.worker``)
with the workflows and activities of :mod:`samples.dapr_workflows`, registered by Dapr's
``WorkflowRuntime``. Activities run through the runtime's own wrappers. Each turn's
``WorkflowRequest`` and Dapr's ``WorkflowResponse`` (both in Dapr's encoding) are written as
``<scenario>[-child<N>]-turn<N>.b64`` and ``...response.b64``, listed in ``INDEX.json``.

This must run in a process without Microsoft's durabletask package loaded (the two register
clashing protobuf symbols)::

    python -m samples.record_dapr [--out samples/dapr_requests]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import site
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dapr.ext.workflow._durabletask.internal.helpers as ph
import dapr.ext.workflow._durabletask.internal.protos as pb
from dapr.ext.workflow._durabletask import task
from dapr.ext.workflow._durabletask import worker as dw
from dapr.ext.workflow._durabletask.internal import shared
from google.protobuf import json_format, timestamp_pb2, wrappers_pb2

from samples import dapr_workflows as app

DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "dapr_requests"
APP_ID = "inspector-demo"
T0 = datetime(2026, 1, 1, 12, 0, 0)
_SENTINEL = 253_402_300_799


def _registry() -> Any:
    return app.wfr._WorkflowRuntime__worker._registry  # type: ignore[attr-defined]


def _event(clock: datetime, **kind: Any) -> Any:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(clock)
    return pb.HistoryEvent(eventId=kind.pop("eventId", -1), timestamp=ts, **kind)


def _started(clock: datetime, name: str, instance_id: str, encoded: str | None) -> list[Any]:
    start = _event(
        clock,
        executionStarted=pb.ExecutionStartedEvent(
            name=name,
            input=wrappers_pb2.StringValue(value=encoded) if encoded is not None else None,
            workflowInstance=pb.WorkflowInstance(instanceId=instance_id),
        ),
        router=pb.TaskRouter(sourceAppID=APP_ID),
    )
    return [_event(clock, workflowStarted=pb.WorkflowStartedEvent()), start]


def _scrubbed(msg: Any) -> bytes:
    """The message's bytes, its stack traces naming files relative to where they live (no
    machine paths in the recordings)."""
    text = json_format.MessageToJson(msg)
    for root in sorted(
        {str(Path(__file__).resolve().parents[1]), *site.getsitepackages()}, key=len
    )[::-1]:
        text = text.replace(json.dumps(root + "/")[1:-1], "")
    copy = type(msg)()
    json_format.Parse(text, copy)
    return copy.SerializeToString()  # type: ignore[no-any-return]


class Recorder:
    """Runs one scenario's instances to the end, recording every turn."""

    def __init__(self, scenario: str, spec: dict[str, Any]) -> None:
        self.scenario = scenario
        self.spec = spec
        self.events = list(spec["events"])
        self.patches: list[str] = []
        self.early = list(spec.get("early", []))
        """Events raised with the first answers, before anything waits for them."""
        self.timeout_first = bool(spec.get("timeout_first"))
        """Fire an event wait's timer rather than raise the event."""
        self.turns: list[tuple[str, bytes, bytes]] = []
        self.clock = T0
        self.children = 0
        self.logger = logging.getLogger("record_dapr")

    def run(self, name: str, instance_id: str, value: Any, label: str) -> Any:
        """Drive one instance to its end; return its completion action."""
        past: list[Any] = []
        new = _started(self.clock, name, instance_id, shared.to_json(value))
        turn = 0
        while new:
            turn += 1
            request = pb.WorkflowRequest(instanceId=instance_id, pastEvents=past, newEvents=new)
            result = dw._OrchestrationExecutor(_registry(), self.logger).execute(
                instance_id, past, new
            )
            version = None  # as Dapr's worker fills it from the executor's results
            if result.version_name or result.patches:
                version = pb.WorkflowVersion(patches=result.patches)
                if result.version_name:
                    version.name = result.version_name
                self.patches.extend(p for p in result.patches if p not in self.patches)
            response = pb.WorkflowResponse(
                instanceId=instance_id,
                actions=result.actions,
                customStatus=ph.get_string_value(result.encoded_custom_status),
                version=version,
            )
            self.turns.append((f"{label}-turn{turn}", _scrubbed(request), _scrubbed(response)))
            past = past + new
            self.clock += timedelta(seconds=1)
            done = [a for a in result.actions if a.HasField("completeWorkflow")]
            if done:
                status = done[0].completeWorkflow.workflowStatus
                if status != pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW:
                    return done[0]
                body = done[0].completeWorkflow
                past = []
                new = _started(
                    self.clock,
                    name,
                    instance_id,
                    body.result.value if body.HasField("result") else None,
                )
                new.extend(body.carryoverEvents)
                continue
            past.extend(self._write(result.actions, instance_id))
            new = self._answers(result.actions, instance_id, label)
        return None

    def _write(self, actions: list[Any], instance_id: str) -> list[Any]:
        """The events the sidecar writes for a turn's actions."""
        out = []
        for a in actions:
            if a.HasField("scheduleTask"):
                st = a.scheduleTask
                scheduled = pb.TaskScheduledEvent(
                    name=st.name, input=st.input, taskExecutionId=st.taskExecutionId
                )
                out.append(
                    _event(self.clock, eventId=a.id, taskScheduled=scheduled, router=st.router)
                )
            elif a.HasField("createTimer"):
                ct = a.createTimer
                created = pb.TimerCreatedEvent(fireAt=ct.fireAt)
                kind = ct.WhichOneof("origin")
                if kind:
                    getattr(created, kind).CopyFrom(getattr(ct, kind))
                out.append(_event(self.clock, eventId=a.id, timerCreated=created))
            elif a.HasField("createChildWorkflow"):
                cw = a.createChildWorkflow
                created_child = pb.ChildWorkflowInstanceCreatedEvent(
                    name=cw.name, instanceId=cw.instanceId, input=cw.input
                )
                out.append(
                    _event(self.clock, eventId=a.id, childWorkflowInstanceCreated=created_child)
                )
        return out

    def _answers(self, actions: list[Any], instance_id: str, label: str) -> list[Any]:
        """The next turn's new events: task results first, then one fired timer or event."""
        results = []
        for a in actions:
            if a.HasField("scheduleTask"):
                results.append(self._activity(a, instance_id))
            elif a.HasField("createChildWorkflow"):
                results.append(self._child(a, label))
        for name, data in self.early:
            raised = pb.EventRaisedEvent(name=name, input=ph.get_string_value(shared.to_json(data)))
            results.append(_event(self.clock, eventRaised=raised))
        self.early = []
        timers = [a for a in actions if a.HasField("createTimer")]
        if not results and timers:
            waits = [t for t in timers if t.createTimer.WhichOneof("origin") == "externalEvent"]
            if self.timeout_first and waits and waits[0].createTimer.fireAt.seconds != _SENTINEL:
                fire = waits[0].createTimer.fireAt
                results.append(
                    _event(
                        self.clock, timerFired=pb.TimerFiredEvent(fireAt=fire, timerId=waits[0].id)
                    )
                )
            elif waits and self.events:
                name, data = self.events.pop(0)
                raised = pb.EventRaisedEvent(
                    name=name, input=ph.get_string_value(shared.to_json(data))
                )
                results.append(_event(self.clock, eventRaised=raised))
            else:
                real = [t for t in timers if t.createTimer.fireAt.seconds != _SENTINEL]
                for t in real[:1]:
                    fired = pb.TimerFiredEvent(fireAt=t.createTimer.fireAt, timerId=t.id)
                    results.append(_event(self.clock, timerFired=fired))
        if not results:
            return []
        started = pb.WorkflowStartedEvent()
        if self.patches:  # the sidecar tells later turns which patches history applied
            started.version.patches.extend(self.patches)
        return [_event(self.clock, workflowStarted=started), *results]

    def _activity(self, a: Any, instance_id: str) -> Any:
        st = a.scheduleTask
        fn = _registry().activities[st.name]
        value = shared.from_json(st.input.value) if st.input.value else None
        ctx = task.ActivityContext(instance_id, a.id, st.taskExecutionId)
        try:
            output = fn(ctx, value)
        except Exception as ex:  # noqa: BLE001 - the activity's failure is its answer
            failed = pb.TaskFailedEvent(
                taskScheduledId=a.id,
                failureDetails=ph.new_failure_details(ex),
                taskExecutionId=st.taskExecutionId,
            )
            return _event(self.clock, taskFailed=failed)
        done = pb.TaskCompletedEvent(
            taskScheduledId=a.id,
            result=ph.get_string_value(shared.to_json(output) if output is not None else None),
            taskExecutionId=st.taskExecutionId,
        )
        return _event(self.clock, taskCompleted=done)

    def _child(self, a: Any, label: str) -> Any:
        cw = a.createChildWorkflow
        self.children += 1
        value = shared.from_json(cw.input.value) if cw.input.value else None
        done = self.run(cw.name, cw.instanceId, value, f"{self.scenario}-child{self.children}")
        body = done.completeWorkflow if done is not None else None
        if body is not None and body.workflowStatus == pb.ORCHESTRATION_STATUS_COMPLETED:
            completed = pb.ChildWorkflowInstanceCompletedEvent(
                taskScheduledId=a.id, result=body.result
            )
            return _event(self.clock, childWorkflowInstanceCompleted=completed)
        failure = body.failureDetails if body is not None else pb.TaskFailureDetails()
        failed = pb.ChildWorkflowInstanceFailedEvent(taskScheduledId=a.id, failureDetails=failure)
        return _event(self.clock, childWorkflowInstanceFailed=failed)


def record(scenario: str) -> list[tuple[str, bytes, bytes]]:
    """Every turn of one scenario: (name, request bytes, response bytes)."""
    spec = app.SCENARIOS[scenario]
    recorder = Recorder(scenario, spec)
    app._FLAKY_CALLS.clear()
    recorder.run(spec["workflow"], f"{scenario}-1", spec["input"], scenario)
    return recorder.turns


def write_all(out: Path) -> list[dict[str, str]]:
    """Record every scenario into ``out``; return the index entries."""
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for scenario in app.SCENARIOS:
        for name, request, response in record(scenario):
            (out / f"{name}.b64").write_text(base64.b64encode(request).decode() + "\n")
            (out / f"{name}.response.b64").write_text(base64.b64encode(response).decode() + "\n")
            index.append(
                {"scenario": scenario, "request": f"{name}.b64", "response": f"{name}.response.b64"}
            )
    (out / "INDEX.json").write_text(json.dumps(index, indent=2) + "\n")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    index = write_all(args.out)
    print(f"recorded {len(index)} Dapr turns into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
