"""The orchestration context user code sees.

:class:`ReplayContext` implements the durabletask SDK's ``OrchestrationContext`` so that
orchestrators written for the SDK run unmodified; the state behind it, and the internal API
the executor in :mod:`engine.replay` uses, are :class:`engine.turn.TurnState`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine import actions as act
from engine.actions import Action, new_action
from engine.failures import (
    failure_from_exception,
    failure_from_task_error,
    failure_location,
    qualified_name,
    sdk_failure_details,
)
from engine.payloads import activity_output_type, decode, encode
from engine.plain_task import PLAIN, new_task
from engine.reprs import short_repr
from engine.tracker import Tracker
from engine.turn import (
    DEFAULT_MAXIMUM_TIMER_INTERVAL,
    STATUS_COMPLETED,
    STATUS_CONTINUED_AS_NEW,
    STATUS_FAILED,
    STATUS_RUNNING,
    STATUS_TERMINATED,
    PendingTask,
    TurnState,
    clock_from_token,
)

if TYPE_CHECKING:
    from durabletask import task
    from durabletask.entities import EntityInstanceId, EntityLock

    from engine.entities import EntityTurn
else:  # the flavour's task module; entities exist only in durabletask (loaded on first use)
    from engine.sdk import task

# uuid5(NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875"), the SDK's namespace, written
# out: computing it at import would load hashlib for every turn, even one that never asks.
_UUID_NAMESPACE = uuid.UUID("5bf3dc27-d91d-5ea7-9c3e-9f1f2ae7c309")
SCHEDULE_TASK = act.SCHEDULE_TASK
_new = object.__new__


class ReplayContext(TurnState, task.OrchestrationContext):
    """The ``OrchestrationContext`` of one replayed turn."""

    _entity_turn: EntityTurn | None = None

    # --- the SDK's public API ------------------------------------------------------------

    @property
    def instance_id(self) -> str:
        return self._instance_id

    @property
    def parent_instance_id(self) -> str | None:
        return self._parent_instance_id

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def current_utc_datetime(self) -> datetime:
        return self._clock

    @property
    def is_replaying(self) -> bool:
        return self._is_replaying

    def set_custom_status(self, custom_status: Any) -> None:
        self._custom_status = (
            self.codec.encode(custom_status) if custom_status is not None else None
        )

    def create_timer(self, fire_at: datetime | timedelta) -> task.TimerTask:
        return self._new_timer(fire_at, None)

    def call_activity(  # type: ignore[override]
        self,
        activity: Callable[..., Any] | str,
        *,
        input: Any = None,
        retry_policy: task.RetryPolicy | None = None,
        tags: dict[str, str] | None = None,
        return_type: type | None = None,
    ) -> task.CompletableTask[Any]:
        self._sequence = seq = self._sequence + 1
        if isinstance(activity, str):
            name = activity
        else:
            name = task.get_name(activity)
            if return_type is None:
                return_type = self.codec.activity_output_type(activity)
        enc = self.codec.encode
        if enc is not encode:
            encoded = enc(input)
        elif input is None:
            encoded = None
        elif type(input) is int:
            encoded = f"{input}"  # what encode() gives an int (its repr), without the call
        else:
            encoded = encode(input)
        if retry_policy is None and self._tracker is None and not tags:
            # the commonest call of all: the action held as a tuple (see HeldActivity), and
            # _schedule_plain() inlined
            gen: Any = self._generator
            frame, lasti, origin = self._where
            if (
                frame is None
                or gen is None
                or gen.gi_yieldfrom is not None
                or gen.gi_frame is not frame
                or frame.f_lasti != lasti
            ):  # not where code_location() last answered (its own first check, inlined)
                origin = self.code_location()
            self._pending_actions[seq] = (name, encoded, origin)
            if PLAIN is None:
                t = new_task(return_type)
            else:  # new_task() inlined: the plain task's fields, as its constructor sets them
                t = _new(PLAIN)
                t._is_complete = False
                t._exception = None
                t._parents = {}
                t._retryable_parent = None
                t._expected_type = return_type
            self._pending_tasks[seq] = t if return_type is None else PendingTask(t, return_type)
            return t
        action = new_action(seq, SCHEDULE_TASK, name, encoded, self.code_location())
        if tags:
            action.tags = dict(tags)
        return self._schedule(action, retry_policy, return_type, is_sub=False)

    def call_sub_orchestrator(  # type: ignore[override]
        self,
        orchestrator: Callable[..., Any] | str,
        *,
        input: Any = None,
        instance_id: str | None = None,
        retry_policy: task.RetryPolicy | None = None,
        version: str | None = None,
        return_type: type | None = None,
    ) -> task.CompletableTask[Any]:
        seq = self._next_id()
        name = orchestrator if isinstance(orchestrator, str) else task.get_name(orchestrator)
        action = Action(
            seq,
            act.CREATE_SUB_ORCHESTRATION,
            name=name,
            input=self.codec.encode(input),
            instance_id=instance_id
            if instance_id is not None
            else f"{self._instance_id}:{seq:04x}",
            version=version or self.default_version,
            origin=self.code_location(),
        )
        return self._schedule(action, retry_policy, return_type, is_sub=True)

    def wait_for_external_event(  # type: ignore[override]
        self, name: str, *, data_type: type | None = None
    ) -> task.CancellableTask[Any]:
        waiter: task.CancellableTask[Any] = task.CancellableTask(expected_type=data_type)
        key = name.casefold()
        buffered = self._received.get(key)
        if buffered:
            seq, data = buffered.pop(0)
            if not buffered:
                del self._received[key]
            if self._tracker is not None:
                self._tracker.buffered_removed(seq)
            waiter.complete(self.codec.decode(data, data_type) if data else None)
            return waiter
        entry = (waiter, data_type)
        self._waiters.setdefault(key, []).append(entry)
        if self._tracker is not None:
            self._tracker.wait_added(id(waiter), name, self.code_location())

        def cancel() -> None:
            waiting = self._waiters.get(key)
            if waiting is None or entry not in waiting:
                return
            waiting.remove(entry)
            if not waiting:
                del self._waiters[key]
            if self._tracker is not None:
                self._tracker.wait_removed(id(waiter))

        waiter.set_cancel_handler(cancel)
        return waiter

    def send_event(self, instance_id: str, event_name: str, *, data: Any | None = None) -> None:
        if not instance_id or not instance_id.strip():
            raise ValueError("instance_id cannot be empty")
        if instance_id.startswith("@"):
            raise ValueError(
                "Instance IDs starting with '@' are reserved for entities; "
                "use signal_entity() to send an entity operation."
            )
        if not event_name or not event_name.strip():
            raise ValueError("event_name cannot be empty")
        seq = self._next_id()
        self.add_action(
            Action(
                seq,
                act.SEND_EVENT,
                name=event_name,
                instance_id=instance_id,
                input=self.codec.encode(data),
                origin=self.code_location(),
            )
        )

    def continue_as_new(
        self, new_input: Any, *, save_events: bool = False, new_version: str | None = None
    ) -> None:
        if self._complete:
            return
        self._exit_critical_section()
        self._complete = True
        self.completion_status = STATUS_CONTINUED_AS_NEW
        self._new_input = new_input
        self._new_version = new_version
        self._save_events = save_events

    def new_uuid(self) -> str:
        stamp = self._clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        name = f"{self._instance_id}_{stamp}_{self._uuid_counter}"
        self._uuid_counter += 1
        return str(uuid.uuid5(_UUID_NAMESPACE, name))

    @property
    def uses_entities(self) -> bool:
        """Whether the code has touched an entity this turn (without loading entity support)."""
        return self._entity_turn is not None

    @property
    def entities(self) -> EntityTurn:
        """The turn's entity state (created on first use)."""
        found = self._entity_turn
        if found is None:
            from engine.entities import EntityTurn

            found = EntityTurn(self, self._instance_id, self._next_id, self.new_uuid)
            self._entity_turn = found
        return found

    def call_entity(  # type: ignore[override]
        self,
        entity: EntityInstanceId,
        operation: str,
        input: Any = None,
        *,
        return_type: type | None = None,
    ) -> task.CompletableTask[Any]:
        return self.entities.call(entity, operation, input, return_type)  # type: ignore[no-any-return]

    def signal_entity(
        self,
        entity_id: EntityInstanceId,
        operation_name: str,
        input: Any = None,
        signal_time: datetime | None = None,
    ) -> None:
        self.entities.signal(entity_id, operation_name, input, signal_time)

    def lock_entities(self, entities: list[EntityInstanceId]) -> task.CompletableTask[EntityLock]:
        return self.entities.lock(entities)  # type: ignore[no-any-return]

    def _exit_critical_section(self) -> None:
        found = self._entity_turn
        if found is not None:
            found.exit_critical_section()


__all__ = [
    "DEFAULT_MAXIMUM_TIMER_INTERVAL",
    "SCHEDULE_TASK",
    "STATUS_COMPLETED",
    "STATUS_CONTINUED_AS_NEW",
    "STATUS_FAILED",
    "STATUS_RUNNING",
    "STATUS_TERMINATED",
    "PendingTask",
    "ReplayContext",
    "Tracker",
    "TurnState",
    "activity_output_type",
    "clock_from_token",
    "decode",
    "encode",
    "failure_from_exception",
    "failure_from_task_error",
    "failure_location",
    "qualified_name",
    "sdk_failure_details",
    "short_repr",
]
