"""The state a history implies after its last event, without recording every step.

``inspector show`` prints only the end of the history-only replay. Recording a frame for every
step (:class:`engine.frames.FrameRecorder`) and importing the stepper to build them costs more
than listing the events: :func:`final_state` runs the same replay
(:class:`engine.history_replay.HistoryReplayer`, fed the listing's rows) with a tracker that
keeps only what is open now. Its answer equals the session's last frame in every field it holds
(a test compares them on every sample).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from itertools import count
from typing import Any, NamedTuple

from engine.failure_details import FailureDetails
from engine.history import OrchestrationRequest
from engine.history_replay import HistoryReplayer
from engine.tracker import Tracker

BOOKKEEPING = frozenset({"orchestratorStarted", "orchestratorCompleted"})
"""``engine.frames.BOOKKEEPING``: turn bookkeeping a suspended orchestration holds back, not
buffered work (known here without loading the frame recorder; a test pins them equal)."""


class OpenTask(NamedTuple):
    """Something the orchestration waits on: the fields of ``engine.frames.OpenTask``."""

    id: int
    kind: str
    name: str
    origin: Any
    opened_at: int


class BufferedEvent(NamedTuple):
    """An event that arrived with no one waiting: the fields of
    ``engine.frames.BufferedEvent``."""

    name: str
    data: str | None
    received_at: int


class FinalState(NamedTuple):
    """What the history implies after its last event (the fields of a frame ``show`` reads)."""

    status: str
    suspended: bool
    current_utc_datetime: datetime | None
    open_tasks: tuple[OpenTask, ...]
    buffered_events: tuple[BufferedEvent, ...]
    failure: FailureDetails | None
    custom_status: str | None = None
    """Never in a history (only code sets it): always ``None`` here, as in the session's."""


class _Open:
    """Items open now, in the order they opened, as :class:`engine.frames._IntervalSet` keeps
    them: opening a key again leaves the earlier item open; closing closes the latest."""

    __slots__ = ("items", "live", "_serial")

    def __init__(self) -> None:
        self.items: dict[int, tuple[Any, ...]] = {}
        self.live: dict[Any, int] = {}
        self._serial = count().__next__

    def open(self, key: Any, item: tuple[Any, ...]) -> None:
        serial = self._serial()
        self.live[key] = serial
        self.items[serial] = item

    def close(self, key: Any) -> None:
        serial = self.live.pop(key, None)
        if serial is not None:
            del self.items[serial]

    def reopen(self, key: Any, item: tuple[Any, ...]) -> None:
        """:meth:`close` ``key``, then :meth:`open` it with ``item`` (a retry reuses its id)."""
        serial = self.live.pop(key, None)
        if serial is not None:
            del self.items[serial]
        serial = self.live[key] = self._serial()
        self.items[serial] = item


class _Latest(Tracker):
    """A tracker keeping only the open state after the latest step (no history of it)."""

    def __init__(self) -> None:
        self.step = 0
        """The step (event index) changes reported now belong to."""
        self.tasks = _Open()
        self.waits = _Open()
        self.buffered = _Open()

    def task_added(
        self, task_id: int, kind: str, name: str, origin: Any, handle: object = None
    ) -> None:
        self.tasks.open(task_id, (task_id, kind, name, origin, self.step))

    def task_removed(self, task_id: int) -> None:
        self.tasks.close(task_id)

    def wait_added(self, key: int, name: str, origin: Any) -> None:
        self.waits.open(key, (-1, "external event", name, origin, self.step))

    def wait_removed(self, key: int) -> None:
        self.waits.close(key)

    def buffered_added(self, seq: Hashable, name: str, data: str | None) -> None:
        if data is None and name in BOOKKEEPING:
            return  # as the frame recorder: turn bookkeeping is not buffered work
        self.buffered.open(seq, (name, data, self.step))

    def buffered_removed(self, seq: Hashable) -> None:
        self.buffered.close(seq)


def final_state(request: OrchestrationRequest, rows: Sequence[Any]) -> FinalState:
    """The history-only replay's state after the last event of ``request``.

    ``rows`` are the request's :func:`engine.event_rows.event_rows`. A request holding a rewind
    is not for this function: its rewind step changes the frame (see
    :class:`engine.session.ReplaySession`), which callers replay instead.
    """
    tracker = _Latest()
    replayer = HistoryReplayer(request, tracker)
    replayer.apply_rows(rows, tracker)
    tasks = [OpenTask(*t) for t in tracker.tasks.items.values()]
    tasks.extend(OpenTask(*w) for w in tracker.waits.items.values())
    token = replayer.clock_token  # the rows' aware datetimes: no conversion to load for them
    clock = token if isinstance(token, datetime) and token.tzinfo is not None else None
    if token is not None and clock is None:
        clock = replayer.clock
    return FinalState(
        status=replayer.status,
        suspended=replayer.suspended,
        current_utc_datetime=clock,
        open_tasks=tuple(tasks),
        buffered_events=tuple(BufferedEvent(*b) for b in tracker.buffered.items.values()),
        failure=replayer.failure,
    )
