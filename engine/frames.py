"""Immutable per-step views of a replay, and the recorder that makes them cheap.

A replay is deterministic, so one forward pass records everything every later move needs.
The recorder keeps one :class:`StepRecord` per step (clock, status, location... as the
replayers report them after applying the event, written only through
:meth:`FrameRecorder.record`) and every piece of open state (pending action, open task,
external-event wait, buffered event) as an interval ``[opened, closed)`` of step indices. A
:class:`Frame` for any step is built on demand from those, without re-running anything:
stepping back and jumping are instant and memory grows with the history, not with history
times state.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from engine import sdk
from engine.actions import Action, SourceLocation
from engine.awaited import Awaited, RawNode, leaves, race_entrants, raw_tree, resolve
from engine.clock import ClockToken, clock_from_token
from engine.failure_details import FailureDetails
from engine.outcome import NonDeterminism
from engine.tracker import Tracker

if TYPE_CHECKING:
    from engine.events import HistoryEvent
    from engine.history import Lane
    from engine.rewind import RewindView
# engine.events (the event classes) loads when a frame's event is first read.

OPEN = 1 << 62

TERMINAL = frozenset({"COMPLETED", "FAILED", "TERMINATED", "CONTINUED_AS_NEW"})
"""Statuses after which the code awaits nothing."""

BOOKKEEPING = frozenset({"orchestratorStarted", "orchestratorCompleted"})
"""Events a suspended orchestration holds back that are turn bookkeeping, not work for it:
frames list only what the orchestration will process as buffered."""
_new_record = tuple.__new__


@dataclass(frozen=True, slots=True)
class PendingAction:
    """An action the response would carry if the turn ended at this step."""

    id: int
    kind: str
    summary: str
    origin: SourceLocation | None
    """The source line that asked for it."""
    opened_at: int
    """The step (event index) during which the code asked for it."""


@dataclass(frozen=True, slots=True)
class OpenTask:
    """Something the orchestration waits on: activity, timer, sub-orchestration or event."""

    id: int
    """The sequence number (task id) it waits under; ``-1`` for an external-event wait."""
    kind: str
    """``activity``, ``sub-orchestration``, ``timer``, ``retry timer`` or ``external event``."""
    name: str
    origin: SourceLocation | None
    """The source line that opened it (with code)."""
    opened_at: int
    """The event index that opened it (history-only) or during which code opened it."""


@dataclass(frozen=True, slots=True)
class BufferedEvent:
    """An external event that arrived with no one waiting (or while suspended)."""

    name: str
    data: str | None
    received_at: int
    """The event index at which it arrived."""


NonDeterminismView = NonDeterminism
"""The name frames used for :class:`engine.outcome.NonDeterminism` (the same type)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """The replay's state right after one history event was applied."""

    index: int
    """The event index just applied (``-1``: before the first event)."""
    total: int
    """How many events the request holds."""
    event: HistoryEvent | None
    lane: Lane | None
    is_replaying: bool
    current_utc_datetime: datetime | None
    """The replay clock (aware UTC); ``None`` before the first ``orchestratorStarted``."""
    status: str
    """``PENDING``, ``RUNNING``, ``COMPLETED``, ``FAILED``, ``TERMINATED``, ``SUSPENDED``..."""
    suspended: bool
    custom_status: str | None
    pending_actions: tuple[PendingAction, ...]
    open_tasks: tuple[OpenTask, ...]
    buffered_events: tuple[BufferedEvent, ...]
    location: SourceLocation | None
    """Where the orchestrator code is suspended (with code)."""
    locals: tuple[tuple[str, str], ...]
    """Short reprs of the orchestrator's locals there (with code)."""
    note: str
    """What this step did, in a few words."""
    processed: bool
    """False when the event was not applied (the replay had stopped, or it was buffered)."""
    nondeterminism: NonDeterminism | None
    """Set from the step where code and history disagreed onwards."""
    failure: FailureDetails | None
    """The orchestration's failure, once it failed."""
    with_code: bool
    rewind: RewindView | None = None
    """What the request's ``executionRewound`` event changes, at that step (a rewind turn's:
    from it on)."""
    awaiting: Awaited | None = None
    """With code, while running: the task the code yielded, with its ``when_all`` /
    ``when_any`` structure, each task done, open or lost."""
    lost: tuple[OpenTask, ...] = ()
    """With code: open tasks that lost a decided ``when_any`` race and are not awaited now
    (still running: a loser is not cancelled)."""


