"""The orchestration side of durable entities: calls, signals, locks and critical sections.

:class:`EntityTurn` holds what one replayed turn knows about entities (the critical section,
the locks it holds, which request id answers which task) and makes the ``sendEntityMessage``
actions the SDK's orchestration context makes, with the same ids, the same checks and the same
messages. It keeps the SDK's rules exactly, including where they surprise: locks count as held
from the request, and after the grant the held and the available locks are one list, so the
order of the unlocks follows the calls (see ``ENTITIES.md`` 3.3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from durabletask import task
from durabletask.entities import EntityInstanceId, EntityLock

from engine import actions as act
from engine.actions import Action
from engine.proto import orchestrator_service_pb2 as pb

if TYPE_CHECKING:
    from engine.turn import TurnState

CALL_KIND = "entity call"
LOCK_KIND = "entity lock"
HELD_KIND = "held lock"


def entity_text(entity: Any) -> str:
    """The wire form ``@name@key`` of an entity id (an ``EntityInstanceId`` or its text)."""
    return str(entity)


def parse_entity(text: str) -> str:
    """The normalized wire form of an entity id (name lowercased), ``ValueError`` if malformed."""
    return str(EntityInstanceId.parse(text))


class EntityTurn:
    """The entity state of one turn, and the SDK's entity API over a :class:`TurnState`."""

    def __init__(
        self,
        turn: TurnState,
        instance_id: str,
        next_id: Callable[[], int],
        new_uuid: Callable[[], str],
    ) -> None:
        self._turn = turn
        self._instance_id = instance_id
        self._next_id = next_id
        self._new_uuid = new_uuid
        self.section_id: str | None = None
        """The current critical section (set from the lock request on, as the SDK does)."""
        self.locks: list[str] = []
        self.available: list[str] = []
        self.acquisition_pending = False
        self._calls: dict[Any, tuple[str, str, int]] = {}
        self._lock_tasks: dict[str, int] = {}
        self._legacy_locks: dict[Any, tuple[str, int]] = {}
        self._unlocks: dict[str, list[int]] = {}
        self._held_key: int | None = None

    @property
    def inside_critical_section(self) -> bool:
        """Whether a critical section is open (from the lock request until the unlocks)."""
        return self.section_id is not None

    # --- the SDK's API --------------------------------------------------------------------

    def call(self, entity: Any, operation: str, input: Any, return_type: type | None) -> Any:
        """``ctx.call_entity``: an ``entityOperationCalled`` message and a task for its reply."""
        turn = self._turn
        seq = self._next_id()
        target = entity_text(entity)
        self._check_operation(target, one_way=False)
        encoded = turn.codec.encode(input)
        request_id = self._new_uuid()
        message = pb.SendEntityMessageAction()
        called = message.entityOperationCalled
        called.requestId = request_id
        called.operation = operation
        if encoded is not None:
            called.input.value = encoded
        called.parentInstanceId.value = self._instance_id
        called.targetInstanceId.value = target
        origin = turn.code_location()
        turn.add_action(
            Action(
                seq,
                act.ENTITY_CALL,
                operation,
                encoded,
                origin,
                instance_id=target,
                entity_message=message,
            )
        )
        t: task.CompletableTask[Any] = task.CompletableTask(expected_type=return_type)
        from engine.turn import PendingTask

        turn.add_task(seq, PendingTask(t, return_type), CALL_KIND, f"{target} {operation}", origin)
        return t

    def signal(self, entity: Any, operation: str, input: Any, when: datetime | None) -> None:
        """``ctx.signal_entity``: an ``entityOperationSignaled`` message, no task."""
        turn = self._turn
        seq = self._next_id()
        target = entity_text(entity)
        self._check_operation(target, one_way=True)
        encoded = turn.codec.encode(input)
        message = pb.SendEntityMessageAction()
        signaled = message.entityOperationSignaled
        signaled.requestId = self._new_uuid()
        signaled.operation = operation
        if when is not None:
            signaled.scheduledTime.FromDatetime(when)
        if encoded is not None:
            signaled.input.value = encoded
        signaled.targetInstanceId.value = target
        turn.add_action(
            Action(
                seq,
                act.ENTITY_SIGNAL,
                operation,
                encoded,
                turn.code_location(),
                instance_id=target,
                entity_message=message,
            )
        )

    def lock(self, entities: list[Any]) -> Any:
        """``ctx.lock_entities``: an ``entityLockRequested`` message and a task for the grant."""
        turn = self._turn
        seq = self._next_id()
        if self.inside_critical_section:
            raise RuntimeError(
                "Must not enter another critical section from within a critical section."
            )
        section = self._new_uuid()
        if not entities:
            raise RuntimeError("Failed to create entity lock request.")
        lock_set = sorted(set(entity_text(e) for e in entities))
        self.section_id = section
        self.locks = lock_set
        self.acquisition_pending = True
        message = pb.SendEntityMessageAction()
        requested = message.entityLockRequested
        requested.criticalSectionId = section
        requested.parentInstanceId.value = self._instance_id
        requested.lockSet.extend(lock_set)
        requested.position = 0
        origin = turn.code_location()
        names = ", ".join(lock_set)
        turn.add_action(
            Action(
                seq,
                act.ENTITY_LOCK,
                "lock",
                None,
                origin,
                instance_id=names,
                entity_message=message,
            )
        )
        t: task.CompletableTask[Any] = task.CompletableTask()
        from engine.turn import PendingTask

        turn.add_task(seq, PendingTask(t, None), LOCK_KIND, names, origin)
        return t

    def exit_critical_section(self) -> None:
        """Send one ``entityUnlockSent`` per held lock and close the critical section."""
        section = self.section_id
        if section is None:
            return
        turn = self._turn
        ids = self._unlocks.setdefault(section, [])
        for target in self.locks:
            seq = self._next_id()
            message = pb.SendEntityMessageAction()
            unlock = message.entityUnlockSent
            unlock.criticalSectionId = section
            unlock.targetInstanceId.value = target
            unlock.parentInstanceId.value = self._instance_id
            turn.add_action(
                Action(seq, act.ENTITY_UNLOCK, "unlock", instance_id=target, entity_message=message)
            )
            ids.append(seq)
        self.locks = []
        self.available = []
        self.section_id = None
        tracker = turn.tracker
        if self._held_key is not None and tracker is not None:
            tracker.task_removed(self._held_key)
        self._held_key = None

    def _check_operation(self, target: str, *, one_way: bool) -> None:
        # Raised outside any handler, so the failure carries no inner exception (as the SDK's).
        problem = self._operation_problem(target, one_way)
        if problem is not None:
            raise RuntimeError(problem)

    def _operation_problem(self, target: str, one_way: bool) -> str | None:
        if not self.inside_critical_section:
            return None
        if one_way:
            if target in self.locks:
                return "Must not signal a locked entity from a critical section."
            return None
        if target in self.available:
            self.available.remove(target)
            return None
        if self.acquisition_pending:
            return "Must await the completion of the lock request prior to calling any entity."
        if target in self.locks:
            return (
                "Must not call an entity from a critical section while a prior call to the "
                "same entity is still pending."
            )
        return (
            "Must not call an entity from a critical section if it is not one of the locked "
            "entities."
        )

    # --- what history tells -------------------------------------------------------------

    def call_confirmed(self, request_id: Any, target: str, operation: str, task_id: int) -> None:
        """``entityOperationCalled`` matched: its reply will come under ``request_id``."""
        self._calls[request_id] = (parse_entity(target), operation, task_id)

    def awaits_call(self, request_id: str) -> bool:
        """Whether a confirmed call waits for a reply under ``request_id``."""
        return request_id in self._calls

    def legacy_lock_confirmed(self, request_id: Any, entity: str, task_id: int) -> None:
        """A lock request sent as ``eventSent``: its grant is the ``eventRaised`` so named."""
        self._legacy_locks[request_id] = (entity, task_id)

    def take_legacy_lock(self, name: str) -> tuple[str, int] | None:
        """The (entity, task id) of the legacy lock request a grant named ``name`` answers."""
        return self._legacy_locks.pop(name, None)

    def take_call(self, request_id: str) -> tuple[str, str, int]:
        """The (entity, operation, task id) a reply answers; ``RuntimeError`` if unknown."""
        found = self._calls.pop(request_id, None)
        if found is None:
            raise RuntimeError(f"Could not parse entity ID from request ID '{request_id}'")
        return found

    def call_answered(self, entity: str) -> None:
        """A call's reply came: the entity's lock is available again (inside a section)."""
        if self.inside_critical_section:
            self.available.append(entity)

    def lock_confirmed(self, section: str, task_id: int) -> None:
        """``entityLockRequested`` matched: the grant will name ``section``."""
        self._lock_tasks[section] = task_id

    def take_lock_task(self, section: str) -> int | None:
        """The task a grant completes (``None``: unknown section, the grant is ignored)."""
        return self._lock_tasks.pop(section, None)

    def grant(self, section: str, task_id: int) -> EntityLock:
        """Complete the acquisition; ``RuntimeError`` if the section is not the current one."""
        if self.section_id != section:
            raise RuntimeError(
                f"Unexpected lock acquire for critical section ID '{section}' "
                f"(expected '{self.section_id}')"
            )
        self.available = self.locks  # one list, as in the SDK (ENTITIES.md 3.3)
        self.acquisition_pending = False
        tracker = self._turn.tracker
        if tracker is not None:
            self._held_key = task_id
            tracker.task_added(task_id, HELD_KIND, ", ".join(self.locks), None)
        return EntityLock(self._turn)  # type: ignore[arg-type]

    def unlock_confirmed(self, section: str) -> int:
        """``entityUnlockSent``: drop every pending unlock of ``section``; how many there were."""
        count = 0
        for seq in self._unlocks.pop(section, []):
            if self._turn.take_action(seq) is not None:
                count += 1
        return count

    def state_lines(self) -> tuple[tuple[str, str], ...]:
        """The critical section as (name, value) pairs, for a state pane (empty outside one)."""
        if self.section_id is None:
            return ()
        status = "requested" if self.acquisition_pending else "held"
        return (
            ("critical section", f"{self.section_id} ({status})"),
            ("locked entities", ", ".join(self.locks) or "-"),
        )


def critical_section_text(open_tasks: Any) -> str | None:
    """The critical section an orchestration is in, from a frame's open tasks (``None``: none).

    ``requested: @a@x, @b@y`` from the lock request until the grant, then ``held: ...``.
    """
    for item in open_tasks:
        if item.kind == LOCK_KIND:
            return f"requested: {item.name}"
        if item.kind == HELD_KIND:
            return f"held: {item.name}"
    return None
