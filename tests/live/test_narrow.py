"""The live tables fit the terminal: at 80x24 outcome and status are in sight, nothing scrolls."""

from __future__ import annotations

from typing import Any

from engine.worker import Outcome
from inspector.live import LiveApp
from inspector.text import middle_text
from inspector.widgets.live import (
    Column,
    FittedTable,
    InstancesTable,
    WorkItemsTable,
    fit_columns,
)
from samples import orchestrations as samples
from tests.live.test_attach import wait_async, wait_for, worker_config


def _right_edge(table: FittedTable | InstancesTable, label: str) -> int:
    """Where the column ends, in cells from the table's content left edge."""
    end = 0
    if isinstance(table, InstancesTable):  # drawn a line at a time: its columns as laid out
        for name, width in table.widths.items():
            end += width + 2 * table.cell_padding
            if name == label:
                return end
        raise AssertionError(f"no column {label!r} in {list(table.widths)}")
    for column in table.ordered_columns:
        end += column.get_render_width(table)
        if str(column.key.value) == label:
            return end
    raise AssertionError(f"no column {label!r} in {list(table.widths)}")


def _shown(table: FittedTable | InstancesTable) -> str:
    """What the table draws in its visible region: its header and rows, as text."""
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_columns_fit_80x24(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            client.schedule_new_orchestration(
                samples.single_activity, input="x", instance_id="narrow-instance-with-a-long-id"
            )
            await wait_async(pilot, client, "narrow-instance-with-a-long-id")
            items = app.screen.query_one(WorkItemsTable)
            instances = app.screen.query_one(InstancesTable)
            # the list and the poller catch up in their own time: wait for what is asserted
            await wait_for(
                pilot,
                lambda: (
                    items.row_count == 3
                    and all(r.outcome is Outcome.COMPLETED for r in app.items.values())
                    and [r.status for r in instances.instances] == ["COMPLETED"]
                    and "completed" in _shown(items)
                    and "COMPLETED" in _shown(instances)
                ),
            )
            for table, keep in (
                (items, ("kind", "outcome", "result")),
                (instances, ("status", "last updated")),
            ):
                visible = table.scrollable_content_region.width
                assert table.virtual_size.width <= visible, table.widths
                for label in keep:
                    assert _right_edge(table, label) <= visible, (label, table.widths)
            # duration and then time give way, so that status words stay whole
            assert "duration" not in items.widths and "time" not in items.widths
            assert set(instances.widths) >= {"instance", "name", "status", "last updated"}
            # what the tables draw: the headers and a row's outcome and status are in sight
            shown = _shown(items)
            assert "outcome" in shown and "completed" in shown
            assert "COMPLETED" in shown  # the turn's result, whole
            # the id is cut in the middle: both ends stay
            iid = "narrow-instance-with-a-long-id"
            cut = middle_text(iid, items.widths["instance"])
            assert cut in shown and cut.startswith("narr") and cut.endswith("id") and "…" in cut
            assert iid not in shown
            shown = _shown(instances)
            assert "status" in shown and "COMPLETED" in shown and "last updated" in shown

            # wider again: every column is back
            await pilot.resize_terminal(160, 40)
            await wait_for(pilot, lambda: "duration" in items.widths and "time" in items.widths)
            await wait_for(pilot, lambda: "created" in instances.widths)
            # no instance has a version or a custom status: those columns take no room
            assert "version" not in instances.widths
            assert "custom status" not in instances.widths
            assert items.row_count == 3 and instances.row_count == 1
    finally:
        app.close()


def test_fit_columns() -> None:
    columns = (
        Column("a", 10),
        Column("b", 20, minimum=5),
        Column("c", 20, minimum=5, grow=True),
        Column("d", 8, drop=1),
    )
    # room for everything: c takes what is left over
    assert fit_columns(columns, 100) == {"a": 10, "b": 20, "c": 54, "d": 8}
    # less room: b and c shrink in proportion
    assert fit_columns(columns, 50) == {"a": 10, "b": 12, "c": 12, "d": 8}
    # too little even for the minimums: d is left out first
    assert fit_columns(columns, 30) == {"a": 10, "b": 7, "c": 7}
    # never below the minimums
    assert fit_columns(columns, 10) == {"a": 10, "b": 5, "c": 5}
