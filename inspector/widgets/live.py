"""Widgets of the live screen: the status line, the instances table and the work-item list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable, Static

from engine.live import InstanceRow
from engine.worker import WorkItemEvent
from inspector.text import short_text

STATUS_STYLES = {
    "RUNNING": "bold cyan",
    "PENDING": "yellow",
    "COMPLETED": "green",
    "FAILED": "bold red",
    "TERMINATED": "magenta",
    "SUSPENDED": "yellow",
    "CONTINUED_AS_NEW": "cyan",
}

OUTCOME_STYLES = {
    "running": "cyan",
    "completed": "green",
    "failed": "bold red",
    "abandoned": "yellow",
    "held": "bold reverse yellow",
}


def _clock(value: datetime | None) -> str:
    if value is None:
        return "-"
    local = value.astimezone(timezone.utc)
    return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def _stamp(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def outcome_of(event: WorkItemEvent) -> str:
    """``running``, ``completed``, ``failed``, ``abandoned`` or ``held``."""
    result = event.result
    if result == "RECEIVED":
        return "running"
    if result == "HELD":
        return "held"
    if result == "ABANDONED":
        return "abandoned"
    if result.startswith("FAILED"):
        return "failed"
    return "completed"


@dataclass
class WorkItemRow:
    """The latest known state of one work item (by its number in the worker)."""

    event: WorkItemEvent
    arrived: datetime

    @property
    def outcome(self) -> str:
        return outcome_of(self.event)

    @property
    def is_turn(self) -> bool:
        return self.event.kind == "orchestrator"


class LiveStatus(Static):
    """One line: where we are attached, the connection state and the counters."""


@dataclass(frozen=True)
class Column:
    """A column of a live table and how it gives way on a narrow terminal."""

    label: str
    width: int
    """The width it gets when there is room."""
    minimum: int = 0
    """Shrinkable columns go down to this (0: keeps its width)."""
    drop: int = 0
    """Left out, highest first, when the minimums do not fit (0: always shown)."""
    grow: bool = False
    """Takes the room left over on a wide terminal."""


def fit_columns(columns: Sequence[Column], width: int, padding: int = 1) -> dict[str, int]:
    """The shown columns' widths (in order) so that they fit ``width`` cells of content.

    Columns are dropped (highest ``drop`` first) while even the minimums do not fit; then the
    shrinkable ones give way in proportion to their width, never below their minimum; the room
    left over goes to the ``grow`` column. Each column also takes ``padding`` cells a side.
    """
    shown = list(columns)

    def floor(col: Column) -> int:
        return col.minimum or col.width

    while True:
        room = width - 2 * padding * len(shown)
        droppable = [c for c in shown if c.drop]
        if sum(floor(c) for c in shown) <= room or not droppable:
            break
        shown.remove(max(droppable, key=lambda c: c.drop))
    widths = {c.label: c.width for c in shown}
    over = sum(widths.values()) - room
    flexible = [c for c in shown if c.minimum]
    if over > 0 and flexible:
        slack = {c.label: c.width - c.minimum for c in flexible}
        total = sum(slack.values()) or 1
        cut = min(over, total)
        for c in flexible:
            widths[c.label] -= cut * slack[c.label] // total
        # what the rounding left over, from the last shrinkable column backwards
        over = sum(widths.values()) - room
        for c in reversed(flexible):
            if over <= 0:
                break
            take = min(over, widths[c.label] - c.minimum)
            widths[c.label] -= take
            over -= take
    elif over < 0:
        for c in shown:
            if c.grow:
                widths[c.label] -= over
                break
    return widths


class FittedTable(DataTable[Text | str]):
    """A table whose columns fit its width: see :func:`fit_columns`."""

    COLUMNS: tuple[Column, ...] = ()

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.widths: dict[str, int] = {}
        """The shown columns and their widths."""
        self._rows: list[Any] = []
        self._fit(120)

    def _fit(self, width: int) -> bool:
        """Lay the columns out for ``width`` cells; whether anything changed."""
        widths = fit_columns(self.COLUMNS, width, self.cell_padding)
        if widths == self.widths:
            return False
        self.widths = widths
        self.clear(columns=True)
        for label, w in widths.items():
            self.add_column(label, key=label, width=w)
        return True

    def on_resize(self, event: events.Resize) -> None:
        # the room for the cells: the content region less a vertical scrollbar, always
        # reserved so that the columns do not move when the list grows past the height
        width = self.content_region.width - self.styles.scrollbar_size_vertical
        if width > 0 and self._fit(width):
            self._fill(self._rows)

    def _cell(self, label: str, text: str) -> str:
        """``text`` cut to the column's width ("" for a column not shown)."""
        return short_text(text, self.widths.get(label, 0))

    def _fill(self, rows: Sequence[Any]) -> None:
        """Replace the rows with ``rows``."""
        raise NotImplementedError


