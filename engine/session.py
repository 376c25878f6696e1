"""A replay session: step one event at a time, forwards and backwards, and jump anywhere.

The session replays forwards once, recording every step (:mod:`engine.frames`); every later
move (back, jump, continue to a breakpoint in either direction) is served from the record.
Replay can be advanced in slices (:meth:`ReplaySession.advance`) so a UI can show the first
screen while the rest is still being replayed in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from engine import actions as act
from engine import history as h
from engine.actions import Action, SourceLocation, response_to_proto
from engine.breakpoints import Breakpoint, event_matcher, marks_event
from engine.collector import collector_held
from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL
from engine.errors import ReplayError
from engine.frames import Frame, FrameRecorder, PendingAction
from engine.history_replay import HistoryReplayer
from engine.outcome import NonDeterminism, ReplayOutcome
from engine.rewind import RewindView, rewind_view

if TYPE_CHECKING:
    from engine.app_loader import UserApp
    from engine.headless import replay_request
    from engine.replay import CodeReplayer
    from engine.turn import ClockToken
# The code replayer (and with it the SDK's task module) loads only for a session with code: a
# history-only session (``inspector open`` without ``--app``) never imports it.


def __getattr__(name: str) -> Any:
    """``replay_request``, re-exported from :mod:`engine.headless` when first asked for."""
    if name == "replay_request":
        from engine.headless import replay_request

        return replay_request
    raise AttributeError(f"module 'engine.session' has no attribute {name!r}")


class ReplaySession:
    """Steps a replay of one request, with or without the user's code."""

    def __init__(
        self,
        request: h.OrchestrationRequest,
        app: UserApp | None = None,
        *,
        strict: bool = False,
        maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
    ) -> None:
        self.request = request
        self.app = app
        self.past_count = request.past_count
        self._total = len(request)
        self.recorder = FrameRecorder(
            request.event, self._total, self.past_count, with_code=app is not None
        )
        self._code: CodeReplayer | None = None
        self._history: HistoryReplayer | None = None
        self._continued_as_new: int | None = None
        """``STATUS_CONTINUED_AS_NEW`` with code (its module loads with the code replayer)."""
        if app is not None:
            from engine.replay import CodeReplayer
            from engine.turn import STATUS_CONTINUED_AS_NEW

            self._continued_as_new = STATUS_CONTINUED_AS_NEW
            self._code = CodeReplayer(
                request,
                app,
                tracker=self.recorder,
                strict=strict,
                maximum_timer_interval=maximum_timer_interval,
            )
        else:
            self._history = HistoryReplayer(request, self.recorder)
        self._record_step = self.recorder.record
        self._rewind: RewindView | None = None
        self.position = -1
        self._lock = threading.Lock()
        self._final_actions: list[Action] | None = None
        self._names: dict[int, str | None] | None = None
        self._resumes_seen = -1
        self._changes_seen = -1
        self._location: SourceLocation | None = None
        """The code location the last step recorded (with its locals, below)."""
        self._locals: tuple[tuple[str, str], ...] = ()
        self._failure: h.FailureDetails | None = None
        self._returned = False
        """Whether the orchestrator has returned (its return line and locals are kept)."""
        self._generator_frame: Any = None
        """The orchestrator generator's frame, kept: after the return it still holds the
        locals and the line of the return."""

    # --- recording ------------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many events the request holds."""
        return self._total

    @property
    def recorded(self) -> int:
        """How many events have been replayed and recorded."""
        return self.recorder.recorded

    @property
    def done(self) -> bool:
        """Whether every event has been replayed."""
        return self.recorder.recorded >= self._total

    def advance(self, count: int | None = None) -> int:
        """Replay up to ``count`` more events (all if ``None``); returns how many are recorded."""
        with self._lock, collector_held():
            start = self.recorder.recorded
            if start == 0:
                self._find_rewind()
            stop = self._total if count is None else min(self._total, start + count)
            if self._code is None:
                self._advance_history(start, stop)
            else:
                record = self._record_code
                for index in range(start, stop):
                    record(index)
            return self.recorder.recorded

    def _advance_history(self, start: int, stop: int) -> None:
        """Apply and record events ``start .. stop - 1`` without the user's code."""
        hist = self._history
        assert hist is not None
        apply, record = hist.apply, self._record_step
        for index in range(start, stop):
            apply(index)
            record(
                hist.clock_token,
                hist.status,
                hist.suspended,
                None,
                None,
                (),
                hist.note,
                hist.processed,
                hist.failure,
                None,
            )

    def _record_code(self, index: int) -> None:
        code = self._code
        assert code is not None
        code.apply(index)
        ctx = code.ctx
        resumes, changes = ctx.resumes, ctx.changes
        failure = self._failure
        if failure is not None or (resumes == self._resumes_seen and changes == self._changes_seen):
            # unchanged (or, once failed, the failing line from then on)
            location, locals_ = self._location, self._locals
        else:
            location, locals_ = self._code_state(ctx)
            self._resumes_seen, self._changes_seen = resumes, changes
        if failure is None and code.failure_exception is not None:
            from engine.context import failure_from_exception
            from engine.failures import raising_user_frame
            from engine.reprs import frame_locals

            failure = self._failure = failure_from_exception(code.failure_exception)
            location = self._location = self._failing_line(code, location)
            # post-mortem: the locals of the user frame that raised, as it raised
            raised = raising_user_frame(code.failure_exception)
            if raised is not None:
                locals_ = self._locals = frame_locals(raised, skip=ctx)
        end_action = None
        if ctx.completion_status == self._continued_as_new:
            end_action = self._turn_end_action(index)
        self._record_step(
            ctx.clock_token,
            code.status,
            code.suspended,
            ctx.custom_status,
            location,
            locals_,
            code.note,
            code.processed,
            failure,
            end_action,
        )

    def _find_rewind(self) -> None:
        """Before the first step (in the replay's thread: it reads every event once)."""
        hist = self._history  # its kinds, read once, spare reading every message again
        kinds = cast("list[str]", hist.kinds) if hist else None  # None for an unset member
        self._rewind = rewind_view(self.request.proto, kinds)
        if self._rewind is not None:
            self.recorder.rewind = self._rewind
            self._record_step = self._record_rewind_aware

    def _record_rewind_aware(
        self,
        clock: ClockToken,
        status: str,
        suspended: bool,
        custom_status: str | None,
        location: SourceLocation | None,
        locals_: tuple[tuple[str, str], ...],
        note: str,
        processed: bool,
        failure: h.FailureDetails | None,
        turn_end_action: PendingAction | None,
    ) -> None:
        """Record a step; the ``executionRewound`` step says what the rewind changes (a rewind
        turn: the orchestration runs again, and its response is the one rewind action)."""
        view = self._rewind
        if view is not None and self.recorder.recorded == view.event_index:
            note = view.note
            if view.rewinds_now:
                status, failure, processed = "RUNNING", None, True
                if self._code is not None:
                    turn_end_action = PendingAction(
                        -1,
                        "rewindOrchestration",
                        f"rewindOrchestration: restart from {view.kept} events "
                        f"(the failures left out)",
                        None,
                        view.event_index,
                    )
        self.recorder.record(
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

    def _code_state(self, ctx: Any) -> tuple[SourceLocation | None, tuple[tuple[str, str], ...]]:
        """Where the code stands and its locals there (kept as the last ones for the next step).

        After a return the generator no longer has a frame, but the one kept from before still
        holds the line of the return and the locals there; the value it returned is added as
        ``(returned)``.
        """
        if self._returned:
            return self._location, self._locals
        location = ctx.code_location()
        if location is not None and self._generator_frame is None:
            self._generator_frame = ctx.generator_frame()
        if location is None and ctx.completion_status is not None and self._location is not None:
            self._returned = True
            location, locals_ = self._location, self._locals
            kept = self._generator_frame
            if kept is not None:
                from engine.reprs import frame_locals

                code = kept.f_code
                location = SourceLocation(code.co_filename, kept.f_lineno, code.co_name)
                locals_ = frame_locals(kept, skip=ctx)
            result = _returned_value(ctx)
            if result is not None:
                locals_ = (*locals_, ("(returned)", result))
        else:
            locals_ = ctx.code_locals()
        self._location, self._locals = location, locals_
        return location, locals_

    def _failing_line(
        self, code: CodeReplayer, location: SourceLocation | None
    ) -> SourceLocation | None:
        """Where the replay failed: the mismatching call, else the user line that raised."""
        exc = code.failure_exception
        assert exc is not None
        from engine.context import failure_location

        location = failure_location(exc) or location
        nd = code.nondeterminism
        if nd is not None:
            self.recorder.nondeterminism = nd
            location = nd.location or location
        return location

    @staticmethod
    def _turn_end_action(index: int) -> PendingAction:
        """Continue-as-new's completion, which only the end of the turn adds, shown as pending."""
        return PendingAction(
            -1,
            "completeOrchestration",
            "completeOrchestration CONTINUED_AS_NEW (sent at turn end)",
            None,
            index,
        )

    # --- moving ---------------------------------------------------------------------

    def frame(self, index: int) -> Frame:
        """The frame after event ``index`` (replaying up to it first if needed)."""
        if index >= self.recorder.recorded:
            self.advance(index + 1 - self.recorder.recorded)
        return self.recorder.frame(index)

    def current(self) -> Frame:
        """The frame at the current position."""
        return self.frame(self.position)

    def goto(self, index: int) -> Frame:
        """Jump to the frame after event ``index`` (clamped to ``-1 .. total-1``)."""
        self.position = max(-1, min(index, self._total - 1))
        return self.frame(self.position)

    def step(self) -> Frame:
        """Apply the next event (stays at the end)."""
        return self.goto(self.position + 1)

    def back(self) -> Frame:
        """Step back one event."""
        return self.goto(self.position - 1)

    def run_to_end(self) -> Frame:
        """Jump to the last event."""
        return self.goto(self._total - 1)

    def event_names(self) -> dict[int, str | None]:
        """Each event's name, with completions named after the task they complete."""
        if self._names is None:
            hist = self._history  # the messages it listed, if it replays
            self._names = (
                request_names(self.request, hist.messages, hist.kinds)
                if hist
                else request_names(self.request)
            )
        return self._names

    def find(
        self, breakpoints: Iterable[Breakpoint], *, forward: bool = True, start: int | None = None
    ) -> Frame | None:
        """The next (or previous) frame after ``start`` matching any breakpoint, or ``None``."""
        bps = list(breakpoints)
        if not bps:
            return None
        names = self.event_names()
        origin = self.position if start is None else start
        needs_frame = any(b.needs_frame for b in bps)
        event = self.request.event
        hits = event_matcher(bps)
        indices = range(origin + 1, self._total) if forward else range(origin - 1, -1, -1)
        for i in indices:
            if not needs_frame and not hits(i, event(i).kind, names.get(i)):
                continue
            frame = self.frame(i)
            if any(b.matches(frame, names) for b in bps):
                return frame
        return None

    def continue_to(
        self, breakpoints: Iterable[Breakpoint], *, forward: bool = True
    ) -> Frame | None:
        """Move to the next (or previous) breakpoint hit; ``None`` (and no move) if none."""
        frame = self.find(breakpoints, forward=forward)
        if frame is not None:
            self.position = frame.index
        return frame

    # --- the answer -----------------------------------------------------------------

    def outcome(self, completion_token: str = "") -> ReplayOutcome:
        """Replay to the end and build the ``OrchestratorResponse`` (requires code)."""
        if self._code is None:
            raise ReplayError("a response needs the orchestrator's code (an app)")
        self.advance()
        if self._final_actions is None:
            self._final_actions = self._code.result_actions()
        ctx = self._code.ctx
        response = response_to_proto(
            self.request.instance_id, self._final_actions, ctx.custom_status, completion_token
        )
        return ReplayOutcome(
            response=response,
            actions=tuple(self._final_actions),
            failure=self._code.failure,
            nondeterminism=self.recorder.nondeterminism,
        )


def display_names(events: Iterable[h.HistoryEvent]) -> dict[int, str | None]:
    """Each event's name by index, completions named after the task they complete (the name
    the stepper's history and ``show`` print)."""
    names: dict[int, str | None] = {}
    scheduled: dict[int, str] = {}
    completions = (
        h.TaskCompleted,
        h.TaskFailed,
        h.SubOrchestrationCompleted,
        h.SubOrchestrationFailed,
    )
    for i, ev in enumerate(events):
        name = ev.name
        if isinstance(ev, (h.TaskScheduled, h.SubOrchestrationCreated)):
            scheduled[ev.event_id] = ev.name or ""
        elif isinstance(ev, completions):
            name = scheduled.get(ev.task_scheduled_id)
        names[i] = name
    return names


_COMPLETIONS = frozenset(
    {
        "taskCompleted",
        "taskFailed",
        "subOrchestrationInstanceCompleted",
        "subOrchestrationInstanceFailed",
    }
)
_UNNAMED = frozenset(
    {
        "orchestratorStarted",
        "orchestratorCompleted",
        "executionCompleted",
        "executionTerminated",
        "timerCreated",
        "timerFired",
        "genericEvent",
        "historyState",
        "continueAsNew",
        "executionSuspended",
        "executionResumed",
    }
)
"""Event kinds whose dataclass has no name."""
_NAMED = frozenset(
    {"taskScheduled", "subOrchestrationInstanceCreated", "executionStarted", "eventRaised"}
)
"""Event kinds named by their message's ``name`` field, as their dataclass is."""


def request_names(
    request: h.OrchestrationRequest,
    messages: Sequence[Any] | None = None,
    kinds: Sequence[str | None] | None = None,
) -> dict[int, str | None]:
    """:func:`display_names` of the request's events, read from the messages (the commonest
    kinds) without converting every event to its dataclass.

    Args:
        request: The request.
        messages: Its events' messages, past then new, if already listed.
        kinds: With ``messages``, each one's kind (its oneof member), if already read.
    """
    if messages is None or kinds is None:
        proto = request.proto
        messages = [*proto.pastEvents, *proto.newEvents]
        kinds = [m.WhichOneof("eventType") for m in messages]
    names: dict[int, str | None] = dict.fromkeys(range(len(messages)))
    scheduled: dict[int, str] = {}
    unnamed = _UNNAMED
    for i, which in enumerate(kinds):
        if which in unnamed:
            continue
        msg = messages[i]
        if which in _COMPLETIONS:
            names[i] = scheduled.get(getattr(msg, which).taskScheduledId)
        elif which in _NAMED:
            name = names[i] = getattr(msg, which).name
            if which == "taskScheduled" or which == "subOrchestrationInstanceCreated":
                scheduled[msg.eventId] = name
        else:
            names[i] = request.event(i).name
    return names


def _returned_value(ctx: Any) -> str | None:
    """The result the completion carries (JSON text), if the orchestration completed."""
    from engine.turn import STATUS_COMPLETED

    if ctx.completion_status != STATUS_COMPLETED:
        return None
    for action in reversed(ctx.final_actions()):
        if action.kind == act.COMPLETE_ORCHESTRATION:
            return action.result if action.result is not None else "None"
    return None


__all__ = [
    "Breakpoint",
    "NonDeterminism",
    "ReplayOutcome",
    "ReplaySession",
    "marks_event",
    "replay_request",
]
