"""The state of one replayed turn, and the small API the executor drives it through.

:class:`TurnState` owns the per-turn state (sequence numbers, pending actions, pending tasks,
buffered external events, the completion, the orchestrator's generator) and offers the
executor in :mod:`engine.replay` an internal API for it, so the executor never touches private
fields. :class:`engine.context.ReplayContext` adds the SDK's ``OrchestrationContext`` API on top.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from datetime import datetime, timedelta
from types import GeneratorType
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from durabletask import task
else:
    from engine.sdk import task

from engine import actions as act
from engine._turn_timers import PendingTask as PendingTask
from engine._turn_timers import TimersAndRetries
from engine.actions import Action, SourceLocation, new_action
from engine.clock import ClockToken as ClockToken
from engine.clock import clock_from_token as clock_from_token
from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL as DEFAULT_MAXIMUM_TIMER_INTERVAL
from engine.failures import orchestration_failure
from engine.history import FailureDetails
from engine.payloads import DEFAULT_CODEC, Codec, known_results
from engine.plain_task import PLAIN, count_child, count_children, new_task
from engine.reprs import generator_locals
from engine.tracker import Tracker

"""The SDK's default longest single durable timer; longer ones are split into chunks."""
_UNSET_CLOCK = datetime(1000, 1, 1)  # the SDK's clock before the first orchestratorStarted
_NAIVE_EPOCH = datetime(1970, 1, 1)
_LOCATIONS: dict[int, tuple[Any, dict[int, SourceLocation]]] = {}
"""Source locations by code object (its id) and instruction offset."""

HeldActivity = tuple[str, Union[str, None], Union[SourceLocation, None]]
"""A plain activity's pending action as the turn holds it: its name, encoded input and origin
(a tuple is made in a fraction of the time an :class:`Action` takes; one is made per call)."""


def held_action(action_id: int, held: HeldActivity) -> Action:
    """The ``scheduleTask`` action a :data:`HeldActivity` stands for."""
    name, encoded, origin = held
    return new_action(action_id, act.SCHEDULE_TASK, name, encoded, origin)


STATUS_RUNNING = 0
STATUS_COMPLETED = 1
STATUS_CONTINUED_AS_NEW = 2
STATUS_FAILED = 3
STATUS_TERMINATED = 5


_KINDS: dict[type, tuple[bool, bool]] = {}


def _kind_of(value: Any) -> tuple[bool, bool]:
    """Whether ``value`` is an SDK task, and a ``when_all`` one (the answers kept per type:
    both are ABC checks, slow to ask of every task the code awaits)."""
    kind = type(value)
    found = _KINDS.get(kind)
    if found is None:
        found = _KINDS[kind] = (isinstance(value, task.Task), isinstance(value, task.WhenAllTask))
    return found


