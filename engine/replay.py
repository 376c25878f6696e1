"""The step machine: apply one history event at a time to the user's orchestrator.

:class:`CodeReplayer` runs the user's orchestrator code against the history the way the
durabletask Python SDK's executor does (same actions, custom status and completion), one
event per :meth:`CodeReplayer.apply` call. :class:`HistoryReplayer` derives what it can from
the events alone, for histories from any SDK. Both report every change of open state to a
:class:`engine.context.Tracker`, which is how frames get recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from durabletask import task
from durabletask.serialization import DEFAULT_DATA_CONVERTER

from engine import actions as act
from engine import history as h
from engine.actions import Action, SourceLocation
from engine.app_loader import UserApp
from engine.context import (
    STATUS_COMPLETED,
    STATUS_TERMINATED,
    ReplayContext,
    Tracker,
    sdk_failure_details,
)

try:
    from durabletask.internal import type_discovery as _type_discovery
except ImportError:  # pragma: no cover - older SDKs
    _type_discovery = None  # type: ignore[assignment]

_CONVERTER = DEFAULT_DATA_CONVERTER
_NAIVE_EPOCH = datetime(1970, 1, 1)


def naive_utc(value: datetime | None) -> datetime:
    """The naive-UTC form the SDK's clock uses (a missing timestamp is the epoch)."""
    if value is None:
        return _NAIVE_EPOCH
    return value.replace(tzinfo=None)


class OrchestratorNotRegisteredError(Exception):
    """The orchestrator named by ``executionStarted`` is not in the user's app."""


@dataclass(frozen=True, slots=True)
class NonDeterminism:
    """Where code and history disagree."""

    event_index: int
    """Index of the history event that could not be matched."""
    recorded: str
    """What the history recorded, e.g. ``taskScheduled #2 'charge'``."""
    asked: str
    """What the code asked for at that sequence number (or that it asked for nothing)."""
    location: SourceLocation | None
    """The source line that asked (or, when nothing was asked, where the code stood)."""
    message: str
    """The failure message the response carries (the SDK's wording)."""


class ReplayStopped(Exception):
    """Internal signal: an exception escaped while processing an event."""


def _no_action_message(task_id: int, method: str) -> str:
    return (
        f"A previous execution called {method} with ID={task_id}, but the current "
        "execution doesn't have this action with this ID. This problem occurs when either "
        "the orchestration has non-deterministic logic or if the code was changed after an "
        "instance of this orchestration already started running."
    )


def _wrong_type_message(task_id: int, expected: str, action: Action) -> str:
    actual = act.METHOD_OF_KIND.get(action.kind, action.kind)
    return (
        "Failed to restore orchestration state due to a history mismatch: A previous execution "
        f"called {expected} with ID={task_id}, but the current execution is instead trying to "
        f"call {actual} as part of rebuilding it's history. This kind of mismatch can happen if "
        "an orchestration has non-deterministic logic or if the code was changed after an "
        "instance of this orchestration already started running."
    )


def _wrong_name_message(task_id: int, method: str, expected: str, actual: str) -> str:
    return (
        "Failed to restore orchestration state due to a history mismatch: A previous execution "
        f"called {method} with name='{expected}' and sequence number {task_id}, but the current "
        f"execution is instead trying to call {actual} as part of rebuilding it's history. "
        "This kind of mismatch can happen if an orchestration has non-deterministic logic or if "
        "the code was changed after an instance of this orchestration already started running."
    )


def _wrong_target_message(task_id: int, method: str, expected: str, actual: str) -> str:
    return (
        "Failed to restore orchestration state due to a history mismatch: A previous execution "
        f"called {method} with target instance ID='{expected}' and sequence number {task_id}, "
        f"but the current execution is instead targeting instance ID='{actual}' as part of "
        "rebuilding its history. This kind of mismatch can happen if an orchestration has "
        "non-deterministic logic or if the code was changed after an instance of this "
        "orchestration already started running."
    )


def _recorded(ev: h.HistoryEvent) -> str:
    name = ev.name
    return f"{ev.kind} #{ev.event_id}" + (f" '{name}'" if name else "")


