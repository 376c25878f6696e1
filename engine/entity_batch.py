"""Run one entity batch (``entityRequest`` or ``entityRequestV2``) with the user's entities.

:func:`run_batch` gives the ``EntityBatchResult`` the SDK's worker gives for the same work item
(one result per operation in order, committed actions only, the final state, the operation
infos of a V2 request), and one :class:`OperationStep` per operation (the state before and
after, the result or the failure), which is what the entity-batch view steps through.

One deliberate difference: a malformed entity id makes the SDK's worker abandon the batch, and
the sidecar redelivers it at once, forever; here every operation fails with that error instead.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from durabletask.entities import DurableEntity, EntityContext, EntityInstanceId
from durabletask.serialization import DEFAULT_DATA_CONVERTER

from engine.failures import failure_from_exception
from engine.history import FailureDetails
from engine.proto import orchestrator_service_pb2 as pb

try:  # the SDK's input-type discovery keeps decoded inputs equal to its worker's
    from durabletask.internal import type_discovery as _type_discovery
except ImportError:  # pragma: no cover - older SDKs
    _type_discovery = None  # type: ignore[assignment]

_CONVERTER = DEFAULT_DATA_CONVERTER
_REQUIRED: dict[tuple[type, str], bool] = {}


def _not_registered(name: str) -> Exception:
    # The SDK's own error type names the failure; its module is heavy, so only this pays for it.
    from durabletask.worker import EntityNotRegisteredError

    return EntityNotRegisteredError(f"Entity function named '{name}' was not registered!")


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a batch, whichever shape the request had."""

    request_id: str
    name: str
    input: str | None
    caller: pb.OrchestrationInstance | None = None
    """For a call in a V2 request: where the reply goes (``None`` for a signal)."""


@dataclass(frozen=True, slots=True)
class OperationStep:
    """What one operation did: the state before and after, and its result or failure."""

    operation: Operation
    state_before: str | None
    state_after: str | None
    result: str | None
    failure: FailureDetails | None
    actions: tuple[str, ...]
    """The actions it asked for (signals, new orchestrations), one line each."""


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """A batch's answer and its steps."""

    result: pb.EntityBatchResult
    steps: tuple[OperationStep, ...]
    entity_id: str


class BatchState:
    """An entity's state during a batch, always held as its JSON text; commit and rollback."""

    def __init__(self, text: str | None) -> None:
        self._current = text
        self._checkpoint = text
        self._actions: list[Any] = []
        self._committed = 0

    def get_state(self, intended_type: type | None = None, default: Any = None) -> Any:
        if self._current is None:
            return default
        if intended_type is None:
            return _CONVERTER.deserialize(self._current)
        value = _CONVERTER.deserialize(self._current, intended_type)
        if isinstance(intended_type, type) and not isinstance(value, intended_type):
            raise TypeError(
                f"Could not convert state of type '{type(value).__name__}' to "
                f"'{intended_type.__name__}'"
            )
        return value

    def set_state(self, state: Any) -> None:
        self._current = None if state is None else _CONVERTER.serialize(state)

    def encode_state(self) -> str | None:
        return self._current

    def add_operation_action(self, action: Any) -> None:
        self._actions.append(action)

    def pending_actions(self) -> list[Any]:
        return self._actions[self._committed :]

    def committed_actions(self) -> list[pb.OperationAction]:
        return [pb.OperationAction.FromString(a.SerializeToString()) for a in self._actions]

    def commit(self) -> None:
        self._checkpoint = self._current
        self._committed = len(self._actions)

    def rollback(self) -> None:
        self._current = self._checkpoint
        del self._actions[self._committed :]


def operations_of(item: pb.WorkItem) -> tuple[str, str | None, list[Operation], bool]:
    """The entity id, start state, operations and whether it is V2, from an entity work item."""
    if item.HasField("entityRequestV2"):
        v2 = item.entityRequestV2
        ops = []
        for event in v2.operationRequests:
            which = event.WhichOneof("eventType")
            if which == "entityOperationSignaled":
                sig = event.entityOperationSignaled
                ops.append(Operation(sig.requestId, sig.operation, _text(sig, "input")))
            elif which == "entityOperationCalled":
                call = event.entityOperationCalled
                caller = pb.OrchestrationInstance(instanceId=call.parentInstanceId.value)
                caller.executionId.SetInParent()  # present, "" when unset, as the SDK sends
                caller.executionId.value = call.parentExecutionId.value
                ops.append(Operation(call.requestId, call.operation, _text(call, "input"), caller))
        return v2.instanceId, v2.entityState.value or None, ops, True
    v1 = item.entityRequest
    ops = [Operation(o.requestId, o.operation, _text(o, "input")) for o in v1.operations]
    return v1.instanceId, v1.entityState.value or None, ops, False


