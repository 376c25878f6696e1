"""The step machine: apply one history event at a time to the user's orchestrator.

:class:`CodeReplayer` runs the user's orchestrator code against the history the way the
durabletask Python SDK's executor does (same actions, custom status and completion), one
event per :meth:`CodeReplayer.apply` call. :class:`HistoryReplayer` derives what it can from
the events alone, for histories from any SDK. Both report every change of open state to a
:class:`engine.context.Tracker`, which is how frames get recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task
else:
    from engine.sdk import task

from engine import history as h
from engine import sdk, versioning
from engine._replay_matches import MatchEventHandlers, _recorded
from engine._replay_results import ResultEventHandlers
from engine.actions import Action
from engine.app_loader import UserApp
from engine.app_options import AppOptions
from engine.context import (
    DEFAULT_MAXIMUM_TIMER_INTERVAL,
    STATUS_COMPLETED,
    STATUS_TERMINATED,
    ReplayContext,
    Tracker,
    TurnState,
    failure_from_exception,
)
from engine.entity_replay import EntityEventHandlers
from engine.outcome import NonDeterminism
from engine.payloads import Codec

_SKIP = object()  # apply_all: a kind whose handler does nothing
_CLOCK = object()  # apply_all: orchestratorStarted, which sets the clock


def _context_class(dapr: bool) -> type[ReplayContext]:
    if not dapr:
        return ReplayContext
    from engine.dapr_context import DaprReplayContext

    return DaprReplayContext


def _not_registered(message: str) -> Exception:
    # The failure the response carries names the SDK's own error type; its module is heavy to
    # import, so only a missing orchestrator pays for it.
    return sdk.module("worker").OrchestratorNotRegisteredError(message)  # type: ignore[no-any-return]


class ReplayStopped(Exception):
    """Internal signal: an exception escaped while processing an event."""


def _text(msg: Any, field: str) -> str | None:
    """A ``StringValue`` field's text, ``None`` when the wrapper is absent."""
    return getattr(msg, field).value if msg.HasField(field) else None


