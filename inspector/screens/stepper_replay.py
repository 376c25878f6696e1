"""The stepper's replay: recorded in a thread once the first screen is drawn, its progress
reported back, and the cyclic collector held off while it matters (the stepper builds on this)."""

from __future__ import annotations

import gc
import time

from textual import on, work
from textual.worker import get_current_worker

from inspector.messages import NamesResolved, ReplayCrashed, ReplayFinished, ReplayProgressed
from inspector.screens.stepper_breakpoints import BreakpointKeys
from inspector.widgets.history import HistoryView
from inspector.widgets.panes import StatePane

REPLAY_SLICE = 2000
"""Events recorded between two looks at cancellation (and two chances for the UI thread)."""
PROGRESS_EVERY = 0.25
"""Seconds between two progress reports while recording: each redraws the replay pane, and
redrawing after every slice would take the UI thread as long as the replay itself."""


class StepperReplay(BreakpointKeys):
    """Records the session's replay in a thread; the stepper screen supplies the panes."""

    first_painted_at: float | None
    _waiting_for: int | None
    _replay_started: bool
    _collector_held: bool

    def on_unmount(self) -> None:
        """Hand what was frozen back to the collector (a live session opens many steppers)."""
        self.left()

    def left(self) -> None:
        """The session shown goes (the screen is unmounted, or kept to be loaded again): its
        replay stops, and what was frozen goes back to the collector."""
        self.workers.cancel_group(self, "replay")
        self._release_collector()
        gc.unfreeze()

    def _release_collector(self) -> None:
        if self._collector_held:
            self._collector_held = False
            gc.enable()

    def _first_painted(self) -> None:
        self._release_collector()
        if self._replay_started or not self.is_attached:
            return
        self._replay_started = True
        self.first_painted_at = time.perf_counter()
        if not self.session.done:
            self._replay()

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def _replay(self) -> None:
        """Record the whole replay in slices, reporting progress (never touches widgets)."""
        worker = get_current_worker()
        session = self.session
        reported = time.perf_counter()
        try:
            while not session.done and not worker.is_cancelled:
                recorded = session.advance(REPLAY_SLICE)
                now = time.perf_counter()
                waiting = self._waiting_for  # a jump waiting for this slice is told at once
                if now - reported >= PROGRESS_EVERY or (waiting is not None and waiting < recorded):
                    reported = now
                    self.post_message(ReplayProgressed(recorded, session.total, session))
                time.sleep(0)  # let the UI thread take the GIL between slices
            if not worker.is_cancelled:
                self.post_message(NamesResolved(session.event_names(), session))
                self.post_message(ReplayFinished(session.total, session))
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self.post_message(ReplayCrashed(f"{type(exc).__name__}: {exc}", session))

    @on(ReplayProgressed)
    def _progressed(self, message: ReplayProgressed) -> None:
        if message.session is self.session:
            self._on_recorded(message.recorded)

    @on(ReplayFinished)
    def _finished(self, message: ReplayFinished) -> None:
        if message.session is not self.session:
            return  # the replay of a session shown before (its worker ended its slice)
        self.replay_done = True
        self._on_recorded(self.session.recorded)
        # The record is long-lived and large: keep the collector from walking it on every
        # collection, or an occasional key would wait for a full pass over it.
        gc.freeze()

    @on(NamesResolved)
    def _names(self, message: NamesResolved) -> None:
        if message.session is self.session:
            self.query_one(HistoryView).set_names(message.names)

    @on(ReplayCrashed)
    def _crashed(self, message: ReplayCrashed) -> None:
        if message.session is not self.session:
            return
        self.replay_done = True
        self.notify(message.error, title="replay stopped", severity="error", timeout=10)

    def _on_recorded(self, recorded: int) -> None:
        self.query_one(StatePane).recorded = recorded
        target = self._waiting_for
        if target is not None and target < recorded:
            self._waiting_for = None
            self.query_one(StatePane).waiting_for = None
            self.goto(target)
