"""The instance list of the live screen, drawn a line at a time: only the rows in sight.

A sidecar may hold tens of thousands of instances. :class:`InstancesTable` keeps them as a list
and an index by id, and draws each visible line on demand (Textual's line API), so that moving
the cursor, paging and a refresh cost about the same at 100 instances as at 10,000. It looks
and answers like the ``DataTable`` it replaced: a header, zebra rows, a row cursor that stays on
its instance across refreshes, enter (or a click on the cursor's row) to open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.live import InstanceRow
from inspector.formatting import stamp
from inspector.style import status_style
from inspector.text import middle_text, short_text
from inspector.widgets.columns import Column, Filters, fit_columns

KEEP_LINES = 2000
"""Drawn lines kept for redrawing (the cache is emptied when it grows past this)."""


class InstancesTable(ScrollView, can_focus=True, inherit_bindings=False):
    """The sidecar's instances, newest first; the cursor stays on its instance across refreshes.

    On a narrow terminal the instance and name columns shrink first, then custom status,
    version and created are left out; status and last updated stay.
    """

    COLUMNS = (
        Column("instance", 30, minimum=12),
        Column("name", 26, minimum=10),
        Column("version", 8, drop=2),
        Column("status", 16),
        Column("created", 19, drop=3),
        Column("last updated", 19),
        Column("custom status", 30, minimum=10, drop=1, grow=True),
    )

    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First", show=False),
        Binding("end,ctrl+end", "last", "Last", show=False),
    ]

    COMPONENT_CLASSES = {
        "instances--header",
        "instances--cursor",
        "instances--even-row",
    }

    DEFAULT_CSS = """
    InstancesTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .instances--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .instances--header { background-tint: $foreground 5%; }
        }
        &:dark > .instances--even-row { background: $surface-darken-1 40%; }
        & > .instances--header { text-style: bold; background: $panel; color: $foreground; }
        & > .instances--even-row { background: $surface-lighten-1 50%; }
        & > .instances--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    @dataclass
    class Chosen(Message):
        """An instance was chosen (enter or a click): open its history."""

        table: InstancesTable
        instance_id: str

        @property
        def control(self) -> InstancesTable:
            return self.table

    instances: reactive[tuple[InstanceRow, ...]] = reactive((), init=False)
    """The instances shown, newest first."""
    filters: reactive[Filters] = reactive(Filters, init=False)
    """The filters the list was asked with (shown in the title)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell_padding = 1
        """Cells either side of a column's content."""
        self.widths: dict[str, int] = {}
        """The shown columns and their widths."""
        self.hidden: frozenset[str] = frozenset()
        """Columns left out because no row has anything in them."""
        self._rows: list[InstanceRow] = []
        self._index: dict[str, int] = {}
        self.cursor_row = 0
        """The row under the cursor (0: the newest)."""
        self.in_sight: tuple[datetime, datetime] | None = None
        """The created times of the oldest and the newest row drawn (the poller reads them)."""
        self._width = 120
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._styles: dict[str, Style] = {}

    # --- the rows --------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the list shows (after the text filter)."""
        return len(self._rows)

    def get_row_index(self, key: str) -> int:
        """The row of an instance (``KeyError`` when not shown)."""
        return self._index[key]

    def selected_key(self) -> str | None:
        """The instance under the cursor."""
        if not self._rows:
            return None
        return self._rows[min(self.cursor_row, len(self._rows) - 1)].instance_id

    def on_mount(self) -> None:
        self._fit(120)
        self._title()

    def watch_instances(self, instances: tuple[InstanceRow, ...]) -> None:
        self._fill(instances)
        self._title()

    def watch_filters(self) -> None:
        self._fill(self.instances)
        self._title()

    def _title(self) -> None:
        shown = len(self._rows)
        count = str(shown) if shown == len(self.instances) else f"{shown} of {len(self.instances)}"
        parts = [f"instances · {count}"]
        if self.filters.status:
            parts.append(f"status {self.filters.status}")
        if self.filters.name:
            parts.append(f"~ {self.filters.name}")
        self.border_title = " · ".join(parts) + " · f status, / filter, t timeline"

    def _fill(self, rows: Sequence[InstanceRow]) -> None:
        """Show ``rows``; the cursor keeps its instance, and its place on the screen."""
        selected = self.selected_key()
        before = self.cursor_row
        filters = self.filters  # a reactive: read once, not once a row
        if filters.name or filters.status:
            # the sidecar is asked by status too, but its answer comes later: until it does,
            # the rows listed before are shown as the new filter leaves them
            rows = [
                r
                for r in rows
                if filters.matches_status(r.status) and filters.matches(r.name, r.instance_id)
            ]
        self._rows = list(rows)
        self._index = {r.instance_id: i for i, r in enumerate(self._rows)}
        self._hide_empty(
            {
                "version": any(r.version for r in self._rows),
                "custom status": any(r.custom_status for r in self._rows),
            }
        )
        row = self._index.get(selected, before) if selected is not None else 0
        self._resize_virtual()
        if row != before and before > 0:
            # the rows above moved it: the view moves with it
            self.scroll_to(
                y=self.scroll_y + row - before, animate=False, immediate=True, force=True
            )
        self._move(row)
        self.refresh()

    def _resize_virtual(self) -> None:
        width = sum(w + 2 * self.cell_padding for w in self.widths.values())
        self.virtual_size = Size(width, len(self._rows) + 1)

    # --- the columns -----------------------------------------------------------------

    def _fit(self, width: int) -> bool:
        """Lay the columns out for ``width`` cells; whether anything changed."""
        self._width = width
        shown = [c for c in self.COLUMNS if c.label not in self.hidden]
        widths = fit_columns(shown, width, self.cell_padding)
        if widths == self.widths:
            return False
        self.widths = widths
        self._lines.clear()
        self._resize_virtual()
        self.refresh()
        return True

    def on_resize(self, event: events.Resize) -> None:
        # the room for the cells: the content region less a vertical scrollbar, always
        # reserved so that the columns do not move when the list grows past the height
        width = self.content_region.width - self.styles.scrollbar_size_vertical
        if width > 0:
            self._fit(width)
        self._move(self.cursor_row)

    def _hide_empty(self, labels: dict[str, bool]) -> None:
        hidden = frozenset(label for label, used in labels.items() if not used)
        if hidden != self.hidden:
            self.hidden = hidden
            self._fit(self._width)

    def _cells(self, row: InstanceRow) -> dict[str, str]:
        widths = self.widths
        return {
            "instance": middle_text(row.instance_id, widths.get("instance", 0)),
            "name": short_text(row.name, widths.get("name", 0)),
            "version": row.version or "-",
            "status": row.status,
            "created": stamp(row.created),
            "last updated": stamp(row.last_updated),
            "custom status": short_text(row.custom_status, widths.get("custom status", 0)),
        }

    # --- drawing ---------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._styles.clear()

    def _on_focus(self, event: events.Focus) -> None:
        self._lines.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._lines.clear()
        self.refresh()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = (
                self.get_component_rich_style(name) if name else self.rich_style
            )
        return style

    def render_lines(self, crop: Any) -> list[Strip]:
        top = round(self.scroll_y)
        shown = self._rows[top : top + max(0, self.size.height - 1)]
        first, last = shown[-1].created if shown else None, shown[0].created if shown else None
        self.in_sight = (first, last) if first is not None and last is not None else None
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._line(("header", width), None, "instances--header", width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self._style(""))
        row = self._rows[index]
        if index == self.cursor_row:
            name = "instances--cursor"
        else:
            name = "" if index % 2 else "instances--even-row"
        return self._line((row, name, width, self.has_focus), row, name, width)

    def _line(
        self, key: tuple[object, ...], row: InstanceRow | None, name: str, width: int
    ) -> Strip:
        strip = self._lines.get(key)
        if strip is not None:
            return strip
        if len(self._lines) > KEEP_LINES:
            self._lines.clear()
        base = self._style(name)
        cells = self._cells(row) if row is not None else {label: label for label in self.widths}
        pad = " " * self.cell_padding
        segments = []
        for label, w in self.widths.items():
            style = base
            if row is not None and label == "status":
                style = base + Style.parse(status_style(row.status))
            segments.append(Segment(pad + set_cell_size(cells[label], w) + pad, style))
        strip = Strip(segments).adjust_cell_length(width, base)
        self._lines[key] = strip
        return strip

    # --- the cursor ------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on ``row`` and bring it into sight."""
        self._move(row)

    def _move(self, row: int) -> None:
        self.cursor_row = max(0, min(row, len(self._rows) - 1))
        rows_in_sight = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True, force=True)
        elif self.cursor_row >= top + rows_in_sight:
            self.scroll_to(
                y=self.cursor_row - rows_in_sight + 1, animate=False, immediate=True, force=True
            )
        self.refresh()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self._move(self.cursor_row + self._page())

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(self.Chosen(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= len(self._rows):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self._move(index)