class CodeReplayer:
    """Replays history into the user's orchestrator code, one event per :meth:`apply`."""

    def __init__(
        self,
        request: h.OrchestrationRequest,
        app: UserApp,
        *,
        tracker: Tracker | None = None,
        strict: bool = False,
        maximum_timer_interval: timedelta | None = timedelta(days=3),
    ) -> None:
        self.request = request
        self.app = app
        self.strict = strict
        self.ctx = ReplayContext(
            request.instance_id,
            maximum_timer_interval=maximum_timer_interval,
            tracker=tracker,
        )
        self.events = request.events
        self.past_count = len(request.past_events)
        self.suspended = False
        self.suspended_events: list[tuple[int, h.HistoryEvent]] = []
        self.stopped = False
        self.started = False
        """Whether ``executionStarted`` has been applied."""
        """An exception ended the replay: later events are not processed (as in the SDK)."""
        self.nondeterminism: NonDeterminism | None = None
        self.failure_exception: BaseException | None = None
        self.note = ""
        """What the last :meth:`apply` did, in a few words."""
        self._index = -1
        self._dispatch: dict[type, Callable[[Any], None]] = {
            h.OrchestratorStarted: self._apply_orchestrator_started,
            h.ExecutionStarted: self._apply_execution_started,
            h.TaskScheduled: self._apply_task_scheduled,
            h.TaskCompleted: self._apply_task_completed,
            h.TaskFailed: self._apply_task_failed,
            h.SubOrchestrationCreated: self._apply_sub_orchestration_created,
            h.SubOrchestrationCompleted: self._apply_sub_orchestration_completed,
            h.SubOrchestrationFailed: self._apply_sub_orchestration_failed,
            h.TimerCreated: self._apply_timer_created,
            h.TimerFired: self._apply_timer_fired,
            h.EventSent: self._apply_event_sent,
            h.EventRaised: self._apply_event_raised,
            h.ExecutionSuspended: self._apply_execution_suspended,
            h.ExecutionResumed: self._apply_execution_resumed,
            h.ExecutionTerminated: self._apply_execution_terminated,
            h.OrchestratorCompleted: self._ignore,
            h.ExecutionCompleted: self._ignore,
            h.ExecutionRewound: self._ignore,
            h.GenericEvent: self._ignore,
        }

    # --- driving --------------------------------------------------------------------------

    def apply(self, index: int) -> None:
        """Apply the event at ``index`` (events must be applied in order)."""
        self._index = index
        if index == self.past_count:
            self.ctx.set_replaying(False)
        if self.stopped:
            self.note = "not processed: the replay stopped at an earlier event"
            return
        self.note = ""
        try:
            self._process(self.events[index])
        except ReplayStopped:
            pass
        finally:
            self._index = index

    def _process(self, ev: h.HistoryEvent) -> None:
        if self.suspended and not isinstance(ev, (h.ExecutionResumed, h.ExecutionTerminated)):
            self.suspended_events.append((self._index, ev))
            self.note = "buffered: the orchestration is suspended"
            return
        handler = self._dispatch.get(type(ev))
        try:
            if handler is None:
                self._unknown(ev)
            else:
                handler(ev)
        except StopIteration as done:
            self.ctx.set_complete(done.value, STATUS_COMPLETED)
            self.note = "orchestrator returned"
        except ReplayStopped:
            raise
        except Exception as exc:  # noqa: BLE001 - user code may raise anything: it fails the turn
            self.stopped = True
            self.failure_exception = exc
            if isinstance(exc, task.NonDeterminismError):
                found = self.nondeterminism
                if found is None:
                    found = NonDeterminism(
                        self._index, _recorded(ev), "?", self.ctx.code_location(), ""
                    )
                self.nondeterminism = replace(found, message=str(exc))
            self.ctx.set_failed(exc)
            self.note = f"failed: {type(exc).__name__}: {exc}"
            raise ReplayStopped from exc

    def result_actions(self) -> list[Action]:
        """The actions the response carries (call once, after the last event)."""
        return self.ctx.final_actions()

    # --- event handlers -----------------------------------------------------------------

    def _ignore(self, ev: h.HistoryEvent) -> None:
        self.note = "nothing to do"

    def _unknown(self, ev: h.HistoryEvent) -> None:
        if self.strict:
            raise task.OrchestrationStateError(
                f"Don't know how to handle event of type '{ev.kind}'"
            )
        self.note = f"ignored: the engine does not act on {ev.kind} here"

    def _apply_orchestrator_started(self, ev: h.OrchestratorStarted) -> None:
        self.ctx.set_clock(naive_utc(ev.timestamp))
        self.note = "clock set"

    def _apply_execution_started(self, ev: h.ExecutionStarted) -> None:
        fn = self.app.functions.get(ev.orchestration_name)
        if fn is None:
            raise OrchestratorNotRegisteredError(
                f"A '{ev.orchestration_name}' orchestrator was not registered."
            )
        self.started = True
        self.ctx.set_origin(ev.version, ev.parent_instance_id)
        value: Any = None
        if ev.input is not None and ev.input != "":
            expected = None
            if _type_discovery is not None:
                expected = _type_discovery.orchestrator_input_type(fn, _CONVERTER)
            value = _CONVERTER.deserialize(ev.input, expected)
        self.note = "orchestrator started"
        self.ctx.start(fn, value)

    def _match(self, ev: h.HistoryEvent, kind: str, method: str) -> Action:
        action = self.ctx.take_action(ev.event_id)
        if action is None:
            self._diverged(ev, "nothing with this sequence number", None)
            raise task.NonDeterminismError(_no_action_message(ev.event_id, method))
        if action.kind != kind:
            self._diverged(ev, action.describe(), action.origin)
            raise task.NonDeterminismError(_wrong_type_message(ev.event_id, method, action))
        return action

    def _diverged(self, ev: h.HistoryEvent, asked: str, where: SourceLocation | None) -> None:
        location = where if where is not None else self.ctx.code_location()
        self.nondeterminism = NonDeterminism(self._index, _recorded(ev), asked, location, "")

    def _check_name(self, ev: h.HistoryEvent, action: Action, method: str, expected: str) -> None:
        if action.name != expected:
            self._diverged(ev, action.describe(), action.origin)
            raise task.NonDeterminismError(
                _wrong_name_message(ev.event_id, method, expected, action.name)
            )

    def _apply_task_scheduled(self, ev: h.TaskScheduled) -> None:
        action = self._match(ev, act.SCHEDULE_TASK, "call_activity")
        self._check_name(ev, action, "call_activity", ev.task_name)
        self.note = f"matched call_activity #{ev.event_id}"

    def _apply_sub_orchestration_created(self, ev: h.SubOrchestrationCreated) -> None:
        action = self._match(ev, act.CREATE_SUB_ORCHESTRATION, "call_sub_orchestrator")
        self._check_name(ev, action, "call_sub_orchestrator", ev.orchestration_name)
        self.note = f"matched call_sub_orchestrator #{ev.event_id}"

    def _apply_timer_created(self, ev: h.TimerCreated) -> None:
        self._match(ev, act.CREATE_TIMER, "create_timer")
        self.note = f"matched create_timer #{ev.event_id}"

    def _apply_event_sent(self, ev: h.EventSent) -> None:
        action = self._match(ev, act.SEND_EVENT, "send_event")
        if action.instance_id != ev.instance_id:
            self._diverged(ev, action.describe(), action.origin)
            raise task.NonDeterminismError(
                _wrong_target_message(
                    ev.event_id, "send_event", ev.instance_id, action.instance_id or ""
                )
            )
        if action.name.casefold() != ev.event_name.casefold():
            self._diverged(ev, action.describe(), action.origin)
            raise task.NonDeterminismError(
                _wrong_name_message(ev.event_id, "send_event", ev.event_name, action.name)
            )
        self.note = f"matched send_event #{ev.event_id}"

    def _complete_task(self, task_id: int, result: str | None, what: str) -> None:
        pending = self.ctx.take_task(task_id)
        if pending is None:
            self.note = f"ignored: no task waits for id {task_id}"
            return
        value = (
            None
            if result is None or result == ""
            else _CONVERTER.deserialize(result, pending.expected)
        )
        pending.task.complete(value)
        self.note = f"{what} #{task_id} completed"
        self.ctx.resume()

    def _fail_task(self, task_id: int, failure: h.FailureDetails | None, sub: bool) -> None:
        pending = self.ctx.take_task(task_id)
        if pending is None:
            self.note = f"ignored: no task waits for id {task_id}"
            return
        message = failure.message if failure is not None else ""
        t = pending.task
        if isinstance(t, task.RetryableTask):
            delay = t.compute_next_delay()
            if delay is not None:
                t.increment_attempt_count()
                self.ctx.retry_timer(delay, self.ctx.retry_info(t))
                self.note = f"#{task_id} failed: retry in {delay}"
                return
        if sub:
            text = f"Sub-orchestration task #{task_id} failed: {message}"
        else:
            text = f"{self.ctx.instance_id}: Activity task #{task_id} failed: {message}"
        t.fail(text, sdk_failure_details(failure))
        self.note = f"#{task_id} failed"
        self.ctx.resume()

    def _apply_task_completed(self, ev: h.TaskCompleted) -> None:
        self._complete_task(ev.task_scheduled_id, ev.result, "activity")

    def _apply_task_failed(self, ev: h.TaskFailed) -> None:
        self._fail_task(ev.task_scheduled_id, ev.failure, sub=False)

    def _apply_sub_orchestration_completed(self, ev: h.SubOrchestrationCompleted) -> None:
        self._complete_task(ev.task_scheduled_id, ev.result, "sub-orchestration")

    def _apply_sub_orchestration_failed(self, ev: h.SubOrchestrationFailed) -> None:
        self._fail_task(ev.task_scheduled_id, ev.failure, sub=True)

    def _apply_timer_fired(self, ev: h.TimerFired) -> None:
        pending = self.ctx.take_task(ev.timer_id)
        if pending is None or not isinstance(pending.task, task.TimerTask):
            self.note = f"ignored: no timer waits for id {ev.timer_id}"
            return
        if self.ctx.is_complete:
            self.note = "ignored: the orchestration already completed"
            return
        fired_at = naive_utc(ev.fire_at)
        final = pending.final_fire_at
        if final is not None and fired_at < final:
            limit = self.ctx.maximum_timer_interval or timedelta(0)  # chunked implies a limit
            next_at = fired_at + limit if fired_at + limit < final else final
            self.ctx.new_chunk_timer(pending, next_at)
            self.note = f"timer #{ev.timer_id} chunk fired; next chunk at {next_at.isoformat()}"
            return
        pending.task.complete(None)
        if pending.retry is not None:
            self.ctx.reissue(pending.retry)
            self.note = f"retry timer #{ev.timer_id} fired: task scheduled again"
            return
        self.note = f"timer #{ev.timer_id} fired"
        self.ctx.resume()

    def _apply_event_raised(self, ev: h.EventRaised) -> None:
        waiter = self.ctx.pop_waiter(ev.event_name)
        if waiter is None:
            data = ev.input if ev.input else None
            self.ctx.buffer_event(ev.event_name, data)
            self.note = f"event '{ev.event_name}' buffered (no one waits for it)"
            return
        t, expected = waiter
        value = None if not ev.input else _CONVERTER.deserialize(ev.input, expected)
        t.complete(value)
        self.note = f"event '{ev.event_name}' delivered"
        self.ctx.resume()

    def _apply_execution_suspended(self, ev: h.ExecutionSuspended) -> None:
        self.suspended = True
        self.note = "suspended"

    def _apply_execution_resumed(self, ev: h.ExecutionResumed) -> None:
        if not self.suspended:
            self._unknown(ev)
            return
        self.suspended = False
        waiting, self.suspended_events = self.suspended_events, []
        for index, buffered in waiting:
            self._index = index
            self._process(buffered)
        self.note = f"resumed; {len(waiting)} buffered event(s) processed"

    def _apply_execution_terminated(self, ev: h.ExecutionTerminated) -> None:
        output = ev.input if ev.input else None
        self.ctx.set_complete(output, STATUS_TERMINATED, encoded=True)
        self.note = "terminated"


__all__ = [
    "CodeReplayer",
    "NonDeterminism",
    "OrchestratorNotRegisteredError",
    "naive_utc",
]