class StepRecord(NamedTuple):
    """What one step left behind, as the replayers reported it right after applying it.

    Immutable, slotted, one named field per fact; :meth:`FrameRecorder.record` is its only
    writer and takes exactly these fields. The recorder stores each step as a plain tuple in
    this field order and hands out :class:`StepRecord` values when read: making a record
    object per event (a named tuple costs about twice a plain tuple, a frozen dataclass over
    ten times) would slow the frame-recorded replay of every event for no reader's benefit.
    """

    clock: ClockToken
    """The replay clock, as cheaply as the replayer holds it (see :func:`clock_from_token`)."""
    status: str
    """The status the replayer reports (``SUSPENDED`` included)."""
    suspended: bool
    custom_status: str | None
    location: SourceLocation | None
    """Where the orchestrator code stands (with code)."""
    locals: tuple[tuple[str, str], ...]
    note: str
    """What the step did, in a few words."""
    processed: bool
    """Whether the replayer applied the event (``False``: stopped before it, or buffered)."""
    failure: FailureDetails | None
    turn_end_action: PendingAction | None
    """An action only the end of the turn adds (continue-as-new), shown as pending."""


class _IntervalSet:
    """Items that open and close at steps; ``at(step)`` lists those open after that step.

    Kept as parallel lists (open step, close step, item) so recording allocates no objects.
    """

    __slots__ = ("items", "keys", "opens", "closes", "live")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.keys: list[Any] = []
        self.opens: list[int] = []
        self.closes: list[int] = []
        self.live: dict[Any, int] = {}

    def open(self, key: Any, step: int, item: Any) -> None:
        self.live[key] = len(self.items)
        self.items.append(item)
        self.keys.append(key)
        self.opens.append(step)
        self.closes.append(OPEN)

    def close(self, key: Any, step: int) -> None:
        pos = self.live.pop(key, None)
        if pos is not None:
            self.closes[pos] = step

    def at(self, step: int) -> list[Any]:
        end = bisect_right(self.opens, step)
        closes = self.closes
        items = self.items
        return [items[i] for i in range(end) if closes[i] > step]

    def keys_at(self, step: int) -> list[Any]:
        """The keys of the items open after ``step``, in the order they opened."""
        end = bisect_right(self.opens, step)
        closes = self.closes
        keys = self.keys
        return [keys[i] for i in range(end) if closes[i] > step]