class TurnState(TimersAndRetries):
    """The state of one replayed turn and the executor's API over it."""

    exception_properties_provider: Any = None  # the app's, for the failures it reports
    codec: Codec = DEFAULT_CODEC  # the app's data converter, for every payload
    default_version: str | None = None  # the app's, for sub-orchestrations named without one

    def __init__(
        self,
        instance_id: str,
        *,
        maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
        tracker: Tracker | None = None,
    ) -> None:
        self._instance_id = instance_id
        self._maximum_timer_interval = maximum_timer_interval
        self._tracker = tracker
        self._is_replaying = True
        self.clock_event: Any = None
        """The last ``orchestratorStarted`` message: the clock is its timestamp."""
        self._clock_value: datetime = _UNSET_CLOCK
        self._clock_from: Any = None  # the message _clock_value was read from
        self._version: str | None = None
        self._parent_instance_id: str | None = None
        self._sequence = 0
        self._uuid_counter = 0
        self._pending_actions: dict[int, Action | HeldActivity] = {}
        """The actions asked for and not yet confirmed by history (a plain activity's held
        as :data:`HeldActivity`: read through :meth:`take_action` and :meth:`final_actions`)."""
        self._pending_tasks: dict[int, PendingTask | task.Task[Any]] = {}
        """The tasks waiting under a sequence number: a bare task when its completion needs
        nothing more (no result type, no timer or retry), else its :class:`PendingTask`."""
        self._received: dict[str, list[tuple[int, str | None]]] = {}
        self._received_seq = 0
        self._waiters: dict[str, list[tuple[task.CancellableTask[Any], type | None]]] = {}
        self._custom_status: str | None = None
        self._complete = False
        self.completion_status: int | None = None
        """The terminal status once complete, else ``None`` (read per step: a plain field)."""
        self._new_input: Any = None
        self._new_version: str | None = None
        self._save_events = False
        self._originals: dict[int, tuple[Action, type | None]] = {}
        self._generator: Generator[Any, Any, Any] | None = None
        self._previous: task.Task[Any] | None = None
        self._where: tuple[Any, int, SourceLocation | None] = (None, -1, None)
        """The last :meth:`code_location` answer: the frame, its instruction, the location."""
        self.resumes = 0
        self.changes = 0
        """How many tasks have been resolved: a local's state may change without code running."""
        """How many times user code has run (start or resume): frames refresh locals on change."""

    # --- internal API used by the executor ----------------------------------------------

    @property
    def tracker(self) -> Tracker | None:
        """Who is told about changes of open state (``None`` in a headless replay)."""
        return self._tracker

    def set_replaying(self, value: bool) -> None:
        """Switch between the past lane (replaying) and the new lane."""
        self._is_replaying = value

    def set_clock_event(self, msg: Any) -> None:
        """Set the replay clock from an ``orchestratorStarted`` message's timestamp (read from
        the message only when the clock is; the executor may set :attr:`clock_event` itself)."""
        self.clock_event = msg

    def _clock_raw(self) -> tuple[int, int]:
        ts = self.clock_event.timestamp
        return ts.seconds, ts.nanos

    @property
    def _clock(self) -> datetime:
        msg = self.clock_event
        if msg is self._clock_from:
            return self._clock_value
        seconds, nanos = self._clock_raw()
        value = _NAIVE_EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
        self._clock_value = value
        self._clock_from = msg
        return value

    def set_origin(self, version: str | None, parent_instance_id: str | None) -> None:
        """Record what ``executionStarted`` said about version and parent."""
        self._version = version
        self._parent_instance_id = parent_instance_id

    @property
    def maximum_timer_interval(self) -> timedelta | None:
        """Longest single timer; longer ones are split into chunks."""
        return self._maximum_timer_interval

    @property
    def clock_token(self) -> datetime | tuple[int, int] | None:
        """The clock as cheaply as it is held: ``None`` (unset), a datetime, or raw seconds and
        nanos (see :func:`clock_from_token`)."""
        if self.clock_event is not self._clock_from:
            return self._clock_raw()
        value = self._clock_value
        return None if value is _UNSET_CLOCK else value

    @property
    def clock_or_none(self) -> datetime | None:
        """The replay clock (naive UTC), ``None`` until the first ``orchestratorStarted``."""
        clock = self._clock
        return None if clock is _UNSET_CLOCK else clock

    @property
    def is_complete(self) -> bool:
        """Whether the orchestration has completed (in any terminal way) in this turn."""
        return self._complete

    @property
    def custom_status(self) -> str | None:
        """The JSON-encoded custom status (``None`` when unset)."""
        return self._custom_status

    @property
    def pending_action_count(self) -> int:
        """How many actions are pending."""
        return len(self._pending_actions)

    def take_action(self, action_id: int) -> Action | None:
        """Remove and return the pending action ``action_id`` (history confirmed it)."""
        action = self._pending_actions.pop(action_id, None)
        if isinstance(action, tuple):
            action = held_action(action_id, action)
        if action is not None and self._tracker is not None:
            self._tracker.action_removed(action_id, action)
        return action

    def action_taker(self) -> Callable[[int, None], Action | HeldActivity | None]:
        """``take(action_id, None)``, as :meth:`take_action` (without a tracker, the pending
        actions' own ``pop``: the executor calls it once per activity), except that a plain
        activity's action may come as it is held (see :data:`HeldActivity`)."""
        if self._tracker is None:
            return self._pending_actions.pop
        return lambda action_id, _: self.take_action(action_id)

    def pending_actions(self) -> Mapping[int, Action | HeldActivity]:
        """The pending actions by id, as they are held (read only: :meth:`take_action` and
        :meth:`action_taker` take them)."""
        return self._pending_actions

    def take_task(self, task_id: int) -> PendingTask | None:
        """Remove and return the task waiting under ``task_id``."""
        t = self._pending_tasks.pop(task_id, None)
        if t is None:
            return None
        self.changes += 1
        if self._tracker is not None:
            self._tracker.task_removed(task_id)
        return t if type(t) is PendingTask else PendingTask(t)  # type: ignore[arg-type]

    def complete_activity(self, ev: Any) -> Any:
        """Complete the task a ``taskCompleted`` event (``ev``, the event's member) names
        with its result and resume the code (:meth:`take_task`, the decode, the completion and
        :meth:`resume` in one call: the commonest step of a replay, which the executor calls
        directly).

        Returns:
            ``False`` when no task waits there; the plain ``when_all`` the code waits for when
            the task was one more of its children and it still waits for others (see
            :meth:`count_children`); else ``True``.
        """
        task_id = ev.taskScheduledId
        result = ev.result.value  # "" when absent: no result either way
        pending: Any = self._pending_tasks.pop(task_id, None)
        if pending is None:
            return False
        self.changes += 1
        if self._tracker is not None:
            self._tracker.task_removed(task_id)
        t: Any
        kind = type(pending)
        if kind is PendingTask:
            t = pending.task
            expected = pending.expected
            kind = type(t)
        else:
            t = pending
            expected = None
        # one call site, however the task is held: a failure's trace names this line, and the
        # headless replay's response must equal the session's byte for byte
        value = self.codec.decode(result, expected) if result else None
        if kind is not PLAIN or t._is_complete:  # the shortcuts: see engine.plain_task
            t.complete(value)
        elif not t._parents:
            t._result = value
            t._is_complete = True
        else:
            parent = count_child(t, value)
            if parent is None:
                t.complete(value)
            elif parent is self._previous:
                return parent  # one more child of the when_all the code waits for: still waiting
        self.resume()
        return True

    def when_all_needs(self) -> frozenset[int]:
        """The task ids a ``when_all`` the code waits on still needs (nested ones included);
        empty when the code waits on anything else, or is done. The worker holds a finished
        activity's result for its siblings only when they are among these."""
        prev: Any = self._previous
        if self._complete or prev is None or not (_KINDS.get(type(prev)) or _kind_of(prev))[1]:
            return frozenset()
        wanted: set[int] = set()
        groups = [prev]
        while groups:
            for child in groups.pop().get_tasks():
                if child.is_complete:
                    continue
                if (_KINDS.get(type(child)) or _kind_of(child))[1]:
                    groups.append(child)
                else:
                    wanted.add(id(child))
        return frozenset(
            task_id
            for task_id, pending in self._pending_tasks.items()
            if id(pending.task if type(pending) is PendingTask else pending) in wanted
        )

    def count_children(self, parent: Any, events: Any, kind_of: Any) -> tuple[int, Any] | None:
        """After :meth:`complete_activity` answered ``parent``: count the next events of
        ``events`` (``(index, message)`` pairs) that complete more of its children, as
        :meth:`complete_activity` would (nothing to resume until its last); return the first
        pair not taken, ``None`` when the events ran out (:func:`engine.plain_task.count_children`).
        """
        if self._tracker is not None or parent is not self._previous:
            return next(events, None)
        decode = self.codec.decode
        counted, pair = count_children(
            parent, events, kind_of, self._pending_tasks, decode, known_results(decode)
        )
        self.changes += counted
        return pair

    def has_task(self, task_id: int) -> bool:
        """Whether a task waits under ``task_id``."""
        return task_id in self._pending_tasks

    def add_action(self, action: Action) -> None:
        """Make an action pending."""
        self._pending_actions[action.id] = action
        if self._tracker is not None:
            self._tracker.action_added(action)

    def add_task(
        self,
        task_id: int,
        pending: PendingTask,
        kind: str,
        name: str,
        origin: SourceLocation | None,
    ) -> None:
        """Register a task waiting under ``task_id``."""
        self._pending_tasks[task_id] = pending
        if self._tracker is not None:
            handle = pending.task if pending.retry is None else pending.retry[0]
            self._tracker.task_added(task_id, kind, name, origin, handle)

    def pop_waiter(self, name: str) -> tuple[task.CancellableTask[Any], type | None] | None:
        """Remove and return the oldest waiter for an external event (none once complete)."""
        key = name.casefold()
        waiting = self._waiters.get(key)
        if not waiting or self._complete:
            return None
        waiter = waiting.pop(0)
        self.changes += 1
        if not waiting:
            del self._waiters[key]
        if self._tracker is not None:
            self._tracker.wait_removed(id(waiter[0]))
        return waiter

    def buffer_event(self, name: str, data: str | None) -> None:
        """Keep an external event no one waits for yet."""
        seq = self._received_seq
        self._received_seq += 1
        self._received.setdefault(name.casefold(), []).append((seq, data))
        if self._tracker is not None:
            self._tracker.buffered_added(seq, name, data)

    def start(self, fn: Callable[..., Any], input_value: Any) -> None:
        """Call the orchestrator; drive a generator to its first yield."""
        self.resumes += 1
        result = fn(self, input_value)
        if isinstance(result, GeneratorType):
            self._generator = result
            self._previous = next(result)
            if self._tracker is not None:
                self._tracker.awaiting(self._previous)
            self.resume()
        else:
            self.set_complete(result, STATUS_COMPLETED)

    def resume(self) -> None:
        """Send results into the generator while the task it waits on is complete."""
        gen = self._generator
        if gen is None:
            raise TypeError(
                "The orchestrator generator is not initialized! "
                "Was the orchestration history corrupted?"
            )
        prev = self._previous
        while prev is not None:
            if type(prev) is PLAIN:  # its fields, read as its properties do (engine.plain_task)
                if not prev._is_complete:
                    return
                self.resumes += 1
                if prev._exception is None:
                    nxt = gen.send(prev._result)
                else:
                    nxt = gen.throw(prev._exception)
            elif not prev.is_complete:
                if not (_KINDS.get(type(prev)) or _kind_of(prev))[1] or prev.get_tasks():  # type: ignore[attr-defined]
                    return
                self.resumes += 1
                nxt = gen.send([])
            elif prev.is_failed:
                self.resumes += 1
                nxt = gen.throw(prev.get_exception())
            else:
                self.resumes += 1
                nxt = gen.send(prev.get_result())
            if not (_KINDS.get(type(nxt)) or _kind_of(nxt))[0]:
                raise TypeError("The orchestrator generator yielded a non-Task object")
            self._previous = prev = nxt
            if self._tracker is not None:
                self._tracker.awaiting(nxt)

    def set_complete(self, result: Any, status: int, *, encoded: bool = False) -> None:
        """Complete the orchestration (a later completion is ignored)."""
        if self._complete:
            return
        self._exit_critical_section()
        self._complete = True
        self.completion_status = status
        encoded_result: str | None = None
        if result is not None:
            try:
                encoded_result = result if encoded else self.codec.encode(result)
            except (ValueError, TypeError):
                from durabletask.internal.json_encode_output_exception import (
                    JsonEncodeOutputException,
                )

                self._complete = False
                self.completion_status = None
                self.set_failed(JsonEncodeOutputException(result))
                return
        self.add_action(
            Action(
                self._next_id(), act.COMPLETE_ORCHESTRATION, status=status, result=encoded_result
            )
        )

    def set_failed(self, ex: BaseException) -> FailureDetails | None:
        """Fail the orchestration with an exception's failure details.

        Returns:
            The failure details the completion carries, or ``None`` when the orchestration had
            already completed (the failure is then ignored, as the SDK does).
        """
        if self._complete:
            return None
        self._exit_critical_section()
        self._complete = True
        self.completion_status = STATUS_FAILED
        details = orchestration_failure(ex, self.exception_properties_provider)
        self.add_action(
            Action(
                self._next_id(), act.COMPLETE_ORCHESTRATION, status=STATUS_FAILED, failure=details
            )
        )
        return details

    def final_actions(self) -> list[Action]:
        """The actions the response carries: every pending action, plus continue-as-new."""
        out = [
            held_action(action_id, action) if isinstance(action, tuple) else action
            for action_id, action in self._pending_actions.items()
        ]
        if self.completion_status == STATUS_CONTINUED_AS_NEW:
            carry: list[tuple[str, str | None]] = []
            if self._save_events:
                everything = sorted(
                    (seq, name, data)
                    for name, items in self._received.items()
                    for seq, data in items
                )
                carry = [(name, data) for _, name, data in everything]
            out.append(
                Action(
                    self._next_id(),
                    act.COMPLETE_ORCHESTRATION,
                    status=STATUS_CONTINUED_AS_NEW,
                    result=self.codec.encode(self._new_input),
                    new_version=self._new_version,
                    carryover=carry,
                    has_carryover=self._save_events,
                )
            )
        return out

    def code_location(self) -> SourceLocation | None:
        """Where the orchestrator generator is (running or suspended), innermost first."""
        gen: Any = self._generator
        if gen is None:
            return None
        inner = gen.gi_yieldfrom
        while inner is not None and getattr(inner, "gi_frame", None) is not None:
            gen = inner
            inner = getattr(gen, "gi_yieldfrom", None)
        frame = gen.gi_frame
        if frame is None:
            return None
        lasti = frame.f_lasti
        last = self._where
        if last[0] is frame and last[1] == lasti:  # asked again from the same place
            return last[2]  # type: ignore[no-any-return]
        # Keyed by the instruction, not the line: an instruction always has the same line,
        # and the line is slow to compute. The code object is found by its id, not its hash
        # (a code object's hash walks its constants and names on every call); the entry keeps
        # the code alive, so its id cannot be another object's.
        code = frame.f_code
        entry = _LOCATIONS.get(id(code))
        if entry is None:
            entry = _LOCATIONS[id(code)] = (code, {})
        found = entry[1].get(lasti)
        if found is None:
            found = entry[1][lasti] = SourceLocation(code.co_filename, frame.f_lineno, code.co_name)
        self._where = (frame, lasti, found)
        return found

    def generator_code(self) -> Any:
        """The orchestrator generator's code object (kept after it returned), or ``None``."""
        return getattr(self._generator, "gi_code", None)

    def generator_frame(self) -> Any:
        """The generator's frame (``None`` once returned; one kept still holds its locals)."""
        return getattr(self._generator, "gi_frame", None)

    def code_locals(self) -> tuple[tuple[str, str], ...]:
        """A short repr of the orchestrator's locals where it is suspended."""
        return generator_locals(self._generator, skip=self)

    def make_room(self, event_id: int, kind: str, sentinel_event: bool) -> None:
        """Before history confirms an action at ``event_id`` (Dapr's context drops an optional
        timer there)."""

    def skips_timer(self, event_id: int, sentinel_event: bool) -> bool:
        """Whether a ``timerCreated`` is skipped rather than matched (only in Dapr's rules)."""
        return False

    def _exit_critical_section(self) -> None:
        """Release held entity locks before a completion (the context overrides this)."""

    # --- helpers --------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._sequence += 1
        return self._sequence

    def _schedule(
        self,
        action: Action,
        retry_policy: task.RetryPolicy | None,
        return_type: type | None,
        *,
        is_sub: bool,
    ) -> task.CompletableTask[Any]:
        t: task.CompletableTask[Any]
        if retry_policy is None and self._tracker is None:
            return self._schedule_plain(action, return_type)
        self.add_action(action)
        if retry_policy is None:
            t = task.CompletableTask(expected_type=return_type)
        else:
            t = task.RetryableTask(
                retry_policy=retry_policy,
                action=action,  # type: ignore[arg-type]
                start_time=self._clock,
                is_sub_orch=is_sub,
                expected_type=return_type,
            )
            self._originals[id(t)] = (action, return_type)
        kind = "sub-orchestration" if is_sub else "activity"
        self.add_task(action.id, PendingTask(t, return_type), kind, action.name, action.origin)
        return t

    def _schedule_plain(
        self, action: Action, return_type: type | None
    ) -> task.CompletableTask[Any]:
        """:meth:`_schedule` without a retry policy or a tracker: the common headless path,
        kept short (it runs once per scheduled task)."""
        seq = action.id
        self._pending_actions[seq] = action
        t = new_task(return_type)
        self._pending_tasks[seq] = t if return_type is None else PendingTask(t, return_type)
        return t