class InstancesTable(FittedTable):
    """The sidecar's instances, newest first; the cursor stays on its instance across refreshes.

    On a narrow terminal the instance and name columns shrink first, then custom status,
    version and created are left out; status and last updated stay.
    """

    COLUMNS = (
        Column("instance", 30, minimum=12),
        Column("name", 26, minimum=10),
        Column("version", 8, drop=2),
        Column("status", 11),
        Column("created", 19, drop=3),
        Column("last updated", 19),
        Column("custom status", 30, minimum=10, drop=1, grow=True),
    )

    def show_rows(self, rows: Sequence[InstanceRow]) -> None:
        """Replace the rows (nothing is redrawn when nothing changed)."""
        if list(rows) == self._rows:
            return
        self._fill(rows)

    def _fill(self, rows: Sequence[InstanceRow]) -> None:
        selected = self.selected_key()
        self._rows = list(rows)
        self.clear()
        for row in rows:
            cells: dict[str, Text | str] = {
                "instance": self._cell("instance", row.instance_id),
                "name": self._cell("name", row.name),
                "version": row.version or "-",
                "status": Text(row.status, style=STATUS_STYLES.get(row.status, "")),
                "created": _stamp(row.created),
                "last updated": _stamp(row.last_updated),
                "custom status": self._cell("custom status", row.custom_status),
            }
            self.add_row(*(cells[label] for label in self.widths), key=row.instance_id)
        if selected is not None and selected in {r.instance_id for r in rows}:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def selected_key(self) -> str | None:
        """The instance id under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None


class WorkItemsTable(FittedTable):
    """Work items newest first; the cursor stays on its work item as new ones arrive.

    On a narrow terminal the instance, name and result columns shrink first, then duration
    is left out; time, kind and outcome stay.
    """

    COLUMNS = (
        Column("#", 5),
        Column("time", 12),
        Column("kind", 8),
        Column("instance", 34, minimum=10),
        Column("name", 26, minimum=8),
        Column("outcome", 9),
        Column("result", 34, minimum=8, grow=True),
        Column("duration", 10, drop=1),
    )

    def show_rows(self, rows: Sequence[WorkItemRow]) -> None:
        """Replace the rows, newest first."""
        self._fill(rows)

    def _fill(self, rows: Sequence[WorkItemRow]) -> None:
        selected = self.selected_key()
        at_top = self.cursor_row == 0
        self._rows = list(rows)
        self.clear()
        for row in rows:
            ev = row.event
            outcome = row.outcome
            result = "" if outcome == "running" else ev.result
            if ev.result == "HELD":
                result = "waiting for r / a"
            if ev.detail and outcome in ("failed", "abandoned"):
                result = f"{result} {ev.detail}".strip()
            cells: dict[str, Text | str] = {
                "#": str(ev.number),
                "time": _clock(row.arrived),
                "kind": "turn" if row.is_turn else "activity",
                "instance": self._cell("instance", ev.instance_id),
                "name": self._cell("name", ev.name),
                "outcome": Text(outcome, style=OUTCOME_STYLES.get(outcome, "")),
                "result": self._cell("result", result),
                "duration": (
                    "-" if outcome in ("running", "held") else f"{ev.seconds * 1000:.1f} ms"
                ),
            }
            self.add_row(*(cells[label] for label in self.widths), key=str(ev.number))
        if at_top or selected is None:
            # at the top, the cursor follows the newest work item
            self.move_cursor(row=0, animate=False)
            return
        try:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        except Exception:  # noqa: BLE001 - the row fell out of the kept window
            self.move_cursor(row=0, animate=False)

    def selected_key(self) -> str | None:
        """The work item number under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None
