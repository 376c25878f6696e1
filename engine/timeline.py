"""An instance's history as a timeline: bars on a time axis, turns marked.

:func:`build_timeline` reads the history events once (a 100,000-event request in well under a
second) and pairs what opened with what closed it: an activity from ``taskScheduled`` to its
completion or failure, a timer from ``timerCreated`` to ``timerFired``, a sub-orchestration from
its creation to its end, an entity call from ``entityOperationCalled`` to its answer, a
suspension from ``executionSuspended`` to ``executionResumed``; events raised, sent and entity
signals are points. A task scheduled again under the same name after a failure is a retry
(its ``attempt`` counts up). Each ``orchestratorStarted`` begins a turn.

The axis is the events' timestamps, in seconds from the first; a history without timestamps
(or all at one instant) is laid out by event index instead (:attr:`Timeline.by_index`).

This module never imports Textual or Rich.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from itertools import chain
from typing import Any, NamedTuple

from engine import entity_legacy as legacy
from engine.proto import orchestrator_service_pb2 as pb


class BarKind(Enum):
    """What a bar stands for."""

    ORCHESTRATION = "orchestration"
    ACTIVITY = "activity"
    TIMER = "timer"
    SUB_ORCHESTRATION = "sub-orchestration"
    ENTITY = "entity"
    EVENT = "event"
    SUSPENDED = "suspended"


class Bar(NamedTuple):
    """One row of the timeline; where it lies on the axis is :meth:`Timeline.start_of` / ``end_of``.

    Attributes:
        kind: What it stands for.
        label: Its name (activity, orchestrator, event, ``entity op``, timer's fire time).
        first: The index of the event that opened it.
        last: The index of the event that closed it (None: still open at the end).
        failed: It ended in failure.
        attempt: 1, or which retry of the same task it is.
        point: A single instant (an event raised or sent, an entity signal).
    """

    kind: BarKind
    label: str
    first: int
    last: int | None = None
    failed: bool = False
    attempt: int = 1
    point: bool = False

    def contains(self, index: int) -> bool:
        """Whether the event ``index`` falls within this bar."""
        if self.last is None:
            return index >= self.first and not self.point
        return self.first <= index <= self.last


@dataclass(frozen=True)
class Timeline:
    """The bars, the turns and the axis of one history.

    Attributes:
        bars: In the order they opened.
        turns: Where each turn began, on the axis.
        turn_events: The index of each turn's ``orchestratorStarted``.
        times: Every event's place on the axis.
        span: The length of the axis (at least 1e-9).
        origin: The first timestamp (None: laid out by event index).
        by_index: The axis is event indexes, not seconds.
    """

    bars: tuple[Bar, ...]
    turns: tuple[float, ...]
    turn_events: tuple[int, ...]
    times: tuple[float, ...]
    span: float
    origin: datetime | None
    by_index: bool

    def start_of(self, bar: Bar) -> float:
        """Where the bar begins on the axis."""
        return self.times[bar.first]

    def end_of(self, bar: Bar) -> float | None:
        """Where the bar ends on the axis (None: still open)."""
        return None if bar.last is None else self.times[bar.last]

    def turn_of(self, index: int) -> int:
        """The number (from 1) of the turn the event ``index`` belongs to (0: before any)."""
        return bisect.bisect_right(self.turn_events, index)

    def time_of(self, index: int) -> float:
        """The event's place on the axis (clamped to the history)."""
        if not self.times:
            return 0.0
        return self.times[max(0, min(index, len(self.times) - 1))]

    def failures(self) -> int:
        """How many bars ended in failure."""
        return sum(1 for bar in self.bars if bar.failed)

    def column(self, at: float, width: int) -> int:
        """The cell (0 to ``width - 1``) of a place on the axis in a track ``width`` wide."""
        if width <= 1:
            return 0
        col = int(at / self.span * (width - 1) + 0.5)
        return max(0, min(width - 1, col))


_OPEN = {
    "taskScheduled": BarKind.ACTIVITY,
    "subOrchestrationInstanceCreated": BarKind.SUB_ORCHESTRATION,
    "timerCreated": BarKind.TIMER,
    "entityOperationCalled": BarKind.ENTITY,
}
_CLOSE_TASK = {
    "taskCompleted": False,
    "taskFailed": True,
    "subOrchestrationInstanceCompleted": False,
    "subOrchestrationInstanceFailed": True,
}
_POINTS = ("eventRaised", "eventSent", "entityOperationSignaled")
_LIFECYCLE = (
    "executionStarted",
    "executionCompleted",
    "executionTerminated",
    "continueAsNew",
    "executionSuspended",
    "executionResumed",
)


class _Builder:
    """One pass over the events, pairing opens with closes."""

    def __init__(self) -> None:
        self.bars: list[Bar] = []
        self.open: dict[tuple[str, object], int] = {}
        self.last_attempt: dict[tuple[BarKind, str], tuple[int, bool]] = {}
        self.turns: list[int] = []
        self.run: int | None = None
        self.suspended: int | None = None
        self.legacy_locks: set[str] = set()

    def add(self, bar: Bar, key: tuple[str, object] | None = None) -> None:
        if key is not None:
            self.open[key] = len(self.bars)
        self.bars.append(bar)

    def close(self, key: tuple[str, object], index: int, failed: bool) -> None:
        slot = self.open.pop(key, None)
        if slot is None:
            return
        bar = self.bars[slot] = self.bars[slot]._replace(last=index, failed=failed)
        if bar.kind is BarKind.ACTIVITY or bar.kind is BarKind.SUB_ORCHESTRATION:
            self.last_attempt[(bar.kind, bar.label)] = (bar.attempt, failed)

    def attempt(self, kind: BarKind, label: str) -> int:
        before = self.last_attempt.get((kind, label))
        return before[0] + 1 if before is not None and before[1] else 1

    def handlers(self) -> dict[str, Callable[[int, pb.HistoryEvent, str], None]]:
        """Each event kind that makes or ends a bar, and what it does (the rest are skipped)."""
        table: dict[str, Callable[[int, pb.HistoryEvent, str], None]] = {
            "orchestratorStarted": self._turn,
            "timerFired": self._timer_fired,
            "entityOperationCompleted": self._entity_done,
            "entityOperationFailed": self._entity_done,
        }
        table.update(dict.fromkeys(_OPEN, self._open))
        table.update(dict.fromkeys(_CLOSE_TASK, self._task_done))
        table.update(dict.fromkeys(_POINTS, self._point))
        table.update(dict.fromkeys(_LIFECYCLE, self._lifecycle))
        return table

    def _turn(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        self.turns.append(index)

    def _task_done(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        self.close(("task", getattr(event, which).taskScheduledId), index, _CLOSE_TASK[which])

    def _timer_fired(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        self.close(("task", event.timerFired.timerId), index, False)

    def _entity_done(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        request_id = getattr(event, which).requestId
        self.close(("entity", request_id), index, which == "entityOperationFailed")

    def _open(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        kind = _OPEN[which]
        if which == "timerCreated":
            fire = event.timerCreated.fireAt
            label = f"timer {fire.ToDatetime():%H:%M:%S}" if fire.seconds else "timer"
            self.add(Bar(kind, label, index), ("task", event.eventId))
        elif which == "entityOperationCalled":
            call = event.entityOperationCalled
            label = f"{call.targetInstanceId.value or 'entity'} {call.operation}".strip()
            self.add(Bar(kind, label, index), ("entity", call.requestId))
        else:
            label = getattr(event, which).name
            self.add(
                Bar(kind, label, index, attempt=self.attempt(kind, label)), ("task", event.eventId)
            )

    def _point(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        body = getattr(event, which)
        if which in ("eventSent", "eventRaised") and self._legacy_entity(index, which, body):
            return
        if which == "eventSent":
            label = f"sent {body.name} → {body.instanceId}"
        elif which == "entityOperationSignaled":
            label = f"signal {body.targetInstanceId.value} {body.operation}"
        else:
            label = f"event {body.name}"
        self.add(Bar(BarKind.EVENT, label, index, index, point=True))

    def _legacy_entity(self, index: int, which: str, body: Any) -> bool:
        """An entity call or signal in the legacy Durable Functions shape, or its reply."""
        if which == "eventRaised":
            if body.name in self.legacy_locks:  # a grant: locks draw no bar, as in the new shape
                self.legacy_locks.discard(body.name)
                return True
            if ("entity", body.name) not in self.open:
                return False
            self.close(("entity", body.name), index, legacy.reply_failed(body.input.value))
            return True
        request = legacy.read_request(body.instanceId, body.name, body.input.value)
        if request is None:
            return False
        if request.kind == "lock":
            self.legacy_locks.add(request.request_id)
        elif request.kind == "signal":
            self.add(Bar(BarKind.EVENT, f"signal {request.label}", index, index, point=True))
        elif request.kind == "call":
            self.add(Bar(BarKind.ENTITY, request.label, index), ("entity", request.request_id))
        return True

    def _lifecycle(self, index: int, event: pb.HistoryEvent, which: str) -> None:
        if which == "executionStarted" and self.run is None:
            self.run = len(self.bars)
            name = event.executionStarted.name
            self.add(Bar(BarKind.ORCHESTRATION, name or "orchestration", index))
        elif which in ("executionCompleted", "executionTerminated", "continueAsNew"):
            if self.run is not None:
                failed = which == "executionTerminated" or (
                    which == "executionCompleted"
                    and event.executionCompleted.orchestrationStatus
                    == pb.ORCHESTRATION_STATUS_FAILED
                )
                self.bars[self.run] = self.bars[self.run]._replace(last=index, failed=failed)
        elif which == "executionSuspended" and self.suspended is None:
            self.suspended = len(self.bars)
            self.add(Bar(BarKind.SUSPENDED, "suspended", index))
        elif which == "executionResumed" and self.suspended is not None:
            self.bars[self.suspended] = self.bars[self.suspended]._replace(last=index)
            self.suspended = None


def _axis(stamps: list[float]) -> tuple[list[float], datetime | None]:
    """Seconds from the first timestamp; by event index where there are no times to lay out."""
    first = next((s for s in stamps if s), None)
    if first is None or max(stamps) - first <= 0:
        return [float(i) for i in range(len(stamps))], None
    times = [s - first if s > first else 0.0 for s in stamps]
    return times, datetime.fromtimestamp(first, timezone.utc)


def build_timeline(events: Iterable[pb.HistoryEvent]) -> Timeline:
    """The timeline of a history, oldest event first.

    Args:
        events: The history (past then new events, as a request holds them).

    Returns:
        The bars, turns and axis.
    """
    builder = _Builder()
    stamps: list[float] = []
    last = 0.0
    handlers = builder.handlers()
    for index, event in enumerate(events):
        ts = event.timestamp
        seconds = ts.seconds
        if seconds:
            last = seconds + ts.nanos / 1e9
        stamps.append(last)
        which = event.WhichOneof("eventType")
        handler = handlers.get(which) if which is not None else None
        if handler is not None:
            handler(index, event, which)
    times, origin = _axis(stamps)
    return Timeline(
        tuple(builder.bars),
        tuple(times[i] for i in builder.turns),
        tuple(builder.turns),
        tuple(times),
        max(times[-1] if times else 0.0, 1e-9),
        origin,
        origin is None,
    )


def request_timeline(request: pb.OrchestratorRequest) -> Timeline:
    """The timeline of a request's whole history (past events, then new ones)."""
    return build_timeline(chain(request.pastEvents, request.newEvents))


def axis_label(timeline: Timeline, at: float) -> str:
    """A place on the axis as a tick says it: ``+1.5 s``, ``+2 min``, or ``#120`` by index."""
    if timeline.by_index:
        return f"#{int(at)}"
    if at < 60:
        return f"+{at:.3g} s"
    if at < 3600:
        return f"+{at / 60:.3g} min"
    return f"+{at / 3600:.3g} h"
