"""History-only replay: derive the orchestration's state from the events alone.

No user code runs. What only code can know (source, locals, pending actions, waits for
external events) stays empty; everything else (clock, status, open activities, timers,
sub-orchestrations and entity calls, suspension and what it buffered) is derived, so a .NET or
Java history is as readable as a Python one. Sequence numbers are never assumed to start at 0
or 1: scheduling events are matched to completions by id, whatever the numbering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine import entity_legacy as legacy
from engine import history as h
from engine.tracker import Tracker

if TYPE_CHECKING:
    from engine.clock import ClockToken


class HistoryReplayer:
    """Applies one history event per :meth:`apply`, reporting open state to a tracker."""

    def __init__(self, request: h.OrchestrationRequest, tracker: Tracker) -> None:
        self.event_at = request.event
        self._proto = request.proto
        self._messages: list[Any] | None = None
        self._kinds: list[str | None] | None = None
        """The events' messages, past then new, listed at the first :meth:`apply` (in the
        replay's thread, not before a UI's first screen)."""
        self.tracker = tracker
        self._dapr = request.dapr_facts if request.dapr is not None else None
        """Dapr's facts of an event by index (a request read in Dapr's dialect), else None."""
        self._waits: dict[str, list[int]] = {}
        """Dapr's event-wait timers still open, by event name (lower case), oldest first."""
        self.clock_token: ClockToken = None
        """The replay clock, as cheaply as held (see :func:`engine.turn.clock_from_token`):
        the last ``orchestratorStarted`` timestamp."""
        self._status = "PENDING"
        self.suspended = False
        self.suspended_events: list[tuple[int, h.HistoryEvent]] = []
        self.failure: h.FailureDetails | None = None
        """The orchestration's failure, once ``executionCompleted`` recorded one."""
        self.note = ""
        """What the last :meth:`apply` did, in a few words."""
        self.processed = True
        """Whether the last :meth:`apply` applied its event (``False``: buffered, suspended)."""
        self._index = -1
        self._entity_keys: dict[str, int] = {}
        self._open_ids: set[int] = set()
        self._next_entity_key = -2
        self._labels: dict[int, tuple[str, str]] = {}
        self._legacy: dict[str, str] = {}
        """Entity requests sent in the legacy shape (``eventSent``), by the id replies carry."""
        """What an entity key stands for (kind, name), for notes: its number is internal."""
        self._dispatch: dict[type, Callable[[Any], None]] | None = None
        """The handlers of the event dataclasses, by type (built when first needed: listing
        the classes imports them)."""

        self._fast: dict[str, Callable[[Any], None]] = self._fast_handlers()
        """The commonest event kinds, applied from the message itself (not suspended)."""

    def _handlers(self) -> dict[type, Callable[[Any], None]]:
        """The handler of each event dataclass."""
        return {
            h.OrchestratorStarted: self._orchestrator_started,
            h.ExecutionStarted: self._execution_started,
            h.ExecutionCompleted: self._execution_completed,
            h.ExecutionTerminated: self._execution_terminated,
            h.TaskScheduled: lambda ev: self._open(
                ev.event_id, "activity", self._routed(ev.task_name)
            ),
            h.TaskCompleted: lambda ev: self._close(ev.task_scheduled_id, "completed"),
            h.TaskFailed: lambda ev: self._close(ev.task_scheduled_id, "failed"),
            h.SubOrchestrationCreated: lambda ev: self._open(
                ev.event_id,
                "sub-orchestration",
                self._routed(f"{ev.orchestration_name} ({ev.instance_id})"),
            ),
            h.SubOrchestrationCompleted: lambda ev: self._close(ev.task_scheduled_id, "completed"),
            h.SubOrchestrationFailed: lambda ev: self._close(ev.task_scheduled_id, "failed"),
            h.TimerCreated: self._timer_created,
            h.TimerFired: lambda ev: self._timer_fired(ev.timer_id),
            h.EventRaised: lambda ev: self._event_raised(ev.event_name, ev.input),
            h.EventSent: self._event_sent,
            h.ExecutionSuspended: self._execution_suspended,
            h.ExecutionResumed: self._execution_resumed,
            h.EntityOperationCalled: lambda ev: self._open(
                self._entity_key(ev.request_id),
                "entity call",
                f"{ev.target_instance_id} {ev.operation}",
            ),
            h.EntityOperationCompleted: lambda ev: self._close(
                self._entity_key(ev.request_id), "completed"
            ),
            h.EntityOperationFailed: lambda ev: self._close(
                self._entity_key(ev.request_id), "failed"
            ),
            h.EntityLockRequested: lambda ev: self._open(
                self._entity_key(ev.critical_section_id), "entity lock", ", ".join(ev.lock_set)
            ),
            h.EntityLockGranted: self._lock_granted,
            h.EntityUnlockSent: lambda ev: self._close(
                self._entity_key(ev.critical_section_id), "released"
            ),
            h.ContinueAsNew: self._continue_as_new,
        }

    def _fast_handlers(self) -> dict[str, Callable[[Any], None]]:
        """Handlers reading the event's message: the same calls as the dataclass handlers."""
        return {
            "orchestratorStarted": self._started_message,
            "orchestratorCompleted": self._nothing,
            "taskScheduled": lambda m: self._open(
                m.eventId, "activity", self._routed(m.taskScheduled.name)
            ),
            "taskCompleted": lambda m: self._close(m.taskCompleted.taskScheduledId, "completed"),
            "taskFailed": lambda m: self._close(m.taskFailed.taskScheduledId, "failed"),
            "subOrchestrationInstanceCompleted": lambda m: self._close(
                m.subOrchestrationInstanceCompleted.taskScheduledId, "completed"
            ),
            "subOrchestrationInstanceFailed": lambda m: self._close(
                m.subOrchestrationInstanceFailed.taskScheduledId, "failed"
            ),
            "timerFired": lambda m: self._timer_fired(m.timerFired.timerId),
            "eventRaised": self._raised_message,
        }

    @property
    def messages(self) -> list[Any]:
        """The events' messages, past then new (listed once, when first needed)."""
        if self._messages is None:
            proto = self._proto
            self._messages = [*proto.pastEvents, *proto.newEvents]
        return self._messages

    @property
    def kinds(self) -> list[str | None]:
        """Each event's kind (its oneof member; None if unset), read once, when first needed."""
        if self._kinds is None:
            self._kinds = [m.WhichOneof("eventType") for m in self.messages]
        return self._kinds

    @property
    def clock(self) -> datetime | None:
        """The replay clock: the last ``orchestratorStarted`` timestamp (aware UTC)."""
        from engine.clock import clock_from_token

        return clock_from_token(self.clock_token)

    def apply(self, index: int) -> None:
        """Apply the event at ``index`` (in order)."""
        self._index = index
        if not self.suspended:
            kinds = self._kinds
            if kinds is None:
                kinds = self.kinds
            fast = self._fast.get(kinds[index])  # type: ignore[arg-type]
            if fast is not None:
                self.note = ""
                fast(self._messages[index])  # type: ignore[index]
                self.processed = True
                return
        self.processed = self._process(self.event_at(index))

    def apply_rows(self, rows: Sequence[Any], tracker: Any) -> None:
        """Apply every event, in order, from its listing row (:func:`engine.event_rows.
        event_rows`), reporting to ``tracker`` (which keeps the latest state, see
        :mod:`engine.history_final`); ``tracker.step`` is set to each event's index.

        The commonest kinds are applied from the row itself, with the same effects on the
        state as their handlers (the notes aside: only the last state is read); any other,
        and every event while suspended or of a Dapr request, goes through :meth:`_process`.
        """
        process, event_at = self._process, self.event_at
        if self._dapr is not None:
            for index in range(len(rows)):
                self._index = tracker.step = index
                self.processed = process(event_at(index))
            self._index = len(rows) - 1
            return
        reopen, close = tracker.tasks.reopen, tracker.tasks.close
        opened, closed = self._open_ids.add, self._open_ids.discard
        clock, suspended = self.clock_token, self.suspended
        for index, row in enumerate(rows):
            kind = row[0]
            if suspended:
                pass
            elif kind == "orchestratorStarted":
                if row[2] is not None:
                    clock = row[2]
                continue
            elif kind == "orchestratorCompleted":
                continue
            elif kind == "taskCompleted":  # as _close
                close(row[6][0])
                closed(row[6][0])
                continue
            elif kind == "taskScheduled" and row[1] >= -1:  # as _open (no label below -1)
                reopen(row[1], (row[1], "activity", row[6][0], None, index))
                opened(row[1])
                continue
            elif kind == "executionStarted":
                if self._status in ("PENDING", "CONTINUED_AS_NEW"):
                    self._status = "RUNNING"
                continue
            self.clock_token = clock
            self._index = tracker.step = index
            self.processed = process(event_at(index))
            clock, suspended = self.clock_token, self.suspended
        self.clock_token = clock
        self._index = len(rows) - 1

    @property
    def status(self) -> str:
        """The status after the last :meth:`apply` (``SUSPENDED`` while suspended and running)."""
        status = self._status
        return "SUSPENDED" if self.suspended and status == "RUNNING" else status

    def _process(self, ev: h.HistoryEvent) -> bool:
        """Apply one event; ``False`` when it was only buffered (the orchestration is suspended)."""
        if self.suspended and not isinstance(ev, (h.ExecutionResumed, h.ExecutionTerminated)):
            self.suspended_events.append((self._index, ev))
            self.tracker.buffered_added(self._index, ev.name or ev.kind, ev.payload)
            self.note = "buffered: the orchestration is suspended"
            return False
        dispatch = self._dispatch
        if dispatch is None:
            dispatch = self._dispatch = self._handlers()
        handler = dispatch.get(type(ev))
        if handler is None:
            self.note = f"{ev.kind}: nothing to derive"
            return True
        self.note = ""
        handler(ev)
        return True

    def _entity_key(self, text: str) -> int:
        key = self._entity_keys.get(text)
        if key is None:
            key = self._next_entity_key
            self._next_entity_key -= 1
            self._entity_keys[text] = key
        return key

    def _open(self, task_id: int, kind: str, name: str) -> None:
        self.tracker.task_removed(task_id)  # a retry reuses its id: the old entry is closed
        self.tracker.task_added(task_id, kind, name, None)
        self._open_ids.add(task_id)
        if task_id < -1:  # an entity key: name it, never show its number
            self._labels[task_id] = (kind, name)
            self.note = f"{kind} '{name}' opened"
        else:
            self.note = f"{kind} '{name}' opened (task {task_id})"

    def _close(self, task_id: int, how: str) -> None:
        self.tracker.task_removed(task_id)
        self._open_ids.discard(task_id)
        label = self._labels.get(task_id)
        self.note = f"{label[0]} '{label[1]}' {how}" if label else f"task {task_id} {how}"

    def _lock_granted(self, ev: h.EntityLockGranted) -> None:
        self._grant(self._entity_key(ev.critical_section_id))

    def _grant(self, key: int) -> None:
        label = self._labels.get(key)
        self._close(key, "granted")
        if label is not None:  # held from the grant until the unlocks (``entityUnlockSent``)
            self.tracker.task_added(key, "held lock", label[1], None)
            self._open_ids.add(key)
            self._labels[key] = ("held lock", label[1])

    def _orchestrator_started(self, ev: h.OrchestratorStarted) -> None:
        if ev.timestamp is not None:
            self.clock_token = ev.timestamp
        self.note = "turn started; clock set"

    def _started_message(self, msg: Any) -> None:
        if msg.HasField("timestamp"):
            ts = msg.timestamp
            self.clock_token = (ts.seconds, ts.nanos)
        self.note = "turn started; clock set"

    def _nothing(self, ev: Any) -> None:
        self.note = "orchestratorCompleted: nothing to derive"

    def _execution_started(self, ev: h.ExecutionStarted) -> None:
        if self._status in ("PENDING", "CONTINUED_AS_NEW"):
            self._status = "RUNNING"
        self.note = f"orchestration '{ev.orchestration_name}' started"

    def _execution_completed(self, ev: h.ExecutionCompleted) -> None:
        self._status = h.status_name(ev.status)
        self.failure = ev.failure
        self._abandon_open("completed")
        self.note = f"execution completed: {self._status}"

    def _abandon_open(self, how: str) -> None:
        # A finished orchestration waits on nothing: a when_any's losing timer is not open.
        waits = {timer_id for ids in self._waits.values() for timer_id in ids}
        for task_id in sorted(self._open_ids):
            if task_id in waits:
                self.tracker.wait_removed(task_id)
            else:
                self.tracker.task_removed(task_id)
        self._open_ids.clear()
        self._waits.clear()

    def _execution_terminated(self, ev: h.ExecutionTerminated) -> None:
        self._status = "TERMINATED"
        self._abandon_open("terminated")
        self.note = "terminated"

    def _continue_as_new(self, ev: h.ContinueAsNew) -> None:
        self._status = "CONTINUED_AS_NEW"
        self.note = "continued as new"

    def _routed(self, name: str) -> str:
        """``name``, and the app it runs in when Dapr routed the call to another app."""
        if self._dapr is None:
            return name
        router = self._dapr(self._index).router
        target = router.target_app_id if router is not None else None
        return f"{name} in app '{target}'" if target else name

    def _timer_created(self, ev: h.TimerCreated) -> None:
        when = ev.fire_at.isoformat().replace("+00:00", "Z") if ev.fire_at else "?"
        origin = self._dapr(self._index).timer_origin if self._dapr is not None else None
        if origin is not None and origin.kind in ("activityRetry", "childWorkflowRetry"):
            self._open(ev.event_id, "retry timer", f"retry of {origin.key} at {when}")
            return
        if origin is None or origin.kind != "externalEvent":
            self._open(ev.event_id, "timer", f"timer until {when}")
            return
        # Dapr's timer behind wait_for_external_event: the wait's timeout, not a timer of its
        # own (at 9999-12-31 when the wait has none).
        from engine.dapr_facts import is_sentinel

        sentinel = ev.fire_at is not None and is_sentinel(int(ev.fire_at.timestamp()))
        timeout = "no timeout" if sentinel else f"times out at {when}"
        self.tracker.wait_added(ev.event_id, f"{origin.key} ({timeout})", None)
        self._waits.setdefault(origin.key.lower(), []).append(ev.event_id)
        self._open_ids.add(ev.event_id)
        self.note = f"waiting for event '{origin.key}' ({timeout}; timer {ev.event_id})"

    def _timer_fired(self, timer_id: int) -> None:
        for name, ids in self._waits.items():
            if timer_id in ids:
                ids.remove(timer_id)
                self.tracker.wait_removed(timer_id)
                self._open_ids.discard(timer_id)
                self.note = f"the wait for event '{name}' timed out (timer {timer_id})"
                return
        self._close(timer_id, "fired")

    def _event_sent(self, ev: h.EventSent) -> None:
        request = legacy.read_request(ev.instance_id, ev.event_name, ev.input)
        if request is None:
            self.note = f"event '{ev.event_name}' sent to {ev.instance_id}"
        elif request.kind == "signal":
            self.note = f"entity signal '{request.label}' sent"
        elif request.kind == "release":
            self._close(self._entity_key(request.request_id), "released")
        else:
            kind = "entity call" if request.kind == "call" else "entity lock"
            self._legacy[request.request_id] = request.kind
            self._open(self._entity_key(request.request_id), kind, request.label)

    def _raised_message(self, msg: Any) -> None:
        body = msg.eventRaised
        self._event_raised(body.name, body.input.value if body.HasField("input") else None)

    def _event_raised(self, event_name: str, data: str | None) -> None:
        kind = self._legacy.pop(event_name, None)
        if kind == "lock":
            self._grant(self._entity_key(event_name))
            return
        if kind == "call":
            how = "failed" if legacy.reply_failed(data) else "completed"
            self._close(self._entity_key(event_name), how)
            return
        self.note = f"event '{event_name}' received"
        waiting = self._waits.get((event_name or "").lower())
        if waiting:
            timer_id = waiting.pop(0)
            self.tracker.wait_removed(timer_id)
            self._open_ids.discard(timer_id)
            self.note += f"; the wait for it ends (timer {timer_id} cancelled)"

    def _execution_suspended(self, ev: h.ExecutionSuspended) -> None:
        self.suspended = True
        self.note = "suspended"

    def _execution_resumed(self, ev: h.ExecutionResumed) -> None:
        if not self.suspended:
            self.note = "resumed while not suspended: ignored"
            return
        self.suspended = False
        waiting, self.suspended_events = self.suspended_events, []
        for index, buffered in waiting:
            self.tracker.buffered_removed(index)
            self._process(buffered)
        self.note = f"resumed; {len(waiting)} buffered event(s) applied"
