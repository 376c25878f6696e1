"""More instances than a page: the listing follows the continuation token and the created-time
range, the list pages through them, a refresh keeps the cursor, and the filters still work."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from engine.live import InstanceRow, LiveClient
from engine.live_listing import InstanceListing, merge
from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.widgets.live import InstancesTable
from tests.live.test_attach import wait_for

COUNT = 130
"""Instances scheduled: more than three protocol pages and several screens."""

PAGE = 40
"""The ``QueryInstances`` page size the tests ask with."""

T0 = datetime(2026, 1, 31, 12, 0, 0, tzinfo=timezone.utc)


def _schedule(client: Any, first: int, count: int) -> None:
    for i in range(first, first + count):
        client.schedule_new_orchestration("paged", instance_id=f"page-{i:05d}")


def _row(i: int, status: str = "PENDING") -> InstanceRow:
    at = T0 + timedelta(seconds=i)
    return InstanceRow(f"i{i}", "paged", "", status, at, at, "")


def _shown(table: InstancesTable) -> str:
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


def test_merge_replaces_removes_and_inserts_in_order() -> None:
    rows = [_row(i) for i in (9, 7, 5, 3)]
    answered = [_row(7, "RUNNING"), _row(10), _row(4)]
    merged = merge(rows, answered, gone={"i5"})
    assert [r.instance_id for r in merged] == ["i10", "i9", "i7", "i4", "i3"]
    assert merged[2].status == "RUNNING"
    # only newer ones: put on top without a sort
    assert [r.instance_id for r in merge(rows, [_row(11)], set())][:2] == ["i11", "i9"]


def test_listing_reads_every_page_then_what_changes(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    _schedule(client, 0, COUNT)
    live = LiveClient(address)
    try:
        listing = InstanceListing(live, page_size=PAGE)
        assert listing.refresh([]) is True
        ids = [r.instance_id for r in listing.rows]
        assert ids == [f"page-{i:05d}" for i in reversed(range(COUNT))]
        # nothing changed: no change reported, and no second full listing
        in_sight = (listing.rows[30].created, listing.rows[10].created)
        assert in_sight[0] is not None and in_sight[1] is not None
        assert listing.refresh([], (in_sight[0], in_sight[1])) is False
        assert listing.full_listings == 1
        # new instances come in on top (more of them than a page)
        _schedule(client, COUNT, PAGE + 5)
        assert listing.refresh([], (in_sight[0], in_sight[1])) is True
        assert listing.full_listings == 1
        ids = [r.instance_id for r in listing.rows]
        assert len(ids) == len(set(ids)) == COUNT + PAGE + 5
        assert ids[0] == f"page-{COUNT + PAGE + 4:05d}" and ids[-1] == "page-00000"
        # a full listing of the same sidecar says the same
        full = InstanceListing(live, page_size=PAGE)
        full.refresh([])
        assert full.rows == listing.rows
    finally:
        live.close()


def test_a_full_listing_keeps_the_rows_that_did_not_change(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    _schedule(client, 0, PAGE + 5)
    live = LiveClient(address)
    try:
        listing = InstanceListing(live, page_size=PAGE)
        listing.refresh([])
        before = list(listing.rows)
        assert listing.refresh([], full=True) is False
        assert listing.full_listings == 2
        assert all(r is b for r, b in zip(listing.rows, before, strict=True))
        # a row known differently is answered as the sidecar has it, a new object
        known = {r.instance_id: r for r in before}
        known["page-00003"] = replace(known["page-00003"], status="RUNNING")
        rows = live.query_instances(page_size=PAGE, known=known)
        assert rows == before
        assert [r.instance_id for r in rows if r is not known[r.instance_id]] == ["page-00003"]
    finally:
        live.close()


async def test_the_list_pages_keeps_its_cursor_and_filters(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    _schedule(client, 0, COUNT)
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    app.poller.listing_state.page_size = PAGE
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.screen.query_one(InstancesTable)
            await wait_for(pilot, lambda: table.row_count == COUNT)
            assert table.border_title.startswith(f"instances · {COUNT} ·")
            assert table.selected_key() == f"page-{COUNT - 1:05d}"  # the newest first
            assert "page-00000" not in _shown(table)

            # paging: a screen down shows later (older) instances, End the oldest
            await pilot.press("pagedown")
            paged = table.selected_key()
            assert paged is not None and paged < f"page-{COUNT - 10:05d}"
            assert paged in _shown(table)
            await pilot.press("end")
            assert table.selected_key() == "page-00000"
            assert "page-00000" in _shown(table)
            await pilot.press("home", "pagedown", "pagedown", "down")
            chosen = table.selected_key()
            before = table.cursor_row

            # a refresh with new instances on top keeps the cursor on its instance, in sight
            _schedule(client, COUNT, 3)
            await wait_for(pilot, lambda: table.row_count == COUNT + 3)
            assert table.selected_key() == chosen
            assert table.cursor_row == before + 3
            assert chosen is not None and chosen in _shown(table)
            assert table.border_title.startswith(f"instances · {COUNT + 3} ·")

            # the name filter: ten ids match, counted against the whole list
            await pilot.press("slash", *"page-0001", "enter")
            await wait_for(pilot, lambda: table.row_count == 10)
            assert table.border_title.startswith(f"instances · 10 of {COUNT + 3} ·")
            assert "page-00019" in _shown(table)
            await pilot.press("slash", *["backspace"] * 9, "enter")
            await wait_for(pilot, lambda: table.row_count == COUNT + 3)

            # the status filter asks the sidecar again, through every page
            await pilot.press("f")  # RUNNING: none of them run
            await wait_for(pilot, lambda: table.row_count == 0 and not app.instances)
            await pilot.press("f")  # PENDING: all of them
            await wait_for(pilot, lambda: table.row_count == COUNT + 3)
            assert app.filters.status == "PENDING"
            assert "status PENDING" in table.border_title
    finally:
        app.close()
