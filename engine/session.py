"""A replay session: step one event at a time, forwards and backwards, and jump anywhere.

The session replays forwards once, recording every step (:mod:`engine.frames`); every later
move (back, jump, continue to a breakpoint in either direction) is served from the record.
Replay can be advanced in slices (:meth:`ReplaySession.advance`) so a UI can show the first
screen while the rest is still being replayed in a worker thread.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from engine import history as h
from engine.actions import Action, response_to_proto
from engine.app_loader import UserApp
from engine.context import STATUS_CONTINUED_AS_NEW, failure_from_exception, failure_location
from engine.frames import Frame, FrameRecorder, NonDeterminismView, PendingAction
from engine.history_replay import HistoryReplayer
from engine.proto import orchestrator_service_pb2 as pb
from engine.replay import CodeReplayer


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector off while replaying.

    A replay allocates many long-lived objects (tasks, actions, recorded state) and few
    cycles; generational collections would walk all of them again and again for nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class Breakpoint:
    """Stop at events matching every field given (``None`` matches anything).

    Attributes:
        index: an event index.
        kind: an event kind, e.g. ``taskCompleted`` (case-insensitive).
        name: a task, orchestration or event name (case-insensitive).
        line: a source line (with code); ``file`` narrows it to one file.
    """

    index: int | None = None
    kind: str | None = None
    name: str | None = None
    line: int | None = None
    file: str | None = None

    def matches(self, frame: Frame, names: dict[int, str | None]) -> bool:
        """Whether the frame matches this breakpoint."""
        if self.index is not None and frame.index != self.index:
            return False
        ev = frame.event
        if self.kind is not None and (ev is None or ev.kind.lower() != self.kind.lower()):
            return False
        if self.name is not None:
            name = names.get(frame.index)
            if name is None or name.casefold() != self.name.casefold():
                return False
        if self.line is not None:
            loc = frame.location
            if loc is None or loc.line != self.line:
                return False
            if self.file is not None and loc.file != self.file:
                return False
        return True

    def describe(self) -> str:
        """A short label, e.g. ``kind=taskFailed``."""
        parts = [
            f"{k}={v}"
            for k, v in (
                ("event", self.index),
                ("kind", self.kind),
                ("name", self.name),
                ("line", self.line),
            )
            if v is not None
        ]
        return " ".join(parts) or "any"


@dataclass
class ReplayOutcome:
    """What a full replay produced (the headless answer of ``inspector replay``)."""

    response: pb.OrchestratorResponse
    actions: list[Action]
    nondeterminism: NonDeterminismView | None
    failed: bool
    notes: list[str] = field(default_factory=list)


class ReplaySession:
    """Steps a replay of one request, with or without the user's code."""

    def __init__(
        self,
        request: h.OrchestrationRequest,
        app: UserApp | None = None,
        *,
        strict: bool = False,
        maximum_timer_interval: timedelta | None = timedelta(days=3),
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
        if app is not None:
            self._code = CodeReplayer(
                request,
                app,
                tracker=self.recorder,
                strict=strict,
                maximum_timer_interval=maximum_timer_interval,
            )
        else:
            self._history = HistoryReplayer(request, self.recorder)
        self.position = -1
        self._lock = threading.Lock()
        self._final_actions: list[Action] | None = None
        self._names: dict[int, str | None] | None = None
        self._resumes_seen: tuple[int, int] = (-1, -1)
        self._failure: h.FailureDetails | None = None

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
        with self._lock, _no_gc_pauses():
            start = self.recorder.recorded
            stop = self._total if count is None else min(self._total, start + count)
            for index in range(start, stop):
                self._record(index)
            return self.recorder.recorded

    def _record(self, index: int) -> None:
        rec = self.recorder
        rec.step = index
        code = self._code
        if code is None:
            hist = self._history
            assert hist is not None
            hist.apply(index)
            shown = hist.status
            if hist.suspended and shown == "RUNNING":
                shown = "SUSPENDED"
            rec.steps.append(
                (
                    hist.clock,
                    shown,
                    hist.suspended,
                    None,
                    None,
                    (),
                    hist.note,
                    not hist.note.startswith("buffered"),
                    hist.failure,
                    None,
                )
            )
            return
        code.apply(index)
        ctx = code.ctx
        steps = rec.steps
        seen = (ctx.resumes, ctx.changes)
        if steps and seen == self._resumes_seen:
            previous = steps[-1]
            location, locals_ = previous[4], previous[5]
        else:
            location, locals_ = ctx.code_location(), ctx.code_locals()
            self._resumes_seen = seen
        failure = self._failure
        if code.failure_exception is not None and failure is None:
            failure = self._failure = failure_from_exception(code.failure_exception)
            location = failure_location(code.failure_exception) or location
            nd = code.nondeterminism
            if nd is not None:
                rec.nondeterminism = NonDeterminismView(
                    nd.event_index, nd.recorded, nd.asked, nd.location, nd.message
                )
                location = nd.location or location
        elif failure is not None and steps:
            location, locals_ = steps[-1][4], steps[-1][5]  # the failing line, from then on
        status = ctx.completion_status
        extra = None
        if status is None:
            status_text = "RUNNING" if code.started else "PENDING"
            if code.suspended:
                status_text = "SUSPENDED"
        else:
            status_text = h.status_name(status)
            if status == STATUS_CONTINUED_AS_NEW:
                extra = PendingAction(
                    -1,
                    "completeOrchestration",
                    "completeOrchestration CONTINUED_AS_NEW (sent at turn end)",
                    None,
                    index,
                )
        note = code.note
        steps.append(
            (
                ctx.clock_token,
                status_text,
                code.suspended,
                ctx.custom_status,
                location,
                locals_,
                note,
                not note.startswith(("not processed", "buffered")),
                failure,
                extra,
            )
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
            names: dict[int, str | None] = {}
            scheduled: dict[int, str] = {}
            for i, ev in enumerate(self.request.events):
                name = ev.name
                if isinstance(ev, (h.TaskScheduled, h.SubOrchestrationCreated)):
                    scheduled[ev.event_id] = ev.name or ""
                elif isinstance(
                    ev,
                    (
                        h.TaskCompleted,
                        h.TaskFailed,
                        h.SubOrchestrationCompleted,
                        h.SubOrchestrationFailed,
                    ),
                ):
                    name = scheduled.get(ev.task_scheduled_id)
                names[i] = name
            self._names = names
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
        needs_frame = any(b.line is not None for b in bps)
        indices = range(origin + 1, self._total) if forward else range(origin - 1, -1, -1)
        for i in indices:
            if needs_frame:
                frame = self.frame(i)
            else:
                if not self._cheap_match(bps, i, names):
                    continue
                frame = self.frame(i)
            if any(b.matches(frame, names) for b in bps):
                return frame
        return None

    def _cheap_match(self, bps: list[Breakpoint], i: int, names: dict[int, str | None]) -> bool:
        ev = self.request.event(i)
        for b in bps:
            if b.index is not None and b.index != i:
                continue
            if b.kind is not None and ev.kind.lower() != b.kind.lower():
                continue
            if b.name is not None:
                name = names.get(i)
                if name is None or name.casefold() != b.name.casefold():
                    continue
            return True
        return False

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
            raise ValueError("a response needs the orchestrator's code (an app)")
        self.advance()
        if self._final_actions is None:
            self._final_actions = self._code.result_actions()
        ctx = self._code.ctx
        response = response_to_proto(
            self.request.instance_id, self._final_actions, ctx.custom_status, completion_token
        )
        return ReplayOutcome(
            response=response,
            actions=self._final_actions,
            nondeterminism=self.recorder.nondeterminism,
            failed=self._code.failure_exception is not None,
        )


def replay_request(
    request: h.OrchestrationRequest,
    app: UserApp,
    *,
    completion_token: str = "",
    maximum_timer_interval: timedelta | None = timedelta(days=3),
) -> ReplayOutcome:
    """Replay a whole turn headless (no frames recorded) and build its response."""
    code = CodeReplayer(request, app, maximum_timer_interval=maximum_timer_interval)
    apply = code.apply
    with _no_gc_pauses():
        for index in range(len(request)):
            apply(index)
        actions = code.result_actions()
    nd = code.nondeterminism
    response = response_to_proto(
        request.instance_id, actions, code.ctx.custom_status, completion_token
    )
    return ReplayOutcome(
        response=response,
        actions=actions,
        nondeterminism=None
        if nd is None
        else NonDeterminismView(nd.event_index, nd.recorded, nd.asked, nd.location, nd.message),
        failed=code.failure_exception is not None,
    )