class FrameRecorder(Tracker):
    """Records what every step changed, so any frame can be rebuilt instantly.

    Per step it keeps one :class:`StepRecord`, written only through :meth:`record`; open state
    is kept as intervals holding the raw objects (actions, task descriptions), turned into frame
    values only when a frame is built.
    """

    def __init__(
        self,
        event_at: Callable[[int], HistoryEvent],
        total: int,
        past_count: int,
        with_code: bool,
    ) -> None:
        self.event_at = event_at
        self.total = total
        self.past_count = past_count
        self.with_code = with_code
        self.step = 0
        """The step that changes reported now belong to: the next one to be recorded."""
        self.actions = _IntervalSet()
        self.tasks = _IntervalSet()
        self.waits = _IntervalSet()
        self.buffered = _IntervalSet()
        self._steps: list[tuple[Any, ...]] = []
        """One tuple per step, in :class:`StepRecord` field order (written by :meth:`record`)."""
        self._append = self._steps.append
        self.nondeterminism: NonDeterminism | None = None
        """Where code and history disagreed, once the replay found it."""
        self.rewind: RewindView | None = None
        """What the request's rewind changes (set by the session before recording)."""
        self._handles: dict[int, list[int]] = {}
        """Each SDK task the code holds (by ``id``) and the open-state keys it waited under
        (a retried task and its back-off timers, a long timer and its chunks share one): a
        task id, or ``~key`` (negative) for an external-event wait."""
        self._described: dict[int, tuple[int, tuple[Any, ...]]] = {}
        """Each such key's handle and task description (as the intervals hold it)."""
        self._tree_steps: list[int] = []
        self._trees: list[RawNode] = []
        """What the code yielded, from the step in ``_tree_steps`` on."""
        self._raced: dict[int, int] = {}
        """Tasks that were in a ``when_any`` (by handle), and the step they first were."""

    @property
    def recorded(self) -> int:
        """How many steps are recorded so far."""
        return len(self._steps)

    @property
    def last(self) -> StepRecord | None:
        """The latest step's record (``None`` before the first)."""
        steps = self._steps
        return _new_record(StepRecord, steps[-1]) if steps else None

    def step_record(self, index: int) -> StepRecord:
        """The record of step ``index``."""
        return _new_record(StepRecord, self._steps[index])

    def record(
        self,
        clock: ClockToken,
        status: str,
        suspended: bool,
        custom_status: str | None,
        location: SourceLocation | None,
        locals_: tuple[tuple[str, str], ...],
        note: str,
        processed: bool,
        failure: FailureDetails | None,
        turn_end_action: PendingAction | None,
    ) -> None:
        """Record what the replayer reported after applying the current step; the next begins.

        Steps are recorded in order, so the recorder moves on by itself (no :meth:`begin`
        needed between two consecutive steps).
        """
        self._append(
            (
                clock,
                status,
                suspended,
                custom_status,
                location,
                locals_,
                note,
                processed,
                failure,
                turn_end_action,
            )
        )
        self.step = len(self._steps)

    # --- Tracker ----------------------------------------------------------------------

    def action_added(self, action: Action) -> None:
        self.actions.open(action.id, self.step, (action, self.step))

    def action_removed(self, action_id: int, action: Action) -> None:
        self.actions.close(action_id, self.step)

    def task_added(
        self,
        task_id: int,
        kind: str,
        name: str,
        origin: SourceLocation | None,
        handle: object = None,
    ) -> None:
        item = (task_id, kind, name, origin, self.step)
        self.tasks.open(task_id, self.step, item)
        if handle is not None:  # inlined: it runs once per task scheduled
            h = id(handle)
            keys = self._handles.get(h)
            if keys is None:
                self._handles[h] = [task_id]
            elif task_id not in keys:
                keys.append(task_id)
            self._described[task_id] = (h, item)

    def task_removed(self, task_id: int) -> None:
        self.tasks.close(task_id, self.step)

    def wait_added(self, key: int, name: str, origin: SourceLocation | None) -> None:
        item = (-1, "external event", name, origin, self.step)
        self.waits.open(key, self.step, item)
        self._handles[key] = [~key]  # the key is the waiting task's id()
        self._described[~key] = (key, item)

    def wait_removed(self, key: int) -> None:
        self.waits.close(key, self.step)

    def buffered_added(self, seq: Hashable, name: str, data: str | None) -> None:
        if data is None and name in BOOKKEEPING:
            return  # held back while suspended, but not something the orchestration processes
        self.buffered.open(seq, self.step, (name, data, self.step))

    def buffered_removed(self, seq: Hashable) -> None:
        self.buffered.close(seq, self.step)

    def awaiting(self, awaited: object) -> None:
        composite = isinstance(awaited, sdk.task_module().CompositeTask)
        raw = raw_tree(awaited) if composite else ("task", id(awaited))
        step = self.step
        if self._tree_steps and self._tree_steps[-1] == step:
            self._trees[-1] = raw  # resumed more than once in one step: the last yield counts
        else:
            self._tree_steps.append(step)
            self._trees.append(raw)
        if composite:
            for handle in race_entrants(raw):
                self._raced.setdefault(handle, step)

    def _awaiting_at(self, index: int, status: str) -> tuple[Awaited | None, tuple[OpenTask, ...]]:
        """What the code awaits after step ``index``, and the open tasks that lost a race."""
        if not self._trees:
            return None, ()
        open_keys = self.tasks.keys_at(index)
        open_keys.extend(~k for k in self.waits.keys_at(index))
        is_open_key = set(open_keys).__contains__
        handles = self._handles
        described = self._described

        def is_open(handle: int) -> bool:
            keys = handles.get(handle)
            if not keys:
                return False
            if len(keys) == 1:
                return is_open_key(keys[0])
            return any(is_open_key(k) for k in keys)

        def describe(handle: int) -> OpenTask | None:
            keys = handles.get(handle)
            if not keys:
                return None  # done before the code awaited it (a buffered event, say)
            key = next((k for k in reversed(keys) if is_open_key(k)), keys[-1])
            return OpenTask(*described[key][1])

        pos = bisect_right(self._tree_steps, index) - 1
        raw = self._trees[pos] if pos >= 0 and status not in TERMINAL else None
        tree = resolve(raw, is_open, describe) if raw is not None else None
        raced = self._raced
        if not raced:
            return tree, ()
        in_tree = set(leaves(raw)) if raw is not None else set()
        lost = []
        for key in open_keys:
            known = described.get(key)
            if known is not None and known[0] not in in_tree and raced.get(known[0], OPEN) <= index:
                lost.append(OpenTask(*known[1]))
        return tree, tuple(lost)

    # --- per-step scalars ---------------------------------------------------------------

    def begin(self, step: int) -> None:
        """Changes reported from now on belong to ``step`` (the next to record, by default)."""
        self.step = step

    def frame(self, index: int) -> Frame:
        """The frame after event ``index`` (``-1``: before the first event)."""
        if index < 0:
            return self._before_first()
        if index >= len(self._steps):
            raise IndexError(f"step {index} is not recorded yet ({len(self._steps)} are)")
        step = self.step_record(index)
        rewind = self.rewind if self.rewind is not None and self.rewind.shown_at(index) else None
        nd = self.nondeterminism
        awaiting, lost = self._awaiting_at(index, step.status)
        if rewind is not None and rewind.rewinds_now:
            awaiting, lost = None, ()  # the turn answers with the rewind: the code awaits nothing
        return Frame(
            index=index,
            total=self.total,
            event=self.event_at(index),
            lane="past" if index < self.past_count else "new",
            is_replaying=index < self.past_count,
            current_utc_datetime=clock_from_token(step.clock),
            status=step.status,
            suspended=step.suspended,
            custom_status=step.custom_status,
            pending_actions=self._actions_at(index, step),
            open_tasks=self._open_at(index),
            buffered_events=tuple(BufferedEvent(*b) for b in self.buffered.at(index)),
            location=step.location,
            locals=step.locals,
            note=step.note,
            processed=step.processed,
            nondeterminism=nd if nd is not None and nd.event_index <= index else None,
            failure=step.failure,
            with_code=self.with_code,
            rewind=rewind,
            awaiting=awaiting,
            lost=lost,
        )

    def _before_first(self) -> Frame:
        """The frame before the first event: nothing applied yet."""
        return Frame(
            index=-1,
            total=self.total,
            event=None,
            lane=None,
            is_replaying=self.past_count > 0,
            current_utc_datetime=None,
            status="PENDING",
            suspended=False,
            custom_status=None,
            pending_actions=(),
            open_tasks=(),
            buffered_events=(),
            location=None,
            locals=(),
            note="before the first event",
            processed=True,
            nondeterminism=None,
            failure=None,
            with_code=self.with_code,
        )

    def _actions_at(self, index: int, step: StepRecord) -> tuple[PendingAction, ...]:
        """The actions pending after event ``index``, the turn's last one included."""
        actions = [
            PendingAction(a.id, a.kind, a.describe(), a.origin, opened)
            for a, opened in self.actions.at(index)
        ]
        end = step.turn_end_action
        if end is not None:
            # a rewind's response is that one action, whatever the replay had asked for
            actions = [end] if end.kind == "rewindOrchestration" else [*actions, end]
        return tuple(actions)

    def _open_at(self, index: int) -> tuple[OpenTask, ...]:
        """The tasks and waits open after event ``index``."""
        tasks = [OpenTask(*t) for t in self.tasks.at(index)]
        tasks.extend(OpenTask(*w) for w in self.waits.at(index))
        return tuple(tasks)
