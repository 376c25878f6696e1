"""The entities table and how one entity is drawn (its state preview and its detail)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import DataTable

from engine.live_entities import EntityRow
from inspector.formatting import stamp
from inspector.widgets.highlight import highlight_json, parse_json_text
from inspector.widgets.live import Column, FittedTable

PREVIEW_WIDTH = 200
"""The most characters of a state preview a row holds (the column crops the rest)."""


def state_preview(state: str | None) -> Text:
    """A state on one line: compact JSON, or ``(no state)`` dimmed."""
    if state is None:
        return Text("(no state)", style="dim")
    value = parse_json_text(state)
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return Text(compact if len(compact) <= PREVIEW_WIDTH else compact[: PREVIEW_WIDTH - 1] + "…")


def entity_detail(row: EntityRow) -> Text:
    """The entity's metadata, then its whole state pretty-printed and highlighted."""
    text = Text()
    modified = stamp(row.last_modified) + ("Z" if row.last_modified else "")
    lines = (
        ("entity", row.instance_id),
        ("name / key", f"{row.name} / {row.key}"),
        ("last modified", modified),
        ("locked by", row.locked_by or "- (not locked)"),
        ("backlog", f"{row.backlog} operation(s) waiting"),
    )
    for label, value in lines:
        text.append(f"{label + ':':<15}", style="bold")
        text.append(f"{value}\n")
    text.append("state:\n", style="bold")
    if row.state is None:
        text.append("(no state)", style="dim")
    else:
        text.append_text(highlight_json(parse_json_text(row.state)))
    return text


class EntitiesTable(FittedTable):
    """Entities by id; the cursor stays on its entity across refreshes.

    On a narrow terminal the id, lock and state columns shrink; last modified goes last.
    """

    COLUMNS = (
        Column("entity", 30, minimum=14),
        Column("last modified", 19, drop=1),
        Column("locked by", 14, minimum=9),
        Column("backlog", 7),
        Column("state", 40, minimum=12, grow=True),
    )

    def on_mount(self) -> None:
        self.border_title = "entities · enter: the whole state"

    def show(self, rows: Sequence[EntityRow]) -> None:
        """Replace the rows, keeping the cursor on the same entity."""
        self._fill(rows)

    def _fill(self, rows: Sequence[EntityRow]) -> None:
        selected = self.selected_key()
        self._rows = list(rows)
        self.clear()
        for row in rows:
            cells: dict[str, Text | str] = {
                "entity": self._id_cell("entity", row.instance_id),
                "last modified": stamp(row.last_modified),
                "locked by": self._id_cell("locked by", row.locked_by or "-"),
                "backlog": str(row.backlog),
                "state": state_preview(row.state),
            }
            self.add_row(*(cells[label] for label in self.widths), key=row.instance_id)
        if selected is not None and selected in {r.instance_id for r in rows}:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def selected(self) -> EntityRow | None:
        """The entity under the cursor (``None``: the table is empty)."""
        key = self.selected_key()
        return next((r for r in self._rows if r.instance_id == key), None)

    @dataclass
    class Chosen(Message):
        """An entity was chosen (enter or a click): show its whole state."""

        table: EntitiesTable
        instance_id: str

        @property
        def control(self) -> EntitiesTable:
            return self.table

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self, str(event.row_key.value)))
