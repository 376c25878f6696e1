"""The timeline screen: an instance's history (or an opened request) as bars on a time axis."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.timeline import Bar, Timeline, axis_label
from inspector.widgets.timeline import TimelineView, axis_text, legend


class TimelineScreen(Screen[None]):
    """A :class:`TimelineView` with its title, legend, axis and the selected bar's detail."""

    BINDINGS = [
        Binding("escape,t", "close", "Back", tooltip="Back to where it was opened", id="tl-back"),
    ]

    DEFAULT_CSS = """
    TimelineScreen #tl-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    TimelineScreen #tl-legend { height: 1; padding: 0 1; }
    TimelineScreen #tl-axis { height: 1; padding: 0 1; color: $text-muted; }
    TimelineScreen TimelineView { height: 1fr; padding: 0 1; }
    TimelineScreen #tl-detail { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, timeline: Timeline, title: str, current: int | None = None) -> None:
        super().__init__()
        self.timeline = timeline
        """What is drawn."""
        self.title_text = title
        """What the title line names (instance, orchestrator, where it came from)."""
        self.current = current
        """The stepper's current event, if opened from the stepper."""

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="tl-title")
        text = Text()
        for piece, style in legend():
            text.append(piece, style)
            text.append(" ")
        yield Static(text, id="tl-legend")
        yield Static("", id="tl-axis")
        yield TimelineView(self.timeline, self.current, id="timeline")
        yield Static("", id="tl-detail")
        yield Footer()

    def _title(self) -> str:
        tl = self.timeline
        parts = [f"{len(tl.times)} events", f"{len(tl.turns)} turns"]
        if failures := tl.failures():
            parts.append(f"{failures} failed")
        parts.append(self.title_text)
        if self.current is not None:
            parts.append(f"at event {self.current} (turn {tl.turn_of(self.current)})")
        return " · ".join(parts)

    def on_mount(self) -> None:
        self.query_one(TimelineView).focus()
        self._detail()

    def on_resize(self, event: events.Resize) -> None:
        view = self.query_one(TimelineView)
        width = max(1, event.size.width - 2)
        label_w, _ = view.split(width)
        self.query_one("#tl-axis", Static).update(axis_text(self.timeline, width, label_w))

    def on_timeline_view_cursor_moved(self) -> None:
        self._detail()

    def _detail(self) -> None:
        bar = self.query_one(TimelineView).selected()
        self.query_one("#tl-detail", Static).update(self.describe(bar))

    def describe(self, bar: Bar | None) -> str:
        """The selected bar in words: kind, name, when, how long, which events, which turn."""
        if bar is None:
            return "no bars: the history has no tasks, timers or events"
        tl = self.timeline
        begin, end = tl.start_of(bar), tl.end_of(bar)
        start = axis_label(tl, begin)
        if bar.point:
            when = f"at {start}"
        elif end is None:
            when = f"from {start}, still open"
        else:
            when = f"{start} → {axis_label(tl, end)} ({_length(tl, end - begin)})"
        events_text = f"event {bar.first}" + (
            f"–{bar.last}" if bar.last is not None and bar.last != bar.first else ""
        )
        outcome = " · FAILED" if bar.failed else ""
        retry = f" · retry {bar.attempt - 1}" if bar.attempt > 1 else ""
        turn = tl.turn_of(bar.first)
        where = f"{events_text} · turn {turn}{retry}{outcome}"
        return f"{bar.kind.value} {bar.label} · {when} · {where}"

    def action_close(self) -> None:
        """Back to where it was opened."""
        self.app.pop_screen()


def _length(timeline: Timeline, took: float) -> str:
    if timeline.by_index:
        return f"{int(took)} events"
    if took < 1:
        return f"{took * 1000:.0f} ms"
    return f"{took:.3g} s"
