"""The stepper screen: owns the replay session and the current frame, and pushes it down."""

from __future__ import annotations

import gc
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.timer import Timer

from engine.frames import Frame
from engine.session import Breakpoint, ReplaySession
from inspector.messages import NamesResolved
from inspector.screens.keys import NARROW_PANES, PANE_NAMES, PANE_SELECTORS, PANE_TOOLTIP
from inspector.screens.stepper_prompts import StepperPrompts
from inspector.screens.stepper_replay import StepperReplay
from inspector.widgets.events import EventList
from inspector.widgets.footer import CoalescingFooter
from inspector.widgets.history import HistoryView
from inspector.widgets.panes import (
    ActionsPane,
    DetailPane,
    LocalsPane,
    OrchestrationInfo,
    ProblemPane,
    StatePane,
    where,
)
from inspector.widgets.scrolling import TextPane
from inspector.widgets.source import SourceView

WIDE_FROM = 120
"""Columns from which the stepper shows every pane (``HORIZONTAL_BREAKPOINTS``)."""
START_ANYWAY = 0.5
"""Seconds after mounting at which the replay starts even if the history was never drawn."""


class StepperScreen(StepperPrompts, StepperReplay):
    """History, replay state, pending work, payload and (with code) the source, together."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]

    BINDINGS = [
        Binding("n,right", "step", "Step", tooltip="Apply the next history event", id="step"),
        Binding("p,left", "back", "Back", tooltip="Step back one event", id="back"),
        Binding("home", "start", "Start", tooltip="Before the first event", id="start", show=False),
        Binding("end,G", "end", "End", tooltip="After the last event", id="end", show=False),
        Binding("g", "goto", "Go to", tooltip="Go to an event number", id="goto", show=False),
        Binding(
            "c", "continue", "Continue", tooltip="Continue to the next breakpoint", id="continue"
        ),
        Binding(
            "C",
            "continue_back",
            "Reverse",
            tooltip="Back to the previous breakpoint",
            id="reverse",
            show=False,
        ),
        Binding(
            "b",
            "toggle_breakpoint",
            "Break",
            tooltip="Toggle a breakpoint on the selected event",
            id="break",
        ),
        Binding(
            "B",
            "breakpoint_by",
            "Break on",
            tooltip="Breakpoint on an event kind or name",
            id="break-on",
            show=False,
        ),
        Binding(
            "l",
            "line_breakpoint",
            "Line break",
            tooltip="Toggle a line breakpoint on the current source line",
            id="break-line",
            show=False,
        ),
        Binding(
            "L",
            "breakpoints",
            "Breakpoints",
            tooltip="List breakpoints: toggle, delete, clear all",
            id="breakpoints",
            show=False,
        ),
        Binding("v", "cycle_pane", "Pane", tooltip=PANE_TOOLTIP, id="pane"),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter the history by kind, name or text",
            id="filter",
            show=False,
        ),
        Binding(
            "s",
            "save",
            "Save",
            tooltip="Save the request (and response) to a folder",
            id="save",
            show=False,
        ),
        Binding(
            "t",
            "timeline",
            "Timeline",
            tooltip="The history as bars in time",
            id="timeline",
            show=False,
        ),
        Binding("question_mark", "help", "Help", tooltip="Every key", id="help"),
        Binding("q", "quit", "Quit", tooltip="Leave the inspector", id="quit"),
    ]
    """The footer shows the keys that matter (n p c b v ? q); ``?`` and the palette list all."""

    current_frame: reactive[Frame | None] = reactive(None, always_update=True, init=False)
    """The frame the replay is at; every pane draws from it."""

    def __init__(
        self,
        session: ReplaySession,
        *,
        save_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self._take(session, save_dir)
        self._collector_held = False
        """Whether this screen holds the cyclic collector off (from compose to its first
        frame: a start allocates many widgets and strips, and no collection walks them)."""
        self._start_timer: Timer | None = None
        self._start_classes()

    def _take(self, session: ReplaySession, save_dir: Path | None) -> None:
        """Every attribute that belongs to the session shown (:meth:`load` sets them anew)."""
        self.session = session
        self.save_dir = save_dir
        self.events = EventList(session.request)
        """The history, converted one event at a time as it is drawn."""
        self.breakpoints: list[Breakpoint] = []
        """Every breakpoint set, in the order set."""
        self.breakpoints_off: set[Breakpoint] = set()
        """Breakpoints switched off in the list (kept, never stopped at)."""
        self.replay_done = session.done
        """Whether every event is recorded."""
        self._waiting_for: int | None = None
        self.first_painted_at: float | None = None
        """When the first screen was drawn (``time.perf_counter``), once replay had to wait."""
        self.saved_paths: list[str] = []
        """The files the last save wrote."""
        started = session.request.started()
        self.info = OrchestrationInfo(
            instance_id=session.request.instance_id,
            name=started.orchestration_name if started else "",
            version=started.version if started else None,
            with_code=session.app is not None,
        )
        self._replay_started = False

    def _start_classes(self) -> None:
        """The screen's classes, set before it mounts: once mounted, each class change
        restyles every widget on it (the start paid three such passes)."""
        classes = ["-with-code" if self.info.with_code else "-history-only"]
        classes.append(f"-pane-{self.narrow_panes()[0]}")
        try:
            width = self.app.size.width
        except RuntimeError:  # no running app yet: the first resize sets it
            width = 0
        if width:  # the class the first resize would set (a class it then finds set)
            classes.append("-wide" if width >= WIDE_FROM else "-narrow")
        self.add_class(*classes, update=False)

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._collector_held = gc.isenabled()
        gc.disable()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield HistoryView(id="history")
                yield DetailPane(id="detail")
            with Vertical(id="right"):
                yield StatePane(self.info, id="state")
                yield ProblemPane(id="problem")
                if self.info.with_code:
                    with Vertical(id="code"):
                        yield SourceView(id="source")
                        yield LocalsPane(id="locals")
                yield ActionsPane(id="actions")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        """Show the first screen at once; replay the rest in a thread once it is drawn."""
        if not self.is_attached:
            return  # mounted as the app closed (a stepper prepared ahead): its panes are gone
        self._start()

    def load(self, session: ReplaySession, *, save_dir: Path | None = None) -> None:
        """Show ``session`` on this screen (mounted, and not shown now) as a new screen would.

        Opening a stepper costs Textual's mounting and laying out of every pane; a screen kept
        and loaded again costs only what it draws. Nothing of the last session stays: position,
        selection, filter, names, breakpoints, the pane shown below 120 columns, every pane's
        text and scroll position, the focus. The session must be with code if and only if the
        last one was (the panes differ).
        """
        if (session.app is not None) != self.info.with_code:
            raise ValueError("a stepper is loaded only with a session like the one it shows")
        self.workers.cancel_group(self, "replay")
        if self._start_timer is not None:
            self._start_timer.stop()
            self._start_timer = None
        self._take(session, save_dir)
        self.set_reactive(StepperScreen.current_frame, None)
        # the classes a new screen starts with (a terminal resized meanwhile changes them):
        # at most one restyle of the screen, none if they are set already
        first = self.narrow_panes()[0]
        wide = self.app.size.width >= WIDE_FROM
        classes = {f"-pane-{p}": p == first for p in NARROW_PANES}
        self.update_classes({**classes, "-wide": wide, "-narrow": not wide}, animate=False)
        self.query_one(StatePane).info = self.info
        for pane in self.query(TextPane).results():
            pane.reset()
        if self.info.with_code:
            self.query_one(SourceView).reset()
        self._start()

    def _start(self) -> None:
        session = self.session
        history = self.query_one(HistoryView)
        history.set_history(self.events, session.past_count)
        history.border_title = f"history · {session.total:,} events"
        self.query_one("#detail").border_title = "selected event"
        self.query_one(StatePane).border_title = "replay"
        self.query_one(ActionsPane).border_title = "pending · open tasks"
        if self.info.with_code:
            self.query_one("#code").border_title = "source"
            self.query_one(LocalsPane).border_title = "locals"
        self.pane = self.narrow_panes()[0]  # its class is set already (_start_classes)
        self._pane_hints()
        history.focus()
        self.current_frame = session.goto(-1)
        # Replay once the history is drawn (the screen's first frame is then on its way to
        # the terminal), so the first screen never shares the GIL with the replay; the timer
        # only covers a screen too small to draw the history at all.
        history.when_drawn(self._first_painted)
        self._start_timer = self.set_timer(START_ANYWAY, self._first_painted)
        if session.done:
            self._on_recorded(session.recorded)
            self.post_message(NamesResolved(session.event_names(), session))

    # --- the lower right below 120 columns ---------------------------------------------

    pane = "source"
    """The pane the lower right shows below 120 columns (``source``, ``problem``, ``actions``,
    ``detail``)."""

    def narrow_panes(self) -> list[str]:
        """The panes ``v`` cycles through now (the problem pane only while there is one)."""
        frame = self.current_frame
        problem = frame is not None and (
            frame.failure is not None
            or frame.nondeterminism is not None
            or frame.rewind is not None
        )
        return [
            p
            for p in NARROW_PANES
            if (p != "source" or self.info.with_code) and (p != "problem" or problem)
        ]

    def show_pane(self, pane: str) -> None:
        """Show ``pane`` in the lower right (below 120 columns; wider, every pane is shown)."""
        self.remove_class(*(f"-pane-{p}" for p in NARROW_PANES))
        self.add_class(f"-pane-{pane}")
        self.pane = pane
        self._pane_hints()

    def _pane_hints(self) -> None:
        """Below 120 columns, each switched pane names the one ``v`` shows next."""
        panes = self.narrow_panes()
        narrow = self.has_class("-narrow")
        at = panes.index(self.pane) if self.pane in panes else -1
        following = PANE_NAMES[panes[(at + 1) % len(panes)]]
        for pane, selector in PANE_SELECTORS.items():
            if pane == "source" and not self.info.with_code:
                continue
            self.query_one(selector).border_subtitle = f"v: {following}" if narrow else ""

    def action_cycle_pane(self) -> None:
        """Show the next pane in the lower right."""
        panes = self.narrow_panes()
        at = panes.index(self.pane) if self.pane in panes else -1
        self.show_pane(panes[(at + 1) % len(panes)])

    async def _on_resize(self, event: events.Resize) -> None:
        """The ``v`` key and the panes' hints only matter below 120 columns.

        Textual lays a screen out when it is shown, then again (the whole screen, and every
        screen under it) on the resize that first layout sends the screen itself: at the size
        just laid out, that second pass changes nothing and is skipped.
        """
        if event.size == self.outer_size:
            event.prevent_default()
        self._pane_hints()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``v`` is offered only where panes share the screen (below 120 columns)."""
        if action == "cycle_pane":
            return self.has_class("-narrow")
        return True

    # --- attributes down -------------------------------------------------------------

    def watch_current_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        self.query_one(StatePane).frame = frame
        self.query_one(ActionsPane).frame = frame
        self.query_one(ProblemPane).frame = frame
        if self.pane not in self.narrow_panes():
            self.show_pane(self.narrow_panes()[0])
        else:
            self._pane_hints()
        history = self.query_one(HistoryView)
        history.show_current(frame.index)
        self._show_selected(history.selected_index)
        if self.info.with_code:
            source = self.query_one(SourceView)
            loc = frame.location
            if loc is None and frame.nondeterminism is not None:
                loc = frame.nondeterminism.location
            if loc is not None:
                source.show_file(loc.file)
            elif source.file is None:
                self._show_orchestrator_source(source)
            source.show_location(loc.line if loc is not None else None)
            self._push_line_breakpoints()
            self.query_one("#code").border_title = (
                f"source · {where(loc)}" if loc is not None else "source"
            )
            self.query_one(LocalsPane).frame = frame

    def _show_orchestrator_source(self, source: SourceView) -> None:
        """Before the code runs, show where the orchestrator function is defined."""
        app = self.session.app
        if app is None:
            return
        fn = app.functions.get(self.info.name)
        code = getattr(fn, "__code__", None)
        source.show_file(code.co_filename if code is not None else app.source_file)
        if code is not None:
            source.keep_in_view(code.co_firstlineno)

    def _show_selected(self, index: int | None) -> None:
        detail = self.query_one(DetailPane)
        if index is None:
            detail.show_event(None, None, "", None)
            return
        session = self.session
        names = session.event_names() if self.replay_done else None
        name = names.get(index) if names is not None else self.events[index].name
        lane = "past" if index < session.past_count else "new"
        detail.show_event(index, self.events[index], lane, name)

    # --- messages up -----------------------------------------------------------------

    @on(HistoryView.EventSelected)
    def _selected(self, message: HistoryView.EventSelected) -> None:
        self._show_selected(message.index)

    @on(HistoryView.StepRequested)
    def _step_requested(self, message: HistoryView.StepRequested) -> None:
        self.goto(message.index)

    @on(SourceView.BreakpointToggled)
    def _line_toggled(self, message: SourceView.BreakpointToggled) -> None:
        self._toggle(Breakpoint(line=message.line, file=message.file))

    # --- moving ----------------------------------------------------------------------

    def goto(self, index: int) -> None:
        """Move the replay to the frame after event ``index`` (waits if not replayed yet)."""
        session = self.session
        index = max(-1, min(index, session.total - 1))
        if index >= session.recorded:
            self._waiting_for = index
            self.query_one(StatePane).waiting_for = index
            return
        self._waiting_for = None
        self.current_frame = session.goto(index)

    def action_step(self) -> None:
        """Apply the next event."""
        self.goto(self.position + 1)

    def action_back(self) -> None:
        """Step back one event."""
        self.goto(self.position - 1)

    def action_start(self) -> None:
        """Go before the first event."""
        self.goto(-1)

    def action_end(self) -> None:
        """Go to the last event."""
        self.goto(self.session.total - 1)

    async def action_quit(self) -> None:
        """Leave the inspector."""
        self.workers.cancel_group(self, "replay")
        self.app.exit()
