"""Entity replay rules on hand-built histories, compared with the SDK executor side by side.

Each case runs the same orchestrator over the same events through the SDK's
``_OrchestrationExecutor`` (the reference, used only in tests) and through our replay, and
compares the responses field by field; non-determinism must also be explained (which event,
what the code asked, which line).
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable
from typing import Any

import durabletask.internal.orchestrator_service_pb2 as sdk_pb
from durabletask import task
from durabletask import worker as dt_worker
from durabletask.entities import EntityInstanceId
from durabletask.serialization import DEFAULT_DATA_CONVERTER
from replay_compare import normalized

from engine import replay_request
from engine.app_loader import UserApp
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb

COUNTER = EntityInstanceId("counter", "k")
OTHER = EntityInstanceId("counter", "other")


def _started(name: str, ts: int = 1_700_000_000) -> list[pb.HistoryEvent]:
    first = pb.HistoryEvent(eventId=-1)
    first.timestamp.seconds = ts
    first.orchestratorStarted.SetInParent()
    start = pb.HistoryEvent(eventId=-1)
    start.timestamp.seconds = ts
    start.executionStarted.name = name
    start.executionStarted.orchestrationInstance.instanceId = "o1"
    return [first, start]


def _event(event_id: int = -1, **kind: Any) -> pb.HistoryEvent:
    ev = pb.HistoryEvent(eventId=event_id)
    ev.timestamp.seconds = 1_700_000_001
    ((field, value),) = kind.items()
    getattr(ev, field).CopyFrom(value)
    return ev


def _both(
    fn: Callable[..., Any], past: list[pb.HistoryEvent], new: list[pb.HistoryEvent]
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    request = pb.OrchestratorRequest(instanceId="o1")
    request.pastEvents.extend(past)
    request.newEvents.extend(new)
    app = UserApp("test", types.ModuleType("test"), {fn.__name__: fn})
    outcome = replay_request(OrchestrationRequest.from_proto(request), app)
    registry = dt_worker._Registry()
    registry.add_orchestrator(fn)
    executor = dt_worker._OrchestrationExecutor(
        registry, logging.getLogger("sdk-reference"), DEFAULT_DATA_CONVERTER
    )

    def sdk(events: list[pb.HistoryEvent]) -> list[Any]:
        return [sdk_pb.HistoryEvent.FromString(e.SerializeToString()) for e in events]

    result = executor.execute("o1", sdk(past), sdk(new))
    theirs = pb.OrchestratorResponse(instanceId="o1")
    for action in result.actions:
        theirs.actions.add().ParseFromString(action.SerializeToString())
    if result.encoded_custom_status is not None:
        theirs.customStatus.value = result.encoded_custom_status
    return normalized(outcome.response), normalized(theirs), outcome


def _first_turn(fn: Callable[..., Any]) -> tuple[dict[str, Any], dict[str, Any], Any]:
    return _both(fn, [], _started(fn.__name__))


def _call_message(fn: Callable[..., Any]) -> Any:
    ours, _, _ = _first_turn(fn)
    return ours["actions"][0]["sendEntityMessage"]


def call_then_return(ctx: task.OrchestrationContext, _: Any) -> Any:
    value = yield ctx.call_entity(COUNTER, "get")
    return value


def signal_only(ctx: task.OrchestrationContext, _: Any) -> Any:
    ctx.signal_entity(COUNTER, "add", 1)
    yield ctx.create_timer(ctx.current_utc_datetime)
    return "done"


def call_before_grant(ctx: task.OrchestrationContext, _: Any) -> Any:
    ctx.lock_entities([COUNTER])
    yield ctx.call_entity(COUNTER, "get")


def signal_locked(ctx: task.OrchestrationContext, _: Any) -> Any:
    with (yield ctx.lock_entities([COUNTER, OTHER])):
        ctx.signal_entity(COUNTER, "add", 1)


def nested_lock(ctx: task.OrchestrationContext, _: Any) -> Any:
    with (yield ctx.lock_entities([COUNTER])):
        yield ctx.lock_entities([OTHER])


def empty_lock(ctx: task.OrchestrationContext, _: Any) -> Any:
    yield ctx.lock_entities([])


def lock_then_continue(ctx: task.OrchestrationContext, n: Any) -> Any:
    with (yield ctx.lock_entities([OTHER, COUNTER, COUNTER])):
        ctx.continue_as_new(1)
    return None


def _called(request_id: str, op: str = "get") -> Any:
    return _event(
        1,
        entityOperationCalled=pb.EntityOperationCalledEvent(
            requestId=request_id, operation=op, targetInstanceId={"value": str(COUNTER)}
        ),
    )


def test_first_turns_equal_the_sdk() -> None:
    for fn in (
        call_then_return,
        signal_only,
        call_before_grant,
        nested_lock,
        empty_lock,
    ):
        ours, theirs, _ = _first_turn(fn)
        assert ours == theirs, fn.__name__
    ours, _, _ = _first_turn(call_before_grant)
    kinds = [a.get("sendEntityMessage", {}).keys() for a in ours["actions"]]
    assert [list(k) for k in kinds[:2]] == [["entityLockRequested"], ["entityUnlockSent"]]


def test_completed_call_and_lock_paths_equal_the_sdk() -> None:
    request_id = _call_message(call_then_return)["entityOperationCalled"]["requestId"]
    done = _event(
        entityOperationCompleted=pb.EntityOperationCompletedEvent(
            requestId=request_id, output={"value": "42"}
        )
    )
    ours, theirs, outcome = _both(
        call_then_return, _started("call_then_return"), [_called(request_id), done]
    )
    assert ours == theirs
    assert ours["actions"][0]["completeOrchestration"]["result"] == "42"
    for fn in (signal_locked, lock_then_continue):
        section = _call_message(fn)["entityLockRequested"]
        requested = _event(
            1,
            entityLockRequested=pb.EntityLockRequestedEvent(
                criticalSectionId=section["criticalSectionId"], lockSet=section["lockSet"]
            ),
        )
        granted = _event(
            entityLockGranted=pb.EntityLockGrantedEvent(
                criticalSectionId=section["criticalSectionId"]
            )
        )
        ours, theirs, _ = _both(fn, _started(fn.__name__), [requested, granted])
        assert ours == theirs, fn.__name__
        assert any("entityUnlockSent" in a.get("sendEntityMessage", {}) for a in ours["actions"])


def test_unknown_replies_and_grants_are_handled_as_the_sdk_does() -> None:
    unknown = _event(entityOperationCompleted=pb.EntityOperationCompletedEvent(requestId="nobody"))
    ours, theirs, outcome = _both(call_then_return, _started("call_then_return"), [unknown])
    assert ours == theirs
    assert "Could not parse entity ID from request ID 'nobody'" in str(ours)
    grant = _event(entityLockGranted=pb.EntityLockGrantedEvent(criticalSectionId="nobody"))
    ours, theirs, _ = _both(signal_locked, _started("signal_locked"), [grant])
    assert ours == theirs


def test_an_entity_action_mismatch_is_explained() -> None:
    request_id = _call_message(call_then_return)["entityOperationCalled"]["requestId"]
    signaled = _event(
        1,
        entityOperationSignaled=pb.EntityOperationSignaledEvent(
            requestId=request_id, operation="get", targetInstanceId={"value": str(COUNTER)}
        ),
    )
    ours, theirs, outcome = _both(call_then_return, _started("call_then_return"), [signaled])
    assert ours == theirs
    found = outcome.nondeterminism
    assert found is not None
    assert found.recorded.startswith("entityOperationSignaled #1")
    assert "entityOperationCalled #1 'get'" in found.asked
    assert found.location is not None and found.location.function == "call_then_return"
    assert "called signal_entity with ID=1" in found.message
    assert "call_entity" in found.message
    ours, theirs, outcome = _both(signal_only, _started("signal_only"), [_called(request_id)])
    assert ours == theirs
    assert outcome.nondeterminism is not None
