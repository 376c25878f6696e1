"""Replay of the entity history events, as the SDK's executor replays them.

:class:`EntityEventHandlers` is mixed into :class:`engine.replay.CodeReplayer`: one
``_apply_<event>`` per entity event. Confirmations check only the action kind at the event's
id (the SDK compares neither target, operation nor lock set); replies are routed by request id,
and an unknown one fails the turn, as in the SDK (``ENTITIES.md`` 3.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine import actions as act
from engine import history as h
from engine.failures import sdk_failure_details

if TYPE_CHECKING:
    from engine.actions import Action
    from engine.context import ReplayContext


LEGACY_KINDS = frozenset((act.ENTITY_CALL, act.ENTITY_SIGNAL, act.ENTITY_LOCK, act.ENTITY_UNLOCK))
"""Entity actions an ``eventSent`` confirms in the legacy Durable Functions shape."""


class EntityEventHandlers:
    """The entity half of the code replayer's dispatch table."""

    if TYPE_CHECKING:
        ctx: ReplayContext
        note: str

        def _match(
            self,
            msg: Any,
            kind: str,
            method: str,
            sentinel: bool = ...,
            also: frozenset[str] = ...,
        ) -> Action: ...

        def _wrong_type(self, msg: Any, method: str, action: Action) -> None: ...

    def entity_handlers(self) -> dict[str, Callable[[Any, Any], None]]:
        """The handlers by event kind, for the replayer's dispatch table."""
        return {
            "entityOperationCalled": self._apply_entity_operation_called,
            "entityOperationSignaled": self._apply_entity_operation_signaled,
            "entityLockRequested": self._apply_entity_lock_requested,
            "entityUnlockSent": self._apply_entity_unlock_sent,
            "entityLockGranted": self._apply_entity_lock_granted,
            "entityOperationCompleted": self._apply_entity_operation_completed,
            "entityOperationFailed": self._apply_entity_operation_failed,
        }

    def _apply_entity_operation_called(self, msg: Any, ev: Any) -> None:
        self._match(msg, act.ENTITY_CALL, "call_entity")
        target = ev.targetInstanceId.value
        try:
            self.ctx.entities.call_confirmed(ev.requestId, target, ev.operation, msg.eventId)
        except ValueError:
            raise RuntimeError(
                f"Could not parse entity ID from targetInstanceId '{target}'"
            ) from None
        self.note = f"matched call_entity ({target} {ev.operation})"

    def _apply_entity_operation_signaled(self, msg: Any, ev: Any) -> None:
        self._match(msg, act.ENTITY_SIGNAL, "signal_entity")
        self.note = f"matched signal_entity ({ev.targetInstanceId.value} {ev.operation})"

    def _apply_entity_lock_requested(self, msg: Any, ev: Any) -> None:
        self._match(msg, act.ENTITY_LOCK, "lock_entities")
        self.ctx.entities.lock_confirmed(ev.criticalSectionId, msg.eventId)
        self.note = f"matched lock_entities ({', '.join(ev.lockSet)})"

    def _apply_entity_unlock_sent(self, msg: Any, ev: Any) -> None:
        count = self.ctx.entities.unlock_confirmed(ev.criticalSectionId)
        self.note = f"unlock confirmed ({count} pending unlock(s) dropped)"

    def _apply_entity_lock_granted(self, msg: Any, ev: Any) -> None:
        entities = self.ctx.entities
        section = ev.criticalSectionId
        task_id = entities.take_lock_task(section)
        pending = self.ctx.take_task(task_id) if task_id else None
        if task_id is None or pending is None:
            self.note = f"ignored: no lock request waits for section {section}"
            return
        pending.task.complete(entities.grant(section, task_id))
        self.note = "locks granted"
        self.ctx.resume()

    def _apply_entity_operation_completed(self, msg: Any, ev: Any) -> None:
        entity, operation, task_id = self.ctx.entities.take_call(ev.requestId)
        pending = self.ctx.take_task(task_id)
        if pending is None:
            self.note = "ignored: no entity call waits for this request"
            return
        output = ev.output.value if ev.HasField("output") else ""
        value = self.ctx.codec.decode(output, pending.expected) if output else None
        self.ctx.entities.call_answered(entity)
        pending.task.complete(value)
        self.note = f"entity call completed ({entity} {operation})"
        self.ctx.resume()

    def _apply_entity_operation_failed(self, msg: Any, ev: Any) -> None:
        entity, operation, task_id = self.ctx.entities.take_call(ev.requestId)
        pending = self.ctx.take_task(task_id)
        if pending is None:
            self.note = "ignored: no entity call waits for this request"
            return
        from durabletask import task

        details = sdk_failure_details(h.FailureDetails.from_proto(ev.failureDetails))
        failure = _operation_failed(entity, operation, details)
        self.ctx.entities.call_answered(entity)
        t: Any = pending.task
        if isinstance(t, task.CompletableTask):
            t.fail(str(failure), failure)
        self.note = f"entity call failed ({entity} {operation})"
        self.ctx.resume()

    # --- the legacy Durable Functions shape (``ENTITIES.md`` 3.6) ----------------------------

    def _legacy_entity_sent(self, msg: Any, ev: Any, action: Action) -> None:
        """An ``eventSent`` confirmed an entity message: check its target, keep its reply id."""
        from engine import entity_legacy as legacy  # the legacy shape's rules, when met

        message = action.entity_message
        if legacy.message_target(message) != ev.instanceId:
            self._wrong_type(msg, "send_event", action)
        entities = self.ctx.entities
        if action.kind == act.ENTITY_CALL or action.kind == act.ENTITY_LOCK:
            try:
                from engine.entities import parse_entity  # durabletask's flavour only

                entity = parse_entity(ev.instanceId)
            except ValueError:
                raise RuntimeError(
                    f"Could not parse entity ID from instanceId '{ev.instanceId}'"
                ) from None
            request = legacy.request_id(ev.input.value)
            if action.kind == act.ENTITY_CALL:
                operation = message.entityOperationCalled.operation
                entities.call_confirmed(request, entity, operation, msg.eventId)
            else:
                entities.legacy_lock_confirmed(request, entity, msg.eventId)
        method = act.METHOD_OF_KIND[action.kind]
        self.note = f"matched {method} ({ev.instanceId}, as eventSent)"

    def _legacy_entity_reply(self, msg: Any, ev: Any) -> bool:
        """An ``eventRaised`` named after an entity request answers it (``False``: it does not)."""
        if not self.ctx.uses_entities:
            return False  # no entity request was made: a plain event (and Dapr has no entities)
        entities = self.ctx.entities
        name = ev.name
        if entities.awaits_call(name):
            entity, operation, task_id = entities.take_call(name)
            self._legacy_call_reply(msg, ev, entity, operation, task_id)
            return True
        lock = entities.take_legacy_lock(name)
        if lock is None:
            return False
        pending = self._legacy_task(msg, lock[1])
        self._legacy_response(ev)
        pending.task.complete(entities.grant(name, lock[1]))
        self.note = "locks granted (eventRaised)"
        self.ctx.resume()
        return True

    def _legacy_task(self, msg: Any, task_id: int) -> Any:
        pending = self.ctx.take_task(task_id)
        if pending is None:
            raise RuntimeError(
                f"Could not retrieve entity task for entity-related eventRaised with ID "
                f"'{msg.eventId}'"
            )
        return pending

    def _legacy_response(self, ev: Any) -> Any:
        raw = ev.input.value
        return self.ctx.codec.converter.deserialize(raw) if raw else None

    def _legacy_call_reply(
        self, msg: Any, ev: Any, entity: str, operation: str, task_id: int
    ) -> None:
        from engine import entity_legacy as legacy

        pending = self._legacy_task(msg, task_id)
        response = self._legacy_response(ev)
        converter = self.ctx.codec.converter
        if legacy.is_error_response(response):
            raw = response.get("result")
            content = converter.deserialize(raw) if isinstance(raw, str) else raw
            details = sdk_failure_details(legacy.response_failure(response, content))
            failure = _operation_failed(entity, operation, details)
            self.ctx.entities.call_answered(entity)
            pending.task.fail(str(failure), failure)
            self.note = f"entity call failed ({entity} {operation}, as eventRaised)"
        else:
            value = None
            if response is not None:
                value = converter.deserialize(response["result"], pending.expected)
            self.ctx.entities.call_answered(entity)
            pending.task.complete(value)
            self.note = f"entity call completed ({entity} {operation}, as eventRaised)"
        self.ctx.resume()


def _operation_failed(entity: str, operation: str, details: Any) -> Exception:
    """The SDK's exception for a failed entity call (entities exist only in durabletask's
    flavour, so it is imported here, when an entity event is replayed)."""
    from durabletask.entities import EntityInstanceId
    from durabletask.entities.entity_operation_failed_exception import (
        EntityOperationFailedException,
    )

    return EntityOperationFailedException(EntityInstanceId.parse(entity), operation, details)
