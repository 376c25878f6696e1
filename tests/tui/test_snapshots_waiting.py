"""SVG snapshots of "waiting on" with code: a when_all over a decided when_any (the loser
marked), at 80x24 (the pending pane one ``v`` away) and 160x48, and a long pending pane that
scrolls at 120x34 (regenerate with ``pytest tests/tui --snapshot-update``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import replayed
from tests.tui.test_stepper_waiting import composite_app, fan_out_app


@pytest.mark.parametrize(
    ("size", "keys"), [((80, 24), ("end", "v")), ((160, 48), ("end",))], ids=["80x24", "160x48"]
)
def test_race_decided_inside_a_when_all(snap_compare: Any, size: Any, keys: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await replayed(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(composite_app(2), terminal_size=size, run_before=run_before)


def test_long_pending_pane_scrolled_at_120x34(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await replayed(pilot)
        await pilot.press("end")
        pane = pilot.app.stepper.query_one("#actions")
        pane.focus()
        await pilot.press("pagedown")
        await pilot.pause()

    assert snap_compare(fan_out_app(30), terminal_size=(120, 34), run_before=run_before)
