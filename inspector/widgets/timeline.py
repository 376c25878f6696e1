"""The timeline: one bar per activity, timer, sub-orchestration, entity call or event, drawn.

Only the visible rows are drawn (the line API), so 100,000 events cost what a screenful does:
the turn marks of the track are laid out once per width and each row paints its bar on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.timeline import Bar, BarKind, Timeline, axis_label
from inspector.text import middle_text

KIND_STYLES = {
    BarKind.ORCHESTRATION: "bold cyan",
    BarKind.ACTIVITY: "green",
    BarKind.TIMER: "blue",
    BarKind.SUB_ORCHESTRATION: "magenta",
    BarKind.ENTITY: "yellow",
    BarKind.EVENT: "bold white",
    BarKind.SUSPENDED: "bold yellow",
}
"""Each kind of bar and its colour (a failed bar is red whatever its kind)."""

FAILED = "bold red"
TURN = "grey37"
NOW = "bold reverse yellow"
LABEL_WIDTH = 26


def legend() -> list[tuple[str, str]]:
    """The key of the colours, as ``(text, style)`` pieces."""
    names = {BarKind.SUB_ORCHESTRATION: "sub-orch", BarKind.ORCHESTRATION: "run"}
    pieces = [("━ " + names.get(kind, kind.value), style) for kind, style in KIND_STYLES.items()]
    pieces[5] = ("◆ event", KIND_STYLES[BarKind.EVENT])
    pieces += [("✗ failed", FAILED), ("╍ open", "bold"), ("┆ turn", TURN), ("│ now", "bold yellow")]
    return pieces


class TimelineView(ScrollView, can_focus=True):
    """The bars of a :class:`~engine.timeline.Timeline`, one per row, on a shared time axis."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    @dataclass
    class CursorMoved(Message):
        """The cursor moved to another bar."""

        view: TimelineView

        @property
        def control(self) -> TimelineView:
            return self.view

    cursor: reactive[int] = reactive(0, init=False)
    """The row under the cursor."""

    def __init__(self, timeline: Timeline, current: int | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.timeline = timeline
        """What is drawn."""
        self.current = current
        """The stepper's current event (marked on every row), if opened from it."""
        self._track_cache: tuple[int, list[str]] | None = None

    def on_mount(self) -> None:
        self.virtual_size = Size(0, len(self.timeline.bars))
        if self.current is not None:
            rows = [i for i, b in enumerate(self.timeline.bars) if b.contains(self.current)]
            if rows:
                self.cursor = rows[-1]
                self.call_after_refresh(self._show_cursor)

    def _show_cursor(self) -> None:
        height = self.scrollable_content_region.height
        top = int(self.scroll_offset.y)
        if self.cursor < top or self.cursor >= top + height:
            self.scroll_to(y=max(0, self.cursor - height // 2), animate=False)

    def watch_cursor(self) -> None:
        self._show_cursor()
        self.refresh()
        self.post_message(self.CursorMoved(self))

    def action_cursor(self, delta: int) -> None:
        """Move the cursor."""
        self.cursor = max(0, min(len(self.timeline.bars) - 1, self.cursor + delta))

    def action_first(self) -> None:
        """To the first bar."""
        self.cursor = 0

    def action_last(self) -> None:
        """To the last bar."""
        self.cursor = max(0, len(self.timeline.bars) - 1)

    def selected(self) -> Bar | None:
        """The bar under the cursor."""
        bars = self.timeline.bars
        return bars[self.cursor] if 0 <= self.cursor < len(bars) else None

    def split(self, width: int) -> tuple[int, int]:
        """The label column's width and the track's width for a line ``width`` cells wide."""
        label = min(LABEL_WIDTH, max(8, width // 3))
        return label, max(1, width - label - 1)

    def _track(self, track: int) -> list[str]:
        """The empty track with the turns marked (cached per width)."""
        if self._track_cache is not None and self._track_cache[0] == track:
            return self._track_cache[1]
        cells = [" "] * track
        for at in self.timeline.turns:
            cells[self.timeline.column(at, track)] = "┆"
        self._track_cache = (track, cells)
        return cells

    def render_line(self, y: int) -> Strip:
        """Draw the bar of the row at ``y`` below the scroll position."""
        width = self.scrollable_content_region.width
        base = self.rich_style
        row = int(self.scroll_offset.y) + y
        bars = self.timeline.bars
        if row >= len(bars):
            return Strip.blank(width, base)
        return self._bar_line(bars[row], row == self.cursor, width, base)

    def _bar_line(self, bar: Bar, is_cursor: bool, width: int, base: Style) -> Strip:
        label_w, track_w = self.split(width)
        timeline = self.timeline
        cells = list(self._track(track_w))
        styles: list[str | None] = [TURN if c != " " else None for c in cells]
        style = FAILED if bar.failed else KIND_STYLES[bar.kind]
        c0 = timeline.column(timeline.times[bar.first], track_w)
        if bar.point:
            cells[c0], styles[c0] = "◆", style
        else:
            end = timeline.span if bar.last is None else timeline.times[bar.last]
            c1 = timeline.column(end, track_w)
            glyph = "━" if bar.last is not None else "╍"
            for c in range(c0, c1 + 1):
                cells[c], styles[c] = glyph, style
            if bar.failed:
                cells[c1] = "✗"
        if self.current is not None:
            now = timeline.column(timeline.time_of(self.current), track_w)
            cells[now] = "│" if cells[now] == " " or cells[now] == "┆" else cells[now]
            styles[now] = NOW if bar.contains(self.current) else "bold yellow"
        label = bar.label + (f" (retry {bar.attempt - 1})" if bar.attempt > 1 else "")
        label_style = base + Style.parse(style)
        if is_cursor:
            label_style += Style(reverse=True)
        segments = [Segment(middle_text(label, label_w).ljust(label_w), label_style)]
        segments.append(Segment(" ", base))
        segments.extend(_runs(cells, styles, base))
        return Strip(segments).crop_extend(0, width, base)


def _runs(cells: list[str], styles: list[str | None], base: Style) -> list[Segment]:
    """The cells as segments, one per run of one style."""
    out: list[Segment] = []
    start = 0
    for i in range(1, len(cells) + 1):
        if i == len(cells) or styles[i] != styles[start]:
            name = styles[start]
            style = base + Style.parse(name) if name else base
            out.append(Segment("".join(cells[start:i]), style))
            start = i
    return out


def axis_text(timeline: Timeline, width: int, label_w: int) -> str:
    """The tick labels above the track: start, middle and end."""
    track = max(1, width - label_w - 1)
    line = [" "] * width
    ticks = [(0, axis_label(timeline, 0.0))]
    if track > 30:
        ticks.append((track // 2, axis_label(timeline, timeline.span / 2)))
    end_label = axis_label(timeline, timeline.span)
    ticks.append((track - len(end_label), end_label))
    for col, text in ticks:
        for i, ch in enumerate(text):
            pos = label_w + 1 + col + i
            if 0 <= pos < width:
                line[pos] = ch
    head = "time" if not timeline.by_index else "event"
    for i, ch in enumerate(head[:label_w]):
        line[i] = ch
    return "".join(line)