class CodeReplayer(EntityEventHandlers, MatchEventHandlers, ResultEventHandlers):
    """Replays history into the user's orchestrator code, one event per :meth:`apply`.

    It reads the request's protobuf events directly (dispatching on the oneof member), so a
    headless replay never converts events it does not need to show.
    """

    def __init__(
        self,
        request: h.OrchestrationRequest,
        app: UserApp,
        *,
        tracker: Tracker | None = None,
        strict: bool = False,
        maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
    ) -> None:
        self.request = request
        self.app = app
        self.dapr = sdk.is_dapr()
        """Dapr's rules (its fork's executor): unknown events fail, optional timers shift."""
        self.strict = strict or self.dapr
        self.ctx = _context_class(self.dapr)(
            request.instance_id,
            maximum_timer_interval=maximum_timer_interval,
            tracker=tracker,
        )
        self._take_options(app.options)
        msg = request.proto
        self.past_count = len(msg.pastEvents)
        self._past = msg.pastEvents
        self._new = msg.newEvents
        self._start_progress()
        self._dispatch = self._handlers()
        self._fast = self._fast_steps()
        """What :meth:`apply_all` does with each kind without :meth:`_process` (see there)."""
        self._take_action = self.ctx.action_taker()
        self._make_room = (
            None if type(self.ctx).make_room is TurnState.make_room else self.ctx.make_room
        )

    def _start_progress(self) -> None:
        """What the replay has found so far: nothing yet (set once, by ``__init__``)."""
        self.suspended = False
        self.suspended_events: list[tuple[int, Any]] = []
        self.stopped = False
        """An exception ended the replay: later events are not processed (as in the SDK)."""
        self.started = False
        """Whether ``executionStarted`` has been applied."""
        self.nondeterminism: NonDeterminism | None = None
        self.failure_exception: BaseException | None = None
        """The exception that stopped the replay (user code's, or a history mismatch)."""
        self.failure: h.FailureDetails | None = None
        """Its failure details, as the response carries them when the turn failed."""
        self.note = ""
        """What the last :meth:`apply` did, in a few words."""
        self.processed = True
        """Whether the last :meth:`apply` applied its event (not: stopped before, or buffered)."""
        self._index = -1
        self.rewound = False
        """Whether an ``executionRewound`` was met (the headless replay's rewind check)."""

    def _handlers(self) -> dict[str, Callable[[Any, Any], None]]:
        """Each event kind's handler: ``handler(message, member)`` (Dapr's rules drop the
        kinds its executor does not know; the others add the entity events')."""
        dispatch: dict[str, Callable[[Any, Any], None]] = {
            "orchestratorStarted": self._apply_orchestrator_started,
            "executionStarted": self._apply_execution_started,
            "taskScheduled": self._apply_task_scheduled,
            "taskCompleted": self._apply_task_completed,
            "taskFailed": self._apply_task_failed,
            "subOrchestrationInstanceCreated": self._apply_sub_orchestration_created,
            "subOrchestrationInstanceCompleted": self._apply_sub_orchestration_completed,
            "subOrchestrationInstanceFailed": self._apply_sub_orchestration_failed,
            "timerCreated": self._apply_timer_created,
            "timerFired": self._apply_timer_fired,
            "eventSent": self._apply_event_sent,
            "eventRaised": self._apply_event_raised,
            "executionSuspended": self._apply_execution_suspended,
            "executionResumed": self._apply_execution_resumed,
            "executionTerminated": self._apply_execution_terminated,
            "orchestratorCompleted": self._ignore,
            "executionCompleted": self._ignore,
            "executionRewound": self._ignore,
            "genericEvent": self._ignore,
        }
        if self.dapr:  # Dapr's executor fails on events it does not know, markers included
            for kind in ("orchestratorCompleted", "executionCompleted", "eventSent"):
                del dispatch[kind]
        else:
            dispatch.update(self.entity_handlers())
        return dispatch

    def _fast_steps(self) -> dict[str | None, Any]:
        """Every kind the dispatch knows (and ``None``, no kind), mapped to what
        :meth:`_apply_lane` does with it: ``None`` (take :meth:`_process`), skip it (its handler
        does nothing), keep the clock's message, or call its handler."""
        dispatch = self._dispatch
        fast: dict[str | None, Any] = {None: None}
        for kind, handler in dispatch.items():
            fast[kind] = _SKIP if handler == self._ignore else None
        fast["executionRewound"] = None  # _process notes it (see rewound)
        if "orchestratorStarted" in dispatch:
            fast["orchestratorStarted"] = _CLOCK
        if "taskScheduled" in dispatch:
            fast["taskScheduled"] = dispatch["taskScheduled"]
        if "taskCompleted" in dispatch:
            fast["taskCompleted"] = self.ctx.complete_activity
        return fast

    def _take_options(self, options: AppOptions) -> None:
        """Honour the options of the worker the app builds (a plain app: the SDK's defaults)."""
        self.ctx.exception_properties_provider = options.exception_properties_provider
        self.ctx.default_version = versioning.default_version(options.versioning)
        self.rejected: versioning.VersionRejected | None = None
        """The worker's versioning stopped the turn without failing it (reject, or no strategy)."""
        if options.data_converter is not None:
            self.ctx.codec = Codec(options.data_converter)

    # --- driving --------------------------------------------------------------------------

    def apply(self, index: int) -> None:
        """Apply the event at ``index`` (events must be applied in order)."""
        past_count = self.past_count
        if index < past_count:
            msg = self._past[index]
        else:
            if index == past_count:
                self.ctx.set_replaying(False)
            msg = self._new[index - past_count]
        if self.stopped:
            self.processed = False
            self.note = "not processed: the replay stopped at an earlier event"
            return
        self._index = index
        self.processed = self._process(index, msg, top=True)

    def apply_all(self) -> None:
        """Apply every event in order, as :meth:`apply` on each index would (the headless
        replay's path: :attr:`note` and :attr:`processed` are not kept per event).

        The kinds that make up most of a history are dispatched here directly: markers the
        replay ignores are skipped, ``orchestratorStarted`` only keeps its message (the clock
        is read from it when code asks), and an activity's ``taskScheduled`` and
        ``taskCompleted`` go straight to their handlers. Everything else, and every event
        while the orchestration is suspended, takes :meth:`_process`.
        """
        lanes = ((0, self._past), (self.past_count, self._new))
        for offset, lane in lanes:
            if offset == self.past_count and len(lane):
                self.ctx.set_replaying(False)  # at the first new event, as apply does
            if self.stopped:
                break
            if len(lane):
                # The oneof is read through its class's method (the instance's lookup of it
                # first searches the message's fields by name).
                self._apply_lane(enumerate(lane, offset), type(lane[0]).WhichOneof)
        if self.stopped:
            if len(self._new):
                self.ctx.set_replaying(False)
            self.processed = False
            self.note = "not processed: the replay stopped at an earlier event"

    def _apply_lane(self, events: Any, kind_of: Callable[[Any, str], Any]) -> None:
        """Apply ``(index, message)`` pairs until they run out or the replay stops
        (``kind_of(message, "eventType")``: the oneof member set)."""
        fast = self._fast
        ctx = self.ctx
        process = self._process
        # The two commonest steps read their event by its constant name (no getattr call).
        complete = fast.get("taskCompleted")
        schedule = fast.get("taskScheduled")
        # A plain activity matched by its name is the whole of _apply_task_scheduled: done
        # here (unless the context makes room first, as Dapr's does).
        take = self._take_action if self._make_room is None else None
        scheduled = self._scheduled
        pending = self.ctx.pending_actions()
        while True:
            # Only _process changes it (a fast step runs no event that suspends or resumes).
            suspended = self.suspended
            try:
                for index, msg in events:
                    try:
                        step = fast[kind_of(msg, "eventType")]
                    except KeyError:  # a kind the dispatch does not know
                        step = None
                    if step is None or suspended:
                        self._index = index
                        process(index, msg, True)
                        if self.stopped:
                            return
                        suspended = self.suspended
                    elif step is _SKIP:
                        continue
                    elif step is complete:
                        self._index = index
                        waiting = complete(msg.taskCompleted)
                        if waiting is not True and waiting is not False:
                            # a fan-in: its next children are counted in one loop, and the
                            # first event it does not take is dispatched here, as any other
                            pair = ctx.count_children(waiting, events, kind_of)
                            if pair is None:
                                return
                            events = chain((pair,), events)
                            break
                    elif step is schedule:
                        self._index = index
                        ev = msg.taskScheduled
                        if take is None:
                            schedule(msg, ev)
                        else:
                            action = take(msg.eventId, None)
                            if type(action) is not tuple or action[0] != ev.name:
                                scheduled(msg, ev, action)
                            if pending:  # a fan-out: its next activities are matched in one loop
                                pair = self._match_scheduled(events, kind_of, take)
                                if pair is None:
                                    return
                                events = chain((pair,), events)
                                break
                    else:  # _CLOCK
                        ctx.clock_event = msg
                else:
                    return
                continue  # with the pair the loop (of a fan-out or a fan-in) did not take
            except StopIteration as done:
                self.ctx.set_complete(done.value, STATUS_COMPLETED)
            except ReplayStopped:
                return
            except Exception as exc:  # noqa: BLE001 - user code may raise anything: it fails the turn
                self._stop(self._index, exc)  # set by every step that can raise
                return

    @property
    def status(self) -> str:
        """The status after the last :meth:`apply`: ``PENDING``, ``RUNNING``, ``SUSPENDED`` or
        the terminal one (``COMPLETED``, ``FAILED``, ``CONTINUED_AS_NEW``, ``TERMINATED``)."""
        done = self.ctx.completion_status
        if done is not None:
            return h.status_name(done)
        if self.suspended:
            return "SUSPENDED"
        return "RUNNING" if self.started else "PENDING"

    def _process(self, index: int, msg: Any, top: bool = False) -> bool:
        """Apply one event; ``False`` when it was only buffered (the orchestration is suspended)."""
        which = msg.WhichOneof("eventType")
        if which == "executionRewound":
            self.rewound = True
        if self.suspended and which != "executionResumed" and which != "executionTerminated":
            self.suspended_events.append((index, msg))
            if self.ctx.tracker is not None:
                ev = self.request.event(index)
                self.ctx.tracker.buffered_added(("held", index), ev.name or ev.kind, ev.payload)
            self.note = "buffered: the orchestration is suspended"
            return False
        handler = self._dispatch.get(which) if which is not None else None
        try:
            if handler is None:
                self._unknown(index)
            else:
                handler(msg, getattr(msg, which))  # type: ignore[arg-type]
        except StopIteration as done:
            self.ctx.set_complete(done.value, STATUS_COMPLETED)
            self.note = "orchestrator returned"
        except ReplayStopped:
            if not top:
                raise
        except Exception as exc:  # noqa: BLE001 - user code may raise anything: it fails the turn
            self._stop(index, exc)
            if not top:
                raise ReplayStopped from exc
        return True

    def _stop(self, index: int, exc: Exception) -> None:
        """An exception escaped while applying event ``index``: fail the turn with it."""
        self.stopped = True
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code in _DISPATCH_CODES:
            # The trace starts at the handler, whichever loop dispatched the event (and a
            # taskScheduled at the match, a taskCompleted at complete_activity, which the lane
            # calls itself).
            tb = exc.__traceback__ = tb.tb_next
        self.failure_exception = exc
        if isinstance(exc, task.NonDeterminismError):
            found = self.nondeterminism
            if found is None:
                found = NonDeterminism(
                    index, _recorded(self.request.event(index)), "?", self.ctx.code_location(), ""
                )
            self.nondeterminism = replace(found, message=str(exc))
        if self.dapr and type(exc).__name__ == "VersionNotAvailable":
            self.ctx.stall()  # type: ignore[attr-defined]
            self.note = f"stalled: {exc}"
            return
        if isinstance(exc, versioning.VersionRejected) and exc.mode != "fail":
            self.rejected = exc
            self.note = f"stopped: {exc} (the worker's versioning: {exc.mode})"
            return
        details = self.ctx.set_failed(exc)
        self.failure = details if details is not None else failure_from_exception(exc)
        self.note = f"failed: {type(exc).__name__}: {exc}"

    def result_actions(self) -> list[Action]:
        """The actions the response carries (call once, after the last event)."""
        return self.ctx.final_actions()

    # --- event handlers -----------------------------------------------------------------

    def _ignore(self, msg: Any, ev: Any) -> None:
        self.note = "nothing to do"

    def _unknown(self, index: int) -> None:
        kind = self.request.event(index).kind
        if self.dapr:
            from engine.dapr_turn import dapr_event_kind

            kind = dapr_event_kind(self.request, index)
            if kind == "executionStalled":  # Dapr's executor lets it pass
                self.note = "nothing to do (the workflow stalled)"
                return
        if self.strict:
            raise sdk.state_error(f"Don't know how to handle event of type '{kind}'")
        self.note = f"ignored: the engine does not act on {kind} here"

    def _apply_orchestrator_started(self, msg: Any, ev: Any) -> None:
        self.ctx.set_clock_event(msg)
        self.note = "clock set"

    def _apply_execution_started(self, msg: Any, ev: Any) -> None:
        name = ev.name
        fn = self.app.functions.get(name)
        if self.dapr:
            from engine.dapr_turn import start_facts

            fn = start_facts(self.ctx, self.request, self._index, self.app.functions, name)
        if fn is None:
            raise _not_registered(f"A '{name}' orchestrator was not registered.")
        self.started = True
        parent = None
        if ev.HasField("parentInstance") and ev.parentInstance.HasField("orchestrationInstance"):
            parent = ev.parentInstance.orchestrationInstance.instanceId
        self.ctx.set_origin(_text(ev, "version"), parent)
        mismatch = versioning.check(self.app.options.versioning, _text(ev, "version"))
        if mismatch is not None:
            raise mismatch
        value: Any = None
        raw = _text(ev, "input")
        if raw:
            codec = self.ctx.codec
            value = codec.converter.deserialize(raw, codec.orchestrator_input_type(fn))
        self.note = "orchestrator started"
        self.ctx.start(fn, value)

    def _apply_execution_suspended(self, msg: Any, ev: Any) -> None:
        self.suspended = True
        self.note = "suspended"

    def _apply_execution_resumed(self, msg: Any, ev: Any) -> None:
        if not self.suspended:
            self._unknown(self._index)
            return
        self.suspended = False
        waiting, self.suspended_events = self.suspended_events, []
        resumed_at = self._index
        tracker = self.ctx.tracker
        for index, buffered in waiting:
            if tracker is not None:
                tracker.buffered_removed(("held", index))
            self._index = index
            self._process(index, buffered)
        self._index = resumed_at
        self.note = f"resumed; {len(waiting)} buffered event(s) processed"

    def _apply_execution_terminated(self, msg: Any, ev: Any) -> None:
        output = ev.input.value if ev.HasField("input") and ev.input.value else None
        self.ctx.set_complete(output, STATUS_TERMINATED, encoded=True)
        self.note = "terminated"


_DISPATCH_CODES = frozenset(
    {
        CodeReplayer._process.__code__,
        CodeReplayer._apply_lane.__code__,
        CodeReplayer._apply_task_scheduled.__code__,
        CodeReplayer._match_scheduled.__code__,
        CodeReplayer._apply_task_completed.__code__,  # the lane calls complete_activity itself
    }
)

__all__ = [
    "CodeReplayer",
    "NonDeterminism",
]
