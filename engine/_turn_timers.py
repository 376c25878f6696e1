"""Timers and retries of a replayed turn: what :class:`engine.turn.TurnState` waits on that
the code did not schedule one for one.

A long timer is split into chunks no longer than the worker's longest single timer (each chunk
under a new id); a retried task waits out its back-off on a timer, then is scheduled again
under its original id. :class:`TimersAndRetries` is the part of ``TurnState`` that does this;
:class:`PendingTask` is what a waiting task holds for its completion.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task

    from engine.actions import SourceLocation
    from engine.history import FailureDetails
else:
    from engine.sdk import task

from engine import actions as act
from engine.actions import Action


class PendingTask:
    """A task waiting under a sequence number, with what its completion needs."""

    __slots__ = ("task", "expected", "final_fire_at", "retry")

    def __init__(
        self,
        t: task.CompletableTask[Any],
        expected: type | None = None,
        final_fire_at: datetime | None = None,
        retry: tuple[task.RetryableTask[Any], Action, type | None] | None = None,
    ) -> None:
        self.task = t
        self.expected = expected
        self.final_fire_at = final_fire_at
        """For a long (chunked) timer: the user's fire time."""
        self.retry = retry
        """For a retry back-off timer: the retried task, its original action and result type."""


class TimersAndRetries:
    """Timers (chunked when long) and retries, mixed into :class:`engine.turn.TurnState`."""

    if TYPE_CHECKING:
        _maximum_timer_interval: timedelta | None
        _originals: dict[int, tuple[Action, type | None]]

        @property
        def _clock(self) -> datetime: ...

        def _next_id(self) -> int: ...

        def add_action(self, action: Action) -> None: ...

        def add_task(
            self,
            task_id: int,
            pending: PendingTask,
            kind: str,
            name: str,
            origin: SourceLocation | None,
        ) -> None: ...

        def take_action(self, action_id: int) -> Action | None: ...

        def take_task(self, task_id: int) -> PendingTask | None: ...

        def code_location(self) -> SourceLocation | None: ...

    def new_chunk_timer(self, pending: PendingTask, fire_at: datetime) -> None:
        """Issue the next chunk of a long timer under a new id."""
        seq = self._next_id()
        self.add_action(Action(seq, act.CREATE_TIMER, fire_at=fire_at))
        self.add_task(seq, pending, "timer", "timer (next chunk)", None)
        assert isinstance(pending.task, task.TimerTask)
        self._cancel_with(pending.task, seq)

    def reissue(self, retry: tuple[task.RetryableTask[Any], Action, type | None]) -> None:
        """Schedule a retried task again under its original id (its input kept as text)."""
        retryable, original, expected = retry
        is_activity = original.kind == act.SCHEDULE_TASK
        again = Action(
            original.id,
            original.kind,
            name=original.name,
            input=original.input if original.input is not None else "",
            instance_id=None if is_activity else original.instance_id,
            tags=original.tags if is_activity else None,
            origin=original.origin,
        )
        self.add_action(again)
        kind = "activity" if is_activity else "sub-orchestration"
        self.add_task(
            original.id, PendingTask(retryable, expected), kind, original.name, original.origin
        )

    def retry_delay(self, t: task.RetryableTask[Any], failure: FailureDetails) -> timedelta | None:
        """The back-off before retrying a failed task, ``None`` when it is not retried."""
        return t.compute_next_delay()

    def retry_timer(
        self, delay: timedelta, retry: tuple[task.RetryableTask[Any], Action, type | None]
    ) -> None:
        """Create the back-off timer of a retry."""
        self._new_timer(delay, retry)

    def retry_info(
        self, t: task.RetryableTask[Any]
    ) -> tuple[task.RetryableTask[Any], Action, type | None]:
        """The retried task with its original action and result type."""
        action, expected = self._originals[id(t)]
        return t, action, expected

    def _cancel_with(self, timer: task.TimerTask, seq: int) -> None:
        def cancel() -> None:
            self.take_action(seq)
            self.take_task(seq)

        timer.set_cancel_handler(cancel)

    def _new_timer(
        self,
        fire_at: datetime | timedelta,
        retry: tuple[task.RetryableTask[Any], Action, type | None] | None,
    ) -> task.TimerTask:
        seq = self._next_id()
        final = self._clock + fire_at if isinstance(fire_at, timedelta) else fire_at
        if final.utcoffset() is not None:
            final = final.astimezone(timezone.utc).replace(tzinfo=None)
        limit = self._maximum_timer_interval
        if limit is not None and limit > timedelta(0) and self._clock + limit < final:
            timer = task.TimerTask(final, limit)
            first = self._clock + limit
        else:
            timer = task.TimerTask()
            first = final
        origin = self.code_location()
        self.add_action(Action(seq, act.CREATE_TIMER, fire_at=first, origin=origin))
        self._cancel_with(timer, seq)
        pending = PendingTask(timer, None, final if first != final else None, retry)
        if retry is not None:
            self.add_task(seq, pending, "retry timer", f"retry of '{retry[1].name}'", origin)
        else:
            self.add_task(seq, pending, "timer", f"timer until {final.isoformat()}Z", origin)
        return timer
