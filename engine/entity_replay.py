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
from engine.payloads import decode

if TYPE_CHECKING:
    from engine.actions import Action
    from engine.context import ReplayContext


class EntityEventHandlers:
    """The entity half of the code replayer's dispatch table."""

    if TYPE_CHECKING:
        ctx: ReplayContext
        note: str

        def _match(self, msg: Any, kind: str, method: str) -> Action: ...

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
        value = decode(output, pending.expected) if output else None
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
        from durabletask.entities import EntityInstanceId
        from durabletask.entities.entity_operation_failed_exception import (
            EntityOperationFailedException,
        )

        details = sdk_failure_details(h.FailureDetails.from_proto(ev.failureDetails))
        failure = EntityOperationFailedException(EntityInstanceId.parse(entity), operation, details)
        self.ctx.entities.call_answered(entity)
        t: Any = pending.task
        if isinstance(t, task.CompletableTask):
            t.fail(str(failure), failure)
        self.note = f"entity call failed ({entity} {operation})"
        self.ctx.resume()
