"""Widgets of the live screen: the status line, the instances table and the work-item list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.text import Text
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


class InstancesTable(DataTable[Text | str]):
    """The sidecar's instances, newest first; the cursor stays on its instance across refreshes."""

    COLUMNS = (
        ("instance", 30),
        ("name", 26),
        ("version", 8),
        ("status", 11),
        ("created", 19),
        ("last updated", 19),
        ("custom status", None),
    )

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for label, width in self.COLUMNS:
            self.add_column(label, key=label, width=width)
        self._shown: list[InstanceRow] = []

    def show_rows(self, rows: Sequence[InstanceRow]) -> None:
        """Replace the rows (nothing is redrawn when nothing changed)."""
        if list(rows) == self._shown:
            return
        selected = self.selected_key()
        self._shown = list(rows)
        self.clear()
        for row in rows:
            self.add_row(
                row.instance_id,
                row.name,
                row.version or "-",
                Text(row.status, style=STATUS_STYLES.get(row.status, "")),
                _stamp(row.created),
                _stamp(row.last_updated),
                short_text(row.custom_status, 40),
                key=row.instance_id,
            )
        if selected is not None and selected in {r.instance_id for r in rows}:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def selected_key(self) -> str | None:
        """The instance id under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None


class WorkItemsTable(DataTable[Text | str]):
    """Work items newest first; the cursor stays on its work item as new ones arrive."""

    COLUMNS = (
        ("#", 5),
        ("time", 12),
        ("kind", 8),
        ("instance", 34),
        ("name", 26),
        ("outcome", 9),
        ("result", 34),
        ("duration", 10),
    )

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for label, width in self.COLUMNS:
            self.add_column(label, key=label, width=width)

    def show_rows(self, rows: Sequence[WorkItemRow]) -> None:
        """Replace the rows, newest first."""
        selected = self.selected_key()
        at_top = self.cursor_row == 0
        self.clear()
        for row in rows:
            ev = row.event
            outcome = row.outcome
            result = "" if outcome == "running" else ev.result
            if ev.result == "HELD":
                result = "waiting for r / a"
            if ev.detail and outcome in ("failed", "abandoned"):
                result = f"{result} {ev.detail}".strip()
            self.add_row(
                str(ev.number),
                _clock(row.arrived),
                "turn" if row.is_turn else "activity",
                short_text(ev.instance_id, 34),
                short_text(ev.name, 26),
                Text(outcome, style=OUTCOME_STYLES.get(outcome, "")),
                short_text(result, 34),
                "-" if outcome in ("running", "held") else f"{ev.seconds * 1000:.1f} ms",
                key=str(ev.number),
            )
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
