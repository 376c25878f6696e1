"""Widgets of the live screen: the status and hold lines, the instances and work-item lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import events, on
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from engine.worker import Outcome, WorkItemEvent
from inspector.formatting import clock
from inspector.style import CONNECTED, TROUBLE, outcome_style
from inspector.text import middle_text, peer_cell, short_text
from inspector.widgets.columns import Column as Column
from inspector.widgets.columns import Filters as Filters
from inspector.widgets.columns import fit_columns as fit_columns
from inspector.widgets.footer import CoalescingFooter
from inspector.widgets.instances import InstancesTable as InstancesTable


def outcome_label(outcome: Outcome) -> str:
    """The word the list shows: ``running`` while it is served, else the outcome's name."""
    return "running" if outcome is Outcome.RECEIVED else outcome.value


@dataclass(frozen=True)
class WorkItemRow:
    """The latest known state of one work item (by its number in the worker)."""

    event: WorkItemEvent
    """The latest event the worker reported for it."""
    arrived: datetime
    """When its first event arrived."""
    turn: int = 0
    """Which turn of its instance it is, from 1, as this worker saw them (0: an activity)."""
    was_held: bool = False
    """It was held at some point (kept after it was released or abandoned)."""

    @property
    def outcome(self) -> Outcome:
        """Where the work item stands."""
        return self.event.outcome

    @property
    def is_turn(self) -> bool:
        """Whether it is an orchestrator turn (else an activity)."""
        return self.event.kind == "orchestrator"


@dataclass(frozen=True)
class StatusLine:
    """What the status line says: where we are attached and how the work goes."""

    address: str
    connection: str
    """The instance poller's connection state (``connected``, ``reconnecting in 3 s``...)."""
    worker: str | None = None
    """The embedded worker's connection state (None: no worker)."""
    served: int = 0
    failed: int = 0
    in_flight: int = 0
    abandoned: int = 0
    held: int = 0

    def text(self) -> Text:
        """``sidecar HOST:PORT connected · worker connected · served 3 · failed 0 · …``."""
        text = Text()
        text.append(f"sidecar {self.address} ", "bold")
        text.append(self.connection, CONNECTED if self.connection == "connected" else TROUBLE)
        if self.worker is None:
            return text
        text.append(" · worker ")
        text.append(self.worker, CONNECTED if self.worker == "connected" else TROUBLE)
        text.append(f" · served {self.served} · failed {self.failed}")
        text.append(f" · in flight {self.in_flight}")
        if self.abandoned:
            text.append(f" · abandoned {self.abandoned}")
        if self.held:
            text.append(f" · held {self.held}", outcome_style("held"))
        return text


class LiveStatus(Static):
    """One line: where we are attached, the connection state and the counters."""

    line: reactive[StatusLine | None] = reactive(None, init=False)
    """What it says."""

    def watch_line(self, line: StatusLine | None) -> None:
        self.update(line.text() if line is not None else "")


@dataclass(frozen=True)
class HoldState:
    """Hold mode as the hold line shows it."""

    with_worker: bool
    armed: bool = False
    rules: tuple[str, ...] = ()
    """The rules, each described (none: any turn)."""

    def text(self) -> str:
        """The hold rules and whether hold is armed (the keys, without a worker)."""
        if not self.with_worker:
            return "enter opens an instance · t timeline · ? every key · q quit"
        armed = "ARMED" if self.armed else "off (h arms)"
        rules = ", ".join(self.rules) or "any turn"
        return f"hold: {armed} · hold rules (H): {rules} · enter opens · ? every key"


class HoldLine(Static):
    """One line: the hold rules and whether hold is armed."""

    state: reactive[HoldState | None] = reactive(None, init=False)
    """What it says."""

    def watch_state(self, state: HoldState | None) -> None:
        self.update(state.text() if state is not None else "")


class LiveFooter(CoalescingFooter):
    """The live screen's footer: it keeps its keys while a text field has the focus.

    Textual leaves out the keys that would type into a focused field (most of them), and
    the name filter's field takes the focus: the footer keeps the keys it showed, which work
    again once the field is left (and a rebuild to those same keys is skipped).
    """

    async def _rebuild(self) -> None:
        if isinstance(self.screen.focused, Input) and self.children:
            self._rebuild_pending = False
            return
        await super()._rebuild()


