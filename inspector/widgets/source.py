"""The orchestrator's source, highlighted, with the current line marked and line breakpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from inspector.widgets.highlight import highlight_python_lines


class SourceView(ScrollView):
    """A source file drawn line by line; click a line number to toggle a breakpoint.

    The current line is wrapped onto as many rows as it needs, so it is always read whole; the
    other lines are cut at the pane's edge. Line numbers never scroll away (there is no
    sideways scrolling).
    """

    COMPONENT_CLASSES = {
        "source--gutter",
        "source--current",
        "source--breakpoint",
    }

    DEFAULT_CSS = """
    SourceView {
        background: $surface;
        scrollbar-size-vertical: 1;
        /* no sideways scrolling: the current line wraps instead */
        overflow-x: hidden;
        scrollbar-size-horizontal: 0;
    }
    SourceView > .source--gutter { color: $text-muted; }
    SourceView > .source--current { background: $warning 30%; }
    SourceView > .source--breakpoint { color: $error; text-style: bold; }
    """

    @dataclass
    class BreakpointToggled(Message):
        """The user clicked a source line to toggle a breakpoint on it."""

        source: SourceView
        file: str
        line: int

        @property
        def control(self) -> SourceView:
            return self.source

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.file: str | None = None
        """The file shown."""
        self.current_line: int | None = None
        """The line the orchestrator is suspended at (1-based)."""
        self.breakpoint_lines: frozenset[int] = frozenset()
        """Lines of this file with a breakpoint."""
        self._anchor: int | None = None
        self._extra = 0
        """Rows the current line takes beyond its first (it wraps to be read whole)."""
        self._wrapped_for: tuple[int | None, int] = (None, 0)
        self._lines: list[Text] = []
        self._cache: dict[str, list[Text]] = {}
        self._placed = False
        """Whether the view was laid out since it was made or reset (until then,
        :meth:`keep_in_view` only notes the line: the first layout scrolls to it)."""

    def reset(self) -> None:
        """No file, line, breakpoint or highlighted file kept (a reused stepper loads another
        session: its files are read again, as a new view would read them)."""
        self.file = None
        self.current_line = None
        self.breakpoint_lines = frozenset()
        self._anchor = None
        self._extra = 0
        self._wrapped_for = (None, 0)
        self._lines = []
        self._cache = {}
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._placed = False
        self.call_after_refresh(self._place)  # the layout may keep its size (and send no resize)
        self.refresh()

    @property
    def line_count(self) -> int:
        """How many lines the file has."""
        return len(self._lines)

    def show_file(self, file: str | None) -> None:
        """Show ``file`` (highlighted once, then cached)."""
        if file == self.file:
            return
        self.file = file
        if file is None:
            self._lines = []
        elif file in self._cache:
            self._lines = self._cache[file]
        else:
            try:
                code = Path(file).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                self._lines = [Text(f"cannot read {file}: {exc.strerror}")]
            else:
                self._lines = highlight_python_lines(code)
            self._cache[file] = self._lines
        self._rewrap()
        self.refresh()

    def show_location(self, line: int | None) -> None:
        """Mark the current line (wrapped to be read whole) and keep it in view."""
        self.current_line = line
        self._rewrap()
        if line is not None:
            self.keep_in_view(line)
        self.refresh()

    # --- rows: the current line may take several ----------------------------------------

    def _code_width(self) -> int:
        return max(8, self.scrollable_content_region.width - self._gutter_width())

    def _rewrap(self) -> None:
        """Work out how many rows the current line takes at this width; size the view."""
        line = self.current_line
        width = self._code_width()
        if (line, width) != self._wrapped_for or self.virtual_size.height == 0:
            self._wrapped_for = (line, width)
            extra = 0
            if line is not None and 1 <= line <= len(self._lines):
                extra = max(0, (self._lines[line - 1].cell_len - 1) // width)
            self._extra = extra
        self.virtual_size = Size(0, len(self._lines) + self._extra)

    def _row_line(self, row: int) -> tuple[int, int]:
        """The 1-based line a row (0-based) shows, and which of its pieces (0: the first)."""
        cur = self.current_line
        if cur is None or row < cur - 1:
            return row + 1, 0
        if row <= cur - 1 + self._extra:
            return cur, row - (cur - 1)
        return row + 1 - self._extra, 0

    def _line_row(self, line: int) -> int:
        """The first row (0-based) showing a 1-based line."""
        cur = self.current_line
        return line - 1 if cur is None or line <= cur else line - 1 + self._extra

    def keep_in_view(self, line: int) -> None:
        """Scroll so ``line`` is visible, now and whenever the view is resized."""
        self._anchor = line
        height = self.scrollable_content_region.height
        if height <= 0 or not self._placed:
            return  # not laid out yet: on_resize (or _place) scrolls
        top = int(self.scroll_offset.y)
        first = self._line_row(line)
        last = first + (self._extra if line == self.current_line else 0)
        if not (top <= first and last < top + height):
            self.scroll_to(y=max(0, first - height // 3), animate=False, immediate=True)

    @property
    def visible_lines(self) -> range:
        """The 1-based line numbers on screen."""
        top = int(self.scroll_offset.y)
        height = max(0, self.scrollable_content_region.height)
        if not self._lines or height == 0:
            return range(top + 1, top + 1)
        bottom = min(top + height, len(self._lines) + self._extra) - 1
        return range(self._row_line(top)[0], self._row_line(bottom)[0] + 1)

    def on_resize(self) -> None:
        """A new width may wrap the current line anew, a new height hide it: bring it back."""
        self._placed = True
        self._rewrap()
        if self._anchor is not None:
            self.keep_in_view(self._anchor)

    def _place(self) -> None:
        """After the first layout since a reset: scroll to the line noted, as on a resize."""
        if not self._placed:
            self.on_resize()

    def set_breakpoints(self, lines: frozenset[int]) -> None:
        """Lines of this file that carry a breakpoint."""
        self.breakpoint_lines = lines
        self.refresh()

    def _gutter_width(self) -> int:
        return len(str(max(1, len(self._lines)))) + 4

    def on_click(self, event: events.Click) -> None:
        """Toggle a breakpoint on the clicked line."""
        offset = event.get_content_offset(self)
        if offset is None or self.file is None:
            return
        line = self._row_line(int(self.scroll_offset.y) + offset.y)[0]
        if 1 <= line <= len(self._lines):
            self.post_message(self.BreakpointToggled(self, self.file, line))

    def render_line(self, y: int) -> Strip:
        """Draw one row: a source line with its gutter, or a piece of the wrapped current line."""
        number, piece = self._row_line(int(self.scroll_offset.y) + y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        if number > len(self._lines):
            return Strip.blank(width, base)
        style = base
        is_current = number == self.current_line
        if is_current:
            style = base + self.get_component_rich_style("source--current")
        gutter = style + self.get_component_rich_style("source--gutter")
        digits = self._gutter_width() - 4
        if piece:
            segments = [Segment(" " * (digits + 2) + "↪ ", gutter)]
        else:
            segments = [
                Segment(
                    "●" if number in self.breakpoint_lines else " ",
                    style + self.get_component_rich_style("source--breakpoint"),
                ),
                Segment(f"{number:>{digits}} ", gutter),
                Segment("▶ " if is_current else "  ", style),
            ]
        code = [
            Segment(seg.text, style + seg.style if seg.style is not None else style)
            for seg in self._lines[number - 1].render(self.app.console)
        ]
        cw = self._code_width()
        body = Strip(code).crop(piece * cw, (piece + 1) * cw)
        return Strip([*segments, *body]).crop_extend(0, width, style)
