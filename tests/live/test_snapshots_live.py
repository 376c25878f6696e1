"""SVG snapshots of the live list and the timeline at 80x24 and 160x48.

Regenerate with ``pytest tests/live/test_snapshots_live.py --snapshot-update`` and look at them.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.live.snapshot_apps import LiveListApp, TimelineApp

SIZES = [(80, 24), (160, 48)]


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_live_list(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(LiveListApp(), terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_timeline(snap_compare: Any, size: tuple[int, int]) -> None:
    app = TimelineApp("retry_until_success-turn6", current=12)
    assert snap_compare(app, terminal_size=size, run_before=_settle)
