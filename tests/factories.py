"""Factories for history events (our protobuf) and a side-by-side runner against the SDK.

Engine tests follow the durabletask SDK's own pattern: an orchestrator defined inline, events
from these factories, execute, assert on actions. :func:`both` runs the same orchestrator and
events through our ``replay_request`` and through the SDK's private executor (tests only), so a
test can assert that the two answers are equal and also assert on specific actions.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from google.protobuf import timestamp_pb2, wrappers_pb2
from replay_compare import normalized

from engine.app_loader import UserApp
from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import ReplayOutcome, ReplaySession, replay_request

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
"""The default turn clock."""

COMPLETED = 1
CONTINUED_AS_NEW = 2
FAILED = 3
TERMINATED = 5


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _event(event_id: int = -1, ts: datetime | None = None, **member: Any) -> pb.HistoryEvent:
    ev = pb.HistoryEvent(eventId=event_id, **member)
    if ts is not None:
        ev.timestamp.FromDatetime(_aware(ts))
    return ev


def _sv(value: str | None) -> Any:
    """A ``StringValue`` wrapper (``None`` when absent), as the wire carries payloads."""
    return None if value is None else wrappers_pb2.StringValue(value=value)


def _timestamp(value: datetime) -> Any:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(_aware(value))
    return ts


def failure_details(
    message: str,
    error_type: str = "builtins.ValueError",
    inner: pb.TaskFailureDetails | None = None,
) -> pb.TaskFailureDetails:
    """A ``TaskFailureDetails`` message."""
    details = pb.TaskFailureDetails(errorType=error_type, errorMessage=message)
    if inner is not None:
        details.innerFailure.CopyFrom(inner)
    return details


# --- events ------------------------------------------------------------------------------------


def orchestrator_started(ts: datetime = T0, *, event_id: int = -1) -> pb.HistoryEvent:
    """A turn began at ``ts`` (naive values are taken as UTC)."""
    return _event(event_id, ts, orchestratorStarted=pb.OrchestratorStartedEvent())


def orchestrator_completed(*, event_id: int = -1, ts: datetime | None = None) -> pb.HistoryEvent:
    """A turn ended."""
    return _event(event_id, ts, orchestratorCompleted=pb.OrchestratorCompletedEvent())


def started(
    name: str,
    input: str | None = None,
    instance: str = "abc",
    *,
    version: str | None = None,
    parent: str | None = None,
    parent_task_id: int = 0,
    event_id: int = -1,
    ts: datetime | None = None,
) -> pb.HistoryEvent:
    """``executionStarted`` of orchestrator ``name``; ``input`` is JSON text."""
    body = pb.ExecutionStartedEvent(
        name=name,
        version=_sv(version),
        input=_sv(input),
        orchestrationInstance=pb.OrchestrationInstance(instanceId=instance),
    )
    if parent is not None:
        body.parentInstance.taskScheduledId = parent_task_id
        body.parentInstance.orchestrationInstance.instanceId = parent
    return _event(event_id, ts, executionStarted=body)


def task_scheduled(
    id: int, name: str, input: str | None = None, *, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``taskScheduled`` echoing action ``id``."""
    return _event(id, ts, taskScheduled=pb.TaskScheduledEvent(name=name, input=_sv(input)))


