"""SVG snapshots of the tap's live list at 80x24 and 160x48, with the serving worker's column
(regenerate with ``--snapshot-update``).

The work items are the ``WorkItemReported`` messages the tap's capture posts, given fixed
times and peers so the picture does not change from run to run; the instance poller is left
out (its countdown would), so the sidecar stays ``connecting``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.channel import ConnectionOptions
from engine.tap import TapOptions
from engine.worker import Outcome, WorkItemEvent
from inspector.live import LiveConfig
from inspector.live.tap_source import TapLiveApp
from inspector.messages import WorkItemReported
from inspector.widgets.live import WorkItemsTable
from tests.tui.conftest import _no_blink as _no_blink

AT = datetime(2026, 12, 1, 21, 40, 38, 865000, tzinfo=timezone.utc)
WORKERS = ("ipv4:127.0.0.1:36384", "ipv6:[::1]:41022")


class StillTapApp(TapLiveApp):
    """The tap's live app without the instance poller, and without notices (they tell the
    tap's port, chosen at run time, and the time)."""

    def _poll(self) -> None:  # type: ignore[override]
        return None

    def _add_notice(self, line: str, at: datetime | None = None) -> None:
        return None


def _events() -> list[WorkItemEvent]:
    rows = [
        ("orchestrator", "chain-1", "chain", "1 action", Outcome.COMPLETED),
        ("activity", "chain-1", "hello", "ok", Outcome.COMPLETED),
        ("orchestrator", "chain-1", "chain", "COMPLETED", Outcome.COMPLETED),
        ("activity", "catches", "fail", "FAILED builtins.ValueError", Outcome.FAILED),
        ("orchestrator", "catches", "catches", "ABANDONED", Outcome.ABANDONED),
        ("orchestrator", "timer", "timer", "RECEIVED", Outcome.RECEIVED),
    ]
    return [
        WorkItemEvent(
            time=AT.replace(second=38 + n),
            kind=kind,
            instance_id=iid,
            name=name,
            result=result,
            seconds=0.0118 * (n + 1),
            number=n + 1,
            outcome=outcome,
            worker=WORKERS[n % 2],
        )
        for n, (kind, iid, name, result, outcome) in enumerate(rows)
    ]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_the_taps_live_list(snap_compare: Any, size: tuple[int, int]) -> None:
    connection = ConnectionOptions("127.0.0.1:4001")
    app = StillTapApp(
        LiveConfig(
            connection=connection,
            tap_options=TapOptions("127.0.0.1:0", connection),
            title="tap 127.0.0.1:4002 → 127.0.0.1:4001",
        )
    )

    async def run_before(pilot: Pilot[None]) -> None:
        deadline = 600
        while app.worker_state != "connected" and deadline:
            await pilot.pause(0.1)
            deadline -= 1
        for event in _events():
            app.post_message(WorkItemReported(event))
        while app.screen.query_one(WorkItemsTable).row_count < 6 and deadline:
            await pilot.pause(0.1)
            deadline -= 1
        await pilot.pause(0.5)  # one redraw of the list and the status line

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.close()
