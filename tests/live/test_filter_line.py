"""The name filter typed on the live screen's own line, and the filters' cheap paths.

The line takes the hold line's place while open; the screen's keys type into it; enter applies,
escape or leaving the field cancels; the footer is not rebuilt for it. A new name filter does
not list the sidecar again (the lists apply it); the status filter applies at once to the rows
listed, before the sidecar's answer.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import Any

from textual.app import App
from textual.widgets import Input

from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.live.app import APP_CSS
from inspector.messages import NameFilterSet, StatusFilterCycled
from inspector.screens.live import LiveScreen
from inspector.widgets.footer import KeyHint
from inspector.widgets.live import Filters, HoldLine, HoldState, InstancesTable
from tests.live.snapshot_apps import instance_rows
from tests.live.test_attach import wait_for

SIZE = (120, 30)


class FilterApp(App[None]):
    """The live screen on fixed rows, applying the name filter it is sent, as the live app does."""

    CSS_PATH = str(APP_CSS)

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.cycled = 0

    def on_mount(self) -> None:
        self.live = LiveScreen(with_worker=False)
        self.push_screen(self.live)
        self.live.hold = HoldState(False)
        self.live.instances = instance_rows()

    def on_name_filter_set(self, message: NameFilterSet) -> None:
        self.names.append(message.name)
        self.live.filters = replace(self.live.filters, name=message.name)

    def on_status_filter_cycled(self, message: StatusFilterCycled) -> None:
        self.cycled += 1


def _ids(table: InstancesTable) -> list[str]:
    return [r.instance_id for r in table._rows]


def _footer(app: App[None]) -> list[KeyHint]:
    return list(app.screen.query(KeyHint))


async def test_the_line_takes_the_keys_and_enter_applies() -> None:
    app = FilterApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.live
        table, line = screen.instance_list, screen.filter_line
        hold = screen.query_one(HoldLine)
        await wait_for(pilot, lambda: table.row_count == 7 and _footer(app))
        keys = _footer(app)
        assert not line.display and hold.display

        await pilot.press("slash")
        field = line.query_one(Input)
        assert line.display and not hold.display and field.has_focus
        # the screen's keys (quit, status filter, timeline) type into the field
        await pilot.press(*"qft", "backspace", "backspace", "backspace", *"termin")
        assert field.value == "termin" and app.is_running and app.cycled == 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: _ids(table) == ["demo1-terminable"])
        assert app.names == ["termin"]
        assert not line.display and hold.display and table.has_focus
        assert "1 of 7" in str(table.border_title) and "~ termin" in str(table.border_title)
        await pilot.pause()
        # the footer kept its keys: the same widgets, not rebuilt for the line
        assert _footer(app) == keys

        # the line opens on the filter in use; emptied, every row again
        await pilot.press("slash")
        assert field.value == "termin" and field.cursor_position == len("termin")
        await pilot.press(*["backspace"] * 6, "enter")
        await wait_for(pilot, lambda: table.row_count == 7)
        assert app.names == ["termin", ""]


async def test_escape_or_leaving_the_field_cancels() -> None:
    app = FilterApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.live
        table, line = screen.instance_list, screen.filter_line
        await wait_for(pilot, lambda: table.row_count == 7)
        await pilot.press("slash", *"suspend", "escape")
        await wait_for(pilot, lambda: not line.display)
        assert app.names == [] and table.row_count == 7 and table.has_focus
        assert screen.query_one(HoldLine).display

        await pilot.press("slash", *"suspend")
        table.focus()  # a click on the list, say
        await wait_for(pilot, lambda: not line.display)
        assert app.names == [] and table.row_count == 7 and table.has_focus
        # the keys are the screen's again
        await pilot.press("f")
        await wait_for(pilot, lambda: app.cycled == 1)


async def test_the_status_filter_applies_to_the_rows_listed_at_once() -> None:
    app = FilterApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.live.instance_list
        await wait_for(pilot, lambda: table.row_count == 7)
        app.live.filters = Filters(status="COMPLETED")
        await pilot.pause()
        assert _ids(table) == ["demo1-custom_status_progress", "demo1-parent_catches_child_failure"]
        assert "2 of 7" in str(table.border_title) and "status COMPLETED" in str(table.border_title)
        app.live.filters = Filters(status="COMPLETED", name="custom")
        await pilot.pause()
        assert _ids(table) == ["demo1-custom_status_progress"]
        app.live.filters = Filters()
        await pilot.pause()
        assert table.row_count == 7


async def test_a_name_filter_does_not_list_the_sidecar_again(sidecar: Any) -> None:
    """(And the collector is paced from the first listing until the app closes.)"""
    _, address = sidecar
    every = gc.get_threshold()[2]
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.connection_state == "connected")
            await wait_for(pilot, lambda: app.collector.pacing)  # from the first listing on
            app._halt.set()  # the poller stops: what is asked of it stays asked
            await wait_for(pilot, lambda: all(w.is_finished for w in app.workers))
            app.poller.poll_now.clear()
            await pilot.press("slash", *"some-id", "enter")
            await wait_for(pilot, lambda: app.filters.name == "some-id")
            assert not app.poller.poll_now.is_set()
            await pilot.press("f")
            await wait_for(pilot, lambda: app.filters.status == "RUNNING")
            assert app.poller.poll_now.is_set()
    finally:
        app.close()
    assert not app.collector.pacing and gc.get_threshold()[2] == every
