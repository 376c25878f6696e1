"""The history table: drawn line by line, so 100,000 events cost what one screen costs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.breakpoints import Breakpoint, row_marker
from engine.history import HistoryEvent
from engine.payload_refs import shown_payload
from inspector.formatting import clock, stamp
from inspector.text import middle_text, short_kind, short_text

KIND_WIDTH = 22
NAME_WIDTH = 18


class HistoryView(ScrollView, can_focus=True, inherit_bindings=False):
    """Every history event, one row each; only the rows on screen are ever drawn."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Select previous", show=False),
        Binding("down", "cursor(1)", "Select next", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "jump", "Jump here", tooltip="Replay to the selected event", show=False),
    ]

    COMPONENT_CLASSES = {
        "history--header",
        "history--past",
        "history--new",
        "history--current",
        "history--cursor",
        "history--breakpoint",
        "history--muted",
    }

    DEFAULT_CSS = """
    HistoryView {
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    HistoryView > .history--header { text-style: bold; color: $text; background: $panel; }
    HistoryView > .history--past { color: $text-muted; }
    HistoryView > .history--new { color: $success; text-style: bold; }
    HistoryView > .history--current { background: $warning 35%; text-style: bold; }
    HistoryView > .history--cursor { background: $primary 45%; }
    HistoryView:focus > .history--cursor { background: $primary 80%; }
    HistoryView > .history--breakpoint { color: $error; text-style: bold; }
    HistoryView > .history--muted { color: $text-muted; }
    """

    @dataclass
    class EventSelected(Message):
        """The user selected an event (keys or mouse)."""

        history: HistoryView
        index: int

        @property
        def control(self) -> HistoryView:
            return self.history

    @dataclass
    class StepRequested(Message):
        """The user asked to replay to an event (enter or double click)."""

        history: HistoryView
        index: int

        @property
        def control(self) -> HistoryView:
            return self.history

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._events: Sequence[HistoryEvent] = ()
        self._past_count = 0
        self._names: dict[int, str | None] | None = None
        self._rows: list[int] | None = None
        self._current = -1
        self._cursor = 0
        self._marks = row_marker(())
        self._drawn: list[Callable[[], object]] = []
        self.filter_text = ""
        """The active filter (empty: every event is shown)."""

    def when_drawn(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` (once) just after the view is next drawn: the frame it is drawn
        in has then been handed to the terminal's writer."""
        self._drawn.append(callback)
        self.refresh()

    # --- attributes down -------------------------------------------------------------

    def set_history(self, events: Sequence[HistoryEvent], past_count: int) -> None:
        """Show these events, and nothing of any shown before: no names, breakpoints, filter,
        current event or waiting callback; the first row selected, at the top."""
        self._events = events
        self._past_count = past_count
        self._names = None
        self._rows = None
        self._current = -1
        self._cursor = 0
        self._marks = row_marker(())
        self._drawn.clear()
        self.filter_text = ""
        self._resize_virtual()
        self.scroll_to(0, 0, animate=False, immediate=True)

    def set_names(self, names: dict[int, str | None]) -> None:
        """Display names per event index (completions named after their task)."""
        self._names = names
        self.refresh()

    def set_breakpoints(self, breakpoints: Sequence[Breakpoint]) -> None:
        """Mark rows that one of these breakpoints stops at."""
        self._marks = row_marker(breakpoints)
        self.refresh()

    def set_filter(self, text: str) -> int:
        """Show only events whose kind, name or payload contains ``text``; return the count."""
        selected = self.selected_index
        needle = text.strip().casefold()
        self.filter_text = text.strip()
        if not needle:
            self._rows = None
        else:
            names = self._names or {}
            rows: list[int] = []
            append = rows.append
            for i, ev in enumerate(self._events):
                name = names.get(i) or ev.name or ""
                payload = ev.payload or ""
                if (
                    needle in ev.kind.casefold()
                    or needle in name.casefold()
                    or needle in payload.casefold()
                ):
                    append(i)
            self._rows = rows
        self._resize_virtual()
        self._cursor = self._row_of(selected if selected is not None else self._current)
        self._scroll_to_row(self._cursor, center=True)
        self.refresh()
        return self.row_count

    def show_current(self, index: int) -> None:
        """Highlight the event just replayed and select it, keeping it in view."""
        previous = self._current
        self._current = index
        if index >= 0:
            row = self._row_of(index)
            if self._index_at(row) == index:
                self._cursor = row
                self._scroll_to_row(row, center=abs(index - previous) > 1)
        self.refresh()

    # --- reading ---------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows are shown (all events, or those the filter kept)."""
        return len(self._events) if self._rows is None else len(self._rows)

    @property
    def current_index(self) -> int:
        """The event the replay is at (``-1``: before the first)."""
        return self._current

    @property
    def selected_index(self) -> int | None:
        """The event under the cursor, if any row is shown."""
        return self._index_at(self._cursor)

    @property
    def visible_indices(self) -> list[int]:
        """The event indices of the rows on screen now."""
        top = int(self.scroll_offset.y)
        count = max(0, self.size.height - 1)
        return [i for i in (self._index_at(r) for r in range(top, top + count)) if i is not None]

    def _index_at(self, row: int) -> int | None:
        if row < 0 or row >= self.row_count:
            return None
        return row if self._rows is None else self._rows[row]

    def _row_of(self, index: int) -> int:
        """The row showing ``index``, or the nearest row before it."""
        if self._rows is None:
            return max(0, min(index, len(self._events) - 1))
        from bisect import bisect_right

        return max(0, bisect_right(self._rows, index) - 1)

    # --- moving ----------------------------------------------------------------------

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(0, self.row_count + 1)
        self.refresh()

    def _scroll_to_row(self, row: int, *, center: bool = False) -> None:
        body = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if center:
            target = row - body // 2
        elif row < top:
            target = row
        elif row >= top + body:
            target = row - body + 1
        else:
            return
        self.scroll_to(y=max(0, target), animate=False, immediate=True)

    def _select_row(self, row: int) -> None:
        if self.row_count == 0:
            return
        row = max(0, min(row, self.row_count - 1))
        if row == self._cursor:
            return
        self._cursor = row
        self._scroll_to_row(row)
        self.refresh()
        index = self._index_at(row)
        if index is not None:
            self.post_message(self.EventSelected(self, index))

    def action_cursor(self, delta: int) -> None:
        """Move the selection."""
        self._select_row(self._cursor + delta)

    def action_page(self, direction: int) -> None:
        """Move the selection one screen."""
        self._select_row(self._cursor + direction * max(1, self.size.height - 2))

    def action_jump(self) -> None:
        """Ask to replay to the selected event."""
        index = self.selected_index
        if index is not None:
            self.post_message(self.StepRequested(self, index))

    def on_click(self, event: events.Click) -> None:
        """Select the clicked row; a double click also replays to it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if row >= self.row_count:
            return
        self._select_row(row)
        if event.chain >= 2:
            self.action_jump()

    def on_resize(self) -> None:
        """Keep the selection visible after a resize."""
        self._scroll_to_row(self._cursor)

    # --- drawing ---------------------------------------------------------------------

    def _columns(self, width: int) -> list[tuple[str, int]]:
        index_width = max(1, len(str(max(0, len(self._events) - 1))))
        cols = [("mark", 2), ("#", index_width), ("lane", 4)]
        if width >= 64:
            cols.append(("eventId", 7))
        if width >= 80:
            cols.append(("time", 12))
        fixed = sum(w + 1 for _, w in cols)
        rest = width - fixed
        kind = min(KIND_WIDTH, max(10, rest // 2))
        cols.append(("kind", kind))
        rest -= kind + 1
        name = min(NAME_WIDTH, max(0, rest // 2))
        if name >= 4:
            cols.append(("name", name))
            rest -= name + 1
        cols.append(("payload", max(0, rest)))
        return cols

    def render_line(self, y: int) -> Strip:
        """Draw one line: the header, or the row at ``y`` below the scroll position."""
        width = self.scrollable_content_region.width
        base = self.rich_style
        if self._drawn:  # the compositor draws, then writes the frame, then runs this
            for callback in self._drawn:
                self.call_later(callback)
            self._drawn.clear()
        if y == 0:
            return self._header(width, base)
        row = int(self.scroll_offset.y) + y - 1
        index = self._index_at(row)
        if index is None:
            return Strip.blank(width, base)
        return self._row(index, row == self._cursor, width, base)

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("history--header")
        parts = []
        for key, w in self._columns(width):
            label = "" if key == "mark" else key
            parts.append(label.rjust(w) if key in ("#", "eventId") else label.ljust(w))
        line = " ".join(parts)
        return Strip([Segment(line[:width].ljust(width), style)], width)

    def _row(self, index: int, is_cursor: bool, width: int, base: Style) -> Strip:
        ev = self._events[index]
        past = index < self._past_count
        row_style = base
        if index == self._current:
            row_style += self.get_component_rich_style("history--current")
        if is_cursor:
            row_style += self.get_component_rich_style("history--cursor")
        lane_style = row_style + self.get_component_rich_style(
            "history--past" if past else "history--new"
        )
        muted = row_style + self.get_component_rich_style("history--muted")
        names = self._names
        name = names.get(index) if names is not None else ev.name
        segments: list[Segment] = []
        for key, w in self._columns(width):
            if key == "mark":
                bp = self._is_breakpoint(index, ev, name)
                segments.append(
                    Segment(
                        "●" if bp else " ",
                        row_style + self.get_component_rich_style("history--breakpoint"),
                    )
                )
                segments.append(Segment("▶" if index == self._current else " ", row_style))
            elif key == "#":
                segments.append(Segment(str(index).rjust(w), row_style))
            elif key == "lane":
                segments.append(Segment(("past" if past else "new").ljust(w), lane_style))
            elif key == "eventId":
                segments.append(Segment(str(ev.event_id).rjust(w), muted))
            elif key == "time":
                segments.append(Segment(clock(ev.timestamp).ljust(w), muted))
            elif key == "kind":
                segments.append(Segment(short_kind(ev.kind, w).ljust(w), row_style))
            elif key == "name":
                segments.append(Segment(middle_text(name, w).ljust(w), row_style))
            else:
                segments.append(Segment(short_text(_payload(ev, w), w).ljust(w), muted))
            segments.append(Segment(" ", row_style))
        return Strip(segments).crop_extend(0, width, row_style)

    def _is_breakpoint(self, index: int, ev: HistoryEvent, name: str | None) -> bool:
        return self._marks(index, ev.kind, name)


def _payload(ev: HistoryEvent, width: int) -> str | None:
    """The payload column's text: a timer's fire time shortened to what fits (its full ISO time
    is in the selected-event pane)."""
    fire_at = getattr(ev, "fire_at", None)
    if fire_at is None or ev.payload is None or len(ev.payload) <= width:
        return shown_payload(ev.payload, width)
    return f"fires {stamp(fire_at)}" if width >= 25 else f"fires {clock(fire_at)}"
