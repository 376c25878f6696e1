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
    """A source file drawn line by line; click a line number to toggle a breakpoint."""

    COMPONENT_CLASSES = {
        "source--gutter",
        "source--current",
        "source--breakpoint",
    }

    DEFAULT_CSS = """
    SourceView {
        background: $surface;
        scrollbar-size-vertical: 1;
        /* no horizontal bar (a row counts in a small pane); the wheel still scrolls sideways */
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
        self._lines: list[Text] = []
        self._cache: dict[str, list[Text]] = {}

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
        widest = max((t.cell_len for t in self._lines), default=0)
        self.virtual_size = Size(widest + self._gutter_width() + 1, len(self._lines))
        self.refresh()

    def show_location(self, line: int | None) -> None:
        """Mark the current line and keep it in view."""
        self.current_line = line
        if line is not None:
            self.keep_in_view(line)
        self.refresh()

    def keep_in_view(self, line: int) -> None:
        """Scroll so ``line`` is visible, now and whenever the view is resized."""
        self._anchor = line
        height = self.scrollable_content_region.height
        if height <= 0:
            return  # not laid out yet: on_resize scrolls
        top = int(self.scroll_offset.y)
        if not top <= line - 1 < top + height:
            self.scroll_to(y=max(0, line - 1 - height // 3), animate=False, immediate=True)

    @property
    def visible_lines(self) -> range:
        """The 1-based line numbers on screen."""
        top = int(self.scroll_offset.y)
        height = max(0, self.scrollable_content_region.height)
        return range(top + 1, min(top + height, len(self._lines)) + 1)

    def on_resize(self) -> None:
        """A new height may hide the anchored line: bring it back."""
        if self._anchor is not None:
            self.keep_in_view(self._anchor)

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
        line = int(self.scroll_offset.y) + offset.y + 1
        if 1 <= line <= len(self._lines):
            self.post_message(self.BreakpointToggled(self, self.file, line))

    def render_line(self, y: int) -> Strip:
        """Draw one source line with its gutter (breakpoint, number, current marker)."""
        scroll_x, scroll_y = self.scroll_offset
        number = int(scroll_y) + y + 1
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
        segments = [
            Segment(
                "●" if number in self.breakpoint_lines else " ",
                style + self.get_component_rich_style("source--breakpoint"),
            ),
            Segment(f"{number:>{digits}} ", gutter),
            Segment("▶ " if is_current else "  ", style),
        ]
        for seg in self._lines[number - 1].render(self.app.console):
            seg_style = seg.style
            segments.append(
                Segment(seg.text, style + seg_style if seg_style is not None else style)
            )
        total = self.virtual_size.width
        strip = Strip(segments).crop_extend(0, max(total, width), style)
        return strip.crop(int(scroll_x), int(scroll_x) + width)
