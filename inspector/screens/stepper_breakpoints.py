"""The stepper's breakpoint keys: b, B, l, L, c and C (the stepper screen builds on this)."""

from __future__ import annotations

from textual.screen import Screen

from engine.breakpoints import Breakpoint
from engine.session import ReplaySession
from inspector.screens.breakpoint_list import BreakpointList, BreakpointSet
from inspector.screens.keys import event_classes
from inspector.screens.modals import breakpoint_modal
from inspector.widgets.events import EventList
from inspector.widgets.history import HistoryView
from inspector.widgets.panes import OrchestrationInfo
from inspector.widgets.source import SourceView


class BreakpointKeys(Screen[None]):
    """Setting, listing and running to breakpoints; the stepper screen supplies the replay."""

    session: ReplaySession
    events: EventList
    info: OrchestrationInfo
    replay_done: bool
    breakpoints: list[Breakpoint]
    """Every breakpoint set, in the order set."""
    breakpoints_off: set[Breakpoint]
    """Breakpoints switched off in the list (kept, never stopped at)."""

    @property
    def position(self) -> int:
        """The event index the replay is at."""
        return self.session.position

    def goto(self, index: int) -> None:
        """Move the replay to the frame after event ``index`` (the stepper moves)."""
        raise NotImplementedError

    def _push_breakpoints(self) -> None:
        self.query_one(HistoryView).set_breakpoints(self.active_breakpoints)
        self._push_line_breakpoints()

    @property
    def active_breakpoints(self) -> list[Breakpoint]:
        """The breakpoints that stop the replay (set and not switched off)."""
        return [b for b in self.breakpoints if b not in self.breakpoints_off]

    def _push_line_breakpoints(self) -> None:
        if not self.info.with_code:
            return
        source = self.query_one(SourceView)
        lines = frozenset(
            b.line
            for b in self.active_breakpoints
            if b.line is not None and (b.file is None or b.file == source.file)
        )
        if lines != source.breakpoint_lines:
            source.set_breakpoints(lines)

    def action_toggle_breakpoint(self) -> None:
        """Toggle a breakpoint on the selected event."""
        index = self.query_one(HistoryView).selected_index
        if index is not None:
            self._toggle(Breakpoint(index=index))

    def action_breakpoint_by(self) -> None:
        """Ask for an event kind or name and toggle a breakpoint on it."""
        kinds = sorted({ev.kind for ev in self.events[:5000]})

        def answer(value: str | None) -> None:
            text = (value or "").strip()
            if not text:
                return
            known = {k.lower(): k for k in kinds}
            known.update({cls.kind.lower(): cls.kind for cls in event_classes()})
            if text.lower() in known:
                bp = Breakpoint(kind=known[text.lower()])
            else:
                bp = Breakpoint(name=text)
            if bp not in self.breakpoints and not self._matches_any_event(bp):
                self._toggle(bp, quiet=True)
                self.notify(
                    f"no event matches {bp.describe()} (yet): set anyway",
                    severity="warning",
                    timeout=5,
                )
            else:
                self._toggle(bp)

        self.app.push_screen(breakpoint_modal(kinds), answer)

    def _matches_any_event(self, bp: Breakpoint) -> bool:
        """Whether some event of the history matches ``bp`` (kind or name)."""
        names = self.session.event_names() if self.replay_done else {}
        return any(
            bp.matches_event(i, ev.kind, names.get(i, ev.name)) for i, ev in enumerate(self.events)
        )

    def action_line_breakpoint(self) -> None:
        """Toggle a line breakpoint on the line the source shows as current."""
        if not self.info.with_code:
            self.notify("line breakpoints need the code: open with --app", timeout=3)
            return
        source = self.query_one(SourceView)
        if source.current_line is None or source.file is None:
            self.notify("no current source line here: step into the code first", timeout=3)
            return
        self._toggle(Breakpoint(line=source.current_line, file=source.file))

    def action_breakpoints(self) -> None:
        """List the breakpoints: switch off and on, delete, clear all."""

        def answer(edited: BreakpointSet | None) -> None:
            if edited is not None:
                self.breakpoints = edited.all
                self.breakpoints_off = edited.off
                self._push_breakpoints()

        current = BreakpointSet(list(self.breakpoints), set(self.breakpoints_off))
        self.app.push_screen(BreakpointList(current), answer)

    def _toggle(self, bp: Breakpoint, *, quiet: bool = False) -> None:
        """Set ``bp``, or remove it if set (saying which, unless ``quiet``)."""
        if bp in self.breakpoints:
            self.breakpoints.remove(bp)
            self.breakpoints_off.discard(bp)
            said = f"breakpoint removed: {bp.describe()}"
        else:
            self.breakpoints.append(bp)
            said = f"breakpoint set: {bp.describe()}"
        if not quiet:
            self.notify(said, timeout=2)
        self._push_breakpoints()

    def action_continue(self) -> None:
        """Continue to the next breakpoint."""
        self._continue(forward=True)

    def action_continue_back(self) -> None:
        """Go back to the previous breakpoint."""
        self._continue(forward=False)

    def _continue(self, *, forward: bool) -> None:
        if not self.active_breakpoints:
            self.notify("no breakpoints on: b, B or l sets one; L lists them", timeout=3)
            return
        frame = self.session.find(self.active_breakpoints, forward=forward, start=self.position)
        if frame is None:
            where_ = "ahead" if forward else "behind"
            self.notify(f"no breakpoint {where_}", timeout=2)
            return
        self.goto(frame.index)