def task_completed(
    id: int, result: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``taskCompleted`` of the task scheduled as ``id``; ``result`` is JSON text."""
    body = pb.TaskCompletedEvent(taskScheduledId=id, result=_sv(result))
    return _event(event_id, ts, taskCompleted=body)


def task_failed(
    id: int,
    message: str,
    error_type: str = "builtins.ValueError",
    *,
    event_id: int = -1,
    ts: datetime | None = None,
) -> pb.HistoryEvent:
    """``taskFailed`` of the task scheduled as ``id``."""
    body = pb.TaskFailedEvent(
        taskScheduledId=id, failureDetails=failure_details(message, error_type)
    )
    return _event(event_id, ts, taskFailed=body)


def timer_created(id: int, fire_at: datetime, *, ts: datetime | None = None) -> pb.HistoryEvent:
    """``timerCreated`` echoing action ``id``."""
    return _event(id, ts, timerCreated=pb.TimerCreatedEvent(fireAt=_timestamp(fire_at)))


def timer_fired(
    id: int, fire_at: datetime, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``timerFired`` of timer ``id``."""
    body = pb.TimerFiredEvent(timerId=id, fireAt=_timestamp(fire_at))
    return _event(event_id, ts, timerFired=body)


def event_raised(
    name: str, data: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``eventRaised`` named ``name``; ``data`` is JSON text."""
    return _event(event_id, ts, eventRaised=pb.EventRaisedEvent(name=name, input=_sv(data)))


def event_sent(
    id: int, target: str, name: str, data: str | None = None, *, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``eventSent`` echoing action ``id``."""
    body = pb.EventSentEvent(instanceId=target, name=name, input=_sv(data))
    return _event(id, ts, eventSent=body)


def sub_created(
    id: int, name: str, instance: str, input: str | None = None, *, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``subOrchestrationInstanceCreated`` echoing action ``id``."""
    body = pb.SubOrchestrationInstanceCreatedEvent(instanceId=instance, name=name, input=_sv(input))
    return _event(id, ts, subOrchestrationInstanceCreated=body)


def sub_completed(
    id: int, result: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``subOrchestrationInstanceCompleted`` of the sub-orchestration created as ``id``."""
    body = pb.SubOrchestrationInstanceCompletedEvent(taskScheduledId=id, result=_sv(result))
    return _event(event_id, ts, subOrchestrationInstanceCompleted=body)


def sub_failed(
    id: int,
    message: str,
    error_type: str = "builtins.ValueError",
    *,
    event_id: int = -1,
    ts: datetime | None = None,
) -> pb.HistoryEvent:
    """``subOrchestrationInstanceFailed`` of the sub-orchestration created as ``id``."""
    body = pb.SubOrchestrationInstanceFailedEvent(
        taskScheduledId=id, failureDetails=failure_details(message, error_type)
    )
    return _event(event_id, ts, subOrchestrationInstanceFailed=body)


def suspended(
    reason: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``executionSuspended``."""
    return _event(event_id, ts, executionSuspended=pb.ExecutionSuspendedEvent(input=_sv(reason)))


def resumed(
    reason: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``executionResumed``."""
    return _event(event_id, ts, executionResumed=pb.ExecutionResumedEvent(input=_sv(reason)))


def terminated(
    output: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """``executionTerminated``; ``output`` is the raw termination output."""
    body = pb.ExecutionTerminatedEvent(input=_sv(output))
    return _event(event_id, ts, executionTerminated=body)


def execution_completed(
    status: int,
    result: str | None = None,
    failure: pb.TaskFailureDetails | None = None,
    *,
    event_id: int = -1,
    ts: datetime | None = None,
) -> pb.HistoryEvent:
    """``executionCompleted`` with an ``OrchestrationStatus`` number."""
    body = pb.ExecutionCompletedEvent(orchestrationStatus=status, result=_sv(result))  # type: ignore[arg-type]
    if failure is not None:
        body.failureDetails.CopyFrom(failure)
    return _event(event_id, ts, executionCompleted=body)


def history_state(*, event_id: int = -1, ts: datetime | None = None) -> pb.HistoryEvent:
    """``historyState`` (the SDK does not know how to handle it)."""
    return _event(event_id, ts, historyState=pb.HistoryStateEvent())


def continue_as_new_event(
    input: str | None = None, *, event_id: int = -1, ts: datetime | None = None
) -> pb.HistoryEvent:
    """A ``continueAsNew`` history event (the SDK does not know how to handle it)."""
    return _event(event_id, ts, continueAsNew=pb.ContinueAsNewEvent(input=_sv(input)))


def unknown(field_number: int, *, event_id: int = -1) -> pb.HistoryEvent:
    """An event whose oneof member is ``field_number``, unknown to the schema (0: unset)."""
    base = pb.HistoryEvent(eventId=event_id).SerializeToString()
    if field_number:
        # An empty length-delimited field: tag (field_number << 3 | 2) as a varint, then 0.
        tag = field_number << 3 | 2
        raw = bytearray()
        while tag > 0x7F:
            raw.append(tag & 0x7F | 0x80)
            tag >>= 7
        raw.append(tag)
        base += bytes(raw) + b"\x00"
    return pb.HistoryEvent.FromString(base)


def request(
    past: Sequence[pb.HistoryEvent], new: Sequence[pb.HistoryEvent], instance: str = "abc"
) -> OrchestrationRequest:
    """The ``OrchestrationRequest`` of one turn."""
    msg = pb.OrchestratorRequest(instanceId=instance, pastEvents=past, newEvents=new)
    return OrchestrationRequest.from_proto(msg)


# --- running ours and the SDK's executor side by side -----------------------------------------


def app_of(*functions: Callable[..., Any]) -> UserApp:
    """A ``UserApp`` offering inline functions under their ``__name__``."""
    return UserApp("test", types.ModuleType("t"), {fn.__name__: fn for fn in functions})


def to_sdk(events: Iterable[pb.HistoryEvent]) -> list[Any]:
    """The same events as the SDK's protobuf messages (converted by bytes)."""
    from durabletask.internal import orchestrator_service_pb2 as sdk_pb

    return [sdk_pb.HistoryEvent.FromString(ev.SerializeToString()) for ev in events]


def sdk_response(
    orchestrators: Sequence[Callable[..., Any]],
    past: Sequence[pb.HistoryEvent],
    new: Sequence[pb.HistoryEvent],
    *,
    instance: str = "abc",
    maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
) -> pb.OrchestratorResponse:
    """The SDK executor's response to a turn, as our protobuf."""
    from durabletask import worker
    from durabletask.internal import orchestrator_service_pb2 as sdk_pb
    from durabletask.serialization import DEFAULT_DATA_CONVERTER

    registry = worker._Registry()
    for fn in orchestrators:
        registry.add_orchestrator(fn)
    logger = logging.getLogger("tests.engine.sdk")
    logger.setLevel(logging.CRITICAL)
    executor = worker._OrchestrationExecutor(
        registry, logger, DEFAULT_DATA_CONVERTER, maximum_timer_interval=maximum_timer_interval
    )
    result = executor.execute(instance, to_sdk(past), to_sdk(new))
    theirs = sdk_pb.OrchestratorResponse(instanceId=instance, actions=result.actions)
    if result.encoded_custom_status is not None:
        theirs.customStatus.value = result.encoded_custom_status
    return pb.OrchestratorResponse.FromString(theirs.SerializeToString())


@dataclass(frozen=True)
class Both:
    """Our answer and the SDK's to the same turn, normalized."""

    ours: dict[str, Any]
    sdk: dict[str, Any]
    outcome: ReplayOutcome
    """Our full outcome (non-determinism view, failed flag, actions)."""

    @property
    def actions(self) -> list[dict[str, Any]]:
        """Our actions, as dicts."""
        return list(self.ours.get("actions", []))

    @property
    def kinds(self) -> list[str]:
        """Our actions' kinds with their ids, e.g. ``["scheduleTask#1"]``."""
        return [f"{kind_of(a)}#{a.get('id', 0)}" for a in self.actions]

    @property
    def completion(self) -> dict[str, Any] | None:
        """Our ``completeOrchestration`` action body, if any."""
        for a in self.actions:
            if "completeOrchestration" in a:
                return dict(a["completeOrchestration"])
        return None

    @property
    def custom_status(self) -> str | None:
        """Our response's custom status."""
        value = self.ours.get("customStatus")
        return None if value is None else str(value)

    @property
    def same(self) -> bool:
        """Whether our response equals the SDK's."""
        return self.ours == self.sdk


def kind_of(action: dict[str, Any]) -> str:
    """The oneof member name of an action dict."""
    return next(k for k in action if k not in ("id", "router"))


def both(
    orchestrator: Callable[..., Any],
    past: Sequence[pb.HistoryEvent],
    new: Sequence[pb.HistoryEvent],
    *,
    instance: str = "abc",
    others: Sequence[Callable[..., Any]] = (),
    maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
) -> Both:
    """Run ``orchestrator`` on one turn with our ``replay_request`` and with the SDK executor.

    ``others`` are more functions our app offers (and the SDK registry holds as orchestrators).
    """
    app = app_of(orchestrator, *others)
    outcome = replay_request(
        request(past, new, instance), app, maximum_timer_interval=maximum_timer_interval
    )
    theirs = sdk_response(
        [orchestrator, *others],
        past,
        new,
        instance=instance,
        maximum_timer_interval=maximum_timer_interval,
    )
    return Both(normalized(outcome.response), normalized(theirs), outcome)


def session(
    orchestrator: Callable[..., Any] | None,
    past: Sequence[pb.HistoryEvent],
    new: Sequence[pb.HistoryEvent],
    *,
    instance: str = "abc",
    others: Sequence[Callable[..., Any]] = (),
    **kw: Any,
) -> ReplaySession:
    """A ``ReplaySession`` of one turn (history-only when ``orchestrator`` is ``None``)."""
    app = None if orchestrator is None else app_of(orchestrator, *others)
    return ReplaySession(request(past, new, instance), app, **kw)


def ours(
    orchestrator: Callable[..., Any],
    past: Sequence[pb.HistoryEvent],
    new: Sequence[pb.HistoryEvent],
    *,
    strict: bool = False,
    **kw: Any,
) -> tuple[dict[str, Any], ReplayOutcome]:
    """Only our answer (normalized) and outcome, through a session (so ``strict`` applies)."""
    outcome = session(orchestrator, past, new, strict=strict, **kw).outcome()
    return normalized(outcome.response), outcome


def history_after(
    past: Sequence[pb.HistoryEvent],
    new: Sequence[pb.HistoryEvent],
    response: dict[str, Any],
) -> list[pb.HistoryEvent]:
    """The past events of the next turn, as a backend writes them after this turn's response.

    New events are appended, every action becomes its scheduling event (``eventId`` = action id)
    and ``orchestratorCompleted`` closes the turn (``executionCompleted`` first when terminal).
    """
    out = [*past, *new]
    for action in response.get("actions", []):
        aid = int(action.get("id", 0))
        kind = kind_of(action)
        body = action[kind]
        if kind == "scheduleTask":
            out.append(task_scheduled(aid, body["name"], body.get("input")))
        elif kind == "createTimer":
            fire_at = datetime.fromisoformat(body["fireAt"].replace("Z", "+00:00"))
            out.append(timer_created(aid, fire_at))
        elif kind == "createSubOrchestration":
            out.append(sub_created(aid, body["name"], body["instanceId"], body.get("input")))
        elif kind == "sendEvent":
            target = body["instance"]["instanceId"]
            out.append(event_sent(aid, target, body["name"], body.get("data")))
        elif kind == "completeOrchestration":
            status = pb.OrchestrationStatus.Value(body["orchestrationStatus"])
            out.append(execution_completed(status, body.get("result"), event_id=aid))
    out.append(orchestrator_completed())
    return out


def turns(
    orchestrator: Callable[..., Any],
    batches: Sequence[Sequence[pb.HistoryEvent]],
    **kw: Any,
) -> list[Both]:
    """Run several turns in a row, each one's history built from the previous responses.

    Every turn must give the SDK's answer; the answers are returned for specific checks.
    """
    past: list[pb.HistoryEvent] = []
    out: list[Both] = []
    for number, new in enumerate(batches, start=1):
        result = both(orchestrator, past, new, **kw)
        assert result.ours == result.sdk, f"turn {number}: ours != SDK"
        out.append(result)
        past = history_after(past, new, result.ours)
    return out
