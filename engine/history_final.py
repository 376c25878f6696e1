"""The state a history implies after its last event, without recording every step.

``inspector show`` prints only the end of the history-only replay. Recording a frame for every
step (:class:`engine.frames.FrameRecorder`) and importing the stepper to build them costs more
than listing the events: :func:`final_state` runs the same replay
(:class:`engine.history_replay.HistoryReplayer`, fed the listing's rows) with a tracker that
keeps only what is open now, or, for a history of only the plain kinds (:data:`PLAIN`: turns,
tasks, timers, no suspension, end or wait), reads the answer from the rows at once. Its answer
equals the session's last frame in every field it holds (a test compares them on every sample
and on random histories).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime
from itertools import compress, count, repeat
from operator import gt, itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.failure_details import FailureDetails
from engine.history import OrchestrationRequest
from engine.tracker import Tracker

if TYPE_CHECKING:
    from engine.event_rows import Ends

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


def final_state(
    request: OrchestrationRequest,
    rows: Sequence[Any],
    kinds: Sequence[str | None] | None = None,
    counts: Mapping[Any, int] | None = None,
    ends: Ends | None = None,
) -> FinalState:
    """The history-only replay's state after the last event of ``request``.

    ``rows`` are the request's :func:`engine.event_rows.event_rows`; ``kinds``, if given, their
    kinds (``row[0]``), ``counts`` how many rows of each kind there are and ``ends`` what
    :func:`~engine.event_rows.event_rows` filled reading them (left unchanged). A request
    holding a rewind is not for this function: its rewind step changes the frame (see
    :class:`engine.session.ReplaySession`), which callers replay instead.

    A history of only the kinds of :data:`PLAIN` is read from its rows at once
    (:func:`_plain_state`); any other is replayed event by event
    (:class:`engine.history_replay.HistoryReplayer`).
    """
    if request.dapr is None:
        if kinds is None:
            kinds = list(map(itemgetter(0), rows))
        if counts is None:
            counts = Counter(kinds)
        if PLAIN.issuperset(counts):
            state = _plain_state(rows, kinds, counts, ends)
            if state is not None:
                return state
    return _replayed_state(request, rows)


PLAIN = frozenset(
    {
        "orchestratorStarted",
        "orchestratorCompleted",
        "executionStarted",
        "taskScheduled",
        "taskCompleted",
        "timerCreated",
        "timerFired",
        "eventRaised",
    }
)
"""The kinds :func:`_plain_state` reads: nothing suspends, finishes, continues or waits."""


def _plain_state(
    rows: Sequence[Any],
    kinds: Sequence[str | None],
    counts: Mapping[Any, int],
    ends: Ends | None = None,
) -> FinalState | None:
    """The replay's final state of a history of only :data:`PLAIN` kinds outside Dapr's
    dialect, from its rows, or ``None`` if it schedules a task below -1 (the replay names such
    an id as an entity key: replayed instead).

    With only these kinds the replay's effects are few: ``executionStarted`` makes a pending
    orchestration running; ``orchestratorStarted`` with a timestamp sets the clock;
    ``taskScheduled`` and ``timerCreated`` open their id (closing an item open under it), and
    ``taskCompleted`` and ``timerFired`` close theirs (a timer is no wait outside Dapr);
    ``eventRaised`` changes nothing (no entity request was sent the legacy way, no wait is
    open). So an id is open at the end when its last opening comes after its last closing, as
    the item of that opening, and the open items are in the order they opened.
    """
    find = kinds.index  # finds each event of a kind without a step per event of the others
    if ends is not None:  # found as the rows were read
        last_open, last_close = ends
    else:
        last_open, last_close = {}, {}
        at = -1
        for _ in range(counts.get("taskScheduled", 0)):
            at = find("taskScheduled", at + 1)
            last_open[rows[at][1]] = at
        at = -1
        for _ in range(counts.get("taskCompleted", 0)):
            at = find("taskCompleted", at + 1)
            last_close[rows[at][6][0]] = at
    if last_open and min(last_open) < -1:
        return None
    if "timerCreated" in counts or "timerFired" in counts:
        last_open, last_close = dict(last_open), dict(last_close)  # the caller's kept as given
    at = -1
    for _ in range(counts.get("timerCreated", 0)):
        at = find("timerCreated", at + 1)
        timer_id = rows[at][1]
        if last_open.get(timer_id, -1) < at:
            last_open[timer_id] = at
    at = -1
    for _ in range(counts.get("timerFired", 0)):
        at = find("timerFired", at + 1)
        timer_id = rows[at][6][1]
        if last_close.get(timer_id, -1) < at:
            last_close[timer_id] = at
    closes = map(last_close.get, last_open.keys(), repeat(-1))
    open_tasks = []
    for index in sorted(compress(last_open.values(), map(gt, last_open.values(), closes))):
        row = rows[index]
        if row[0] == "taskScheduled":
            open_tasks.append(OpenTask(row[1], "activity", row[6][0], None, index))
        else:  # as engine.history_replay's timer
            fire_at = row[6][0]
            when = fire_at.isoformat().replace("+00:00", "Z") if fire_at else "?"
            open_tasks.append(OpenTask(row[1], "timer", f"timer until {when}", None, index))
    clock = None
    if "orchestratorStarted" in counts:
        for index in range(len(kinds) - 1, -1, -1):
            if kinds[index] == "orchestratorStarted" and rows[index][2] is not None:
                clock = rows[index][2]
                break
    if clock is not None and not (isinstance(clock, datetime) and clock.tzinfo is not None):
        from engine.clock import clock_from_token  # a raw time (see engine.event_rows)

        clock = clock_from_token(clock)
    return FinalState(
        status="RUNNING" if counts.get("executionStarted") else "PENDING",
        suspended=False,
        current_utc_datetime=clock,
        open_tasks=tuple(open_tasks),
        buffered_events=(),
        failure=None,
    )


def _replayed_state(request: OrchestrationRequest, rows: Sequence[Any]) -> FinalState:
    """The final state from the history-only replay of every row."""
    from engine.history_replay import HistoryReplayer

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