class FittedTable(DataTable[Text | str]):
    """A table whose columns fit its width: see :func:`fit_columns`."""

    COLUMNS: tuple[Column, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widths: dict[str, int] = {}
        """The shown columns and their widths."""
        self._rows: list[Any] = []
        self.hidden: frozenset[str] = frozenset()
        """Columns left out because no row has anything in them."""
        self._width = 120

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self._fit(120)

    def _fit(self, width: int) -> bool:
        """Lay the columns out for ``width`` cells; whether anything changed."""
        self._width = width
        shown = [c for c in self.COLUMNS if c.label not in self.hidden]
        widths = fit_columns(shown, width, self.cell_padding)
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

    def _id_cell(self, label: str, text: str) -> str:
        """An id cut in the middle, so that ids sharing a prefix stay different."""
        return middle_text(text, self.widths.get(label, 0))

    def _hide_empty(self, labels: dict[str, bool]) -> None:
        """Leave out the columns whose ``labels`` value is False (no row has anything)."""
        hidden = frozenset(label for label, used in labels.items() if not used)
        if hidden != self.hidden:
            self.hidden = hidden
            self._fit(self._width)

    def _fill(self, rows: Sequence[Any]) -> None:
        """Replace the rows with ``rows``."""
        raise NotImplementedError

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None


class WorkItemsTable(FittedTable):
    """Work items newest first; the cursor stays on its work item as new ones arrive.

    On a narrow terminal the instance, name, result and worker columns shrink first, then
    duration is left out; time, kind and outcome stay. The worker column (the peer that
    served each work item, seen through ``inspector tap``) is shown only when a row has one.
    """

    COLUMNS = (
        Column("#", 5),
        Column("time", 12, drop=2),
        Column("kind", 9),
        Column("instance", 34, minimum=12),
        Column("name", 26, minimum=8),
        Column("outcome", 11),
        Column("result", 34, minimum=10, grow=True),
        Column("duration", 10, drop=1),
        Column("worker", 21, minimum=11),
    )

    @dataclass
    class Chosen(Message):
        """A work item was chosen (enter or a click): open it."""

        table: WorkItemsTable
        number: int

        @property
        def control(self) -> WorkItemsTable:
            return self.table

    work_items: reactive[tuple[WorkItemRow, ...]] = reactive((), init=False)
    """The work items shown, newest first."""
    notices: reactive[tuple[str, ...]] = reactive((), init=False)
    """The worker's notices, oldest first: the latest is shown under the list."""
    filters: reactive[Filters] = reactive(Filters, init=False)
    """The text filter (``/``) applies here too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden = frozenset({"worker"})  # until a row tells its worker
        self.newer = 0
        """Work items that arrived while the cursor was away from the top."""
        self._newest = 0

    def on_mount(self) -> None:
        self._title()

    def watch_work_items(self, work_items: tuple[WorkItemRow, ...]) -> None:
        self._fill(work_items)

    def watch_filters(self) -> None:
        self._fill(self.work_items)

    @on(DataTable.RowHighlighted)
    def _back_at_top(self) -> None:
        if self.cursor_row == 0 and self.newer:
            self.newer = 0
            self._title()

    def _title(self) -> None:
        title = "work items · newest first"
        if self.filters.name:
            title += f" · ~ {self.filters.name}"
        if self.newer:
            title += f" · {self.newer} newer ↑"
        self.border_title = title

    def watch_notices(self) -> None:
        self._subtitle()

    def on_resize(self, event: events.Resize) -> None:
        self._subtitle()

    def _subtitle(self) -> None:
        if not self.notices:
            self.border_subtitle = ""
            return
        hint = " · l log"
        room = max(8, self.size.width - len(hint) - 4)
        self.border_subtitle = short_text(self.notices[-1], room) + hint

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self, int(event.row_key.value)))

    def _fill(self, rows: Sequence[WorkItemRow]) -> None:
        selected = self.selected_key()
        at_top = self.cursor_row == 0
        filters = self.filters  # a reactive: read once, not once a row
        rows = [r for r in rows if filters.matches(r.event.name, r.event.instance_id)]
        newest = max((r.event.number for r in rows), default=0)
        if not at_top and selected is not None:
            self.newer += sum(1 for r in rows if r.event.number > self._newest)
        self._newest = max(self._newest, newest)
        self._rows = rows
        self._title()
        self._hide_empty({"worker": any(r.event.worker for r in rows)})
        self.clear()
        for row in rows:
            self.add_row(*self._cells(row), key=str(row.event.number))
        if at_top or selected is None:
            # at the top, the cursor follows the newest work item
            self.move_cursor(row=0, animate=False)
            return
        try:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        except Exception:  # noqa: BLE001 - the row fell out of the kept window
            self.move_cursor(row=0, animate=False)

    def _cells(self, row: WorkItemRow) -> list[Text | str]:
        ev = row.event
        outcome = row.outcome
        label = outcome_label(outcome)
        result = "" if outcome is Outcome.RECEIVED else ev.result
        if row.was_held and outcome is not Outcome.HELD:
            result = f"was held · {result}".strip(" ·")
        if outcome is Outcome.HELD:
            result = "waiting for r / a"
        if ev.detail and outcome in (Outcome.FAILED, Outcome.ABANDONED, Outcome.UNDELIVERED):
            result = f"{result} {ev.detail}".strip()
        cells: dict[str, Text | str] = {
            "#": str(ev.number),
            "time": clock(row.arrived),
            "kind": (f"turn {row.turn}" if row.turn else "turn") if row.is_turn else ev.kind,
            "instance": self._id_cell("instance", ev.instance_id),
            "name": self._cell("name", ev.name),
            "outcome": Text(label, style=outcome_style(label)),
            "result": self._cell("result", result),
            "duration": f"{ev.seconds * 1000:.1f} ms" if outcome.finished else "-",
            "worker": peer_cell(ev.worker, self.widths.get("worker", 0)),
        }
        return [cells[column] for column in self.widths]