def _text(msg: Any, field: str) -> str | None:
    return getattr(msg, field).value if msg.HasField(field) else None


def run_batch(entities: dict[str, Any], item: pb.WorkItem) -> BatchOutcome:
    """Run every operation of an entity work item; the result echoes its completion token."""
    instance_id, start, ops, is_v2 = operations_of(item)
    state = BatchState(start)
    results: list[pb.OperationResult] = []
    steps: list[OperationStep] = []
    try:
        entity_id: EntityInstanceId | None = EntityInstanceId.parse(instance_id)
        bad_id: Exception | None = None
    except ValueError as err:
        entity_id, bad_id = None, err
    for op in ops:
        before = state.encode_state()
        began = datetime.now(timezone.utc)
        output: str | None = None
        failure: FailureDetails | None = None
        try:
            if entity_id is None:
                assert bad_id is not None
                raise ValueError(f"Invalid entity instance ID '{instance_id}': {bad_id}")
            output = _execute(entities, instance_id, entity_id, op, state)
            asked = tuple(_describe(a) for a in state.pending_actions())
            state.commit()
        except Exception as ex:  # noqa: BLE001 - the failure is the operation's answer
            failure = failure_from_exception(ex)
            asked = ()
            state.rollback()
        results.append(_result(output, failure, began))
        steps.append(OperationStep(op, before, state.encode_state(), output, failure, asked))
    result = pb.EntityBatchResult(completionToken=item.completionToken)
    result.results.extend(results)
    result.actions.extend(state.committed_actions())
    final = state.encode_state()
    if final is not None:
        result.entityState.value = final
    if is_v2:
        for op in ops:
            info = result.operationInfos.add(requestId=op.request_id)
            if op.caller is not None:
                info.responseDestination.CopyFrom(op.caller)
    return BatchOutcome(result, tuple(steps), instance_id)


def _result(output: str | None, failure: FailureDetails | None, began: datetime) -> Any:
    result = pb.OperationResult()
    ended = datetime.now(timezone.utc)
    if failure is None:
        result.success.result.value = output or ""
        result.success.startTimeUtc.FromDatetime(began)
        result.success.endTimeUtc.FromDatetime(ended)
    else:
        result.failure.failureDetails.CopyFrom(failure.to_proto())
        result.failure.startTimeUtc.FromDatetime(began)
        result.failure.endTimeUtc.FromDatetime(ended)
    return result


def _execute(
    entities: dict[str, Any],
    raw_id: str,
    entity_id: EntityInstanceId,
    op: Operation,
    state: BatchState,
) -> str | None:
    fn = entities.get(entity_id.entity)
    if fn is None:
        raise _not_registered(entity_id.entity)
    input_type = None
    if op.input and _type_discovery is not None:
        input_type = _type_discovery.entity_input_type(fn, op.name, _CONVERTER)
    value = _CONVERTER.deserialize(op.input, input_type)
    ctx = EntityContext(raw_id, op.name, state, entity_id, _CONVERTER)  # type: ignore[arg-type]
    if isinstance(fn, type) and issubclass(fn, DurableEntity):
        output = _call_method(fn, entity_id, op.name, ctx, value)
    else:
        output = fn(ctx, value)
    encoded: str | None = _CONVERTER.serialize(output)
    return encoded


def _call_method(
    cls: type[DurableEntity], entity_id: EntityInstanceId, name: str, ctx: Any, value: Any
) -> Any:
    instance = cls()
    if not hasattr(instance, name):
        raise AttributeError(f"Entity '{entity_id}' does not have operation '{name}'")
    method = getattr(instance, name)
    if not callable(method):
        raise TypeError(f"Entity operation '{name}' is not callable")
    instance._initialize_entity_context(ctx)
    key = (cls, name)
    required = _REQUIRED.get(key)
    if required is None:
        params = inspect.signature(method).parameters.values()
        required = _REQUIRED[key] = any(
            p.default == inspect.Parameter.empty
            for p in params
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        )
    return method(value) if required or value is not None else method()


def _describe(action: Any) -> str:
    if action.HasField("sendSignal"):
        signal = action.sendSignal
        return f"signal {signal.instanceId} {signal.name}"
    start = action.startNewOrchestration
    return f"start orchestration {start.name} ({start.instanceId})"


def batch_summary(result: pb.EntityBatchResult) -> tuple[str, bool]:
    """``3 ops ok`` or ``3 ops, 1 failed builtins.ValueError``, and whether any failed."""
    count = len(result.results)
    failed = [r for r in result.results if r.HasField("failure")]
    text = f"{count} op" + ("" if count == 1 else "s")
    if not failed:
        return f"{text} ok", False
    first = failed[0].failure.failureDetails.errorType
    return f"{text}, {len(failed)} failed {first}", True
