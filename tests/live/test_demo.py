"""``inspector demo``'s pieces in a pilot: every sample ends, the live screen, a screenshot.

Run as a script to refresh ``docs/screenshots/live-demo.svg``::

    python -m tests.live.test_demo
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from durabletask import client as dt_client

from engine.app_loader import load_app
from engine.worker import ConnectionOptions, Outcome, WorkerOptions
from inspector.cli_demo import APP, DemoDriver, LocalBackend
from inspector.live import LiveApp, LiveConfig
from inspector.widgets.live import WorkItemsTable
from tests.live.test_attach import wait_for

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "live-demo.svg"
TERMINAL = {
    dt_client.OrchestrationStatus.COMPLETED,
    dt_client.OrchestrationStatus.FAILED,
    dt_client.OrchestrationStatus.TERMINATED,
}


async def run_demo(screenshot: Path) -> dict[str, str]:
    """The demo's sidecar, driver and live app; every scheduled instance's final status."""
    backend = LocalBackend()
    address = backend.start()
    driver = DemoDriver(address)
    app = LiveApp(
        LiveConfig(
            connection=ConnectionOptions(address),
            worker_options=WorkerOptions(app=APP, grace=3.0),
            user_app=load_app(APP),
            title=f"demo · in-memory sidecar {address} · samples",
        )
    )
    threads_before = {t.ident for t in threading.enumerate()}
    try:
        async with app.run_test(size=(160, 44)) as pilot:
            driver.start()
            table = app.screen.query_one(WorkItemsTable)
            await wait_for(pilot, lambda: app.worker_state == "connected", 30)
            # completed work items show within seconds
            await wait_for(pilot, lambda: _completed(app) >= 20, 15)
            await wait_for(
                pilot,
                lambda: (
                    len(app.instances) >= 29
                    and all(
                        r.status in ("COMPLETED", "FAILED", "TERMINATED") for r in app.instances
                    )
                ),
                30,
            )
            await pilot.pause(0.5)
            assert table.row_count == len(app.items)
            app.save_screenshot(str(screenshot.name), str(screenshot.parent))
            statuses = {r.instance_id: r.status for r in app.instances}
            await pilot.press("q")
    finally:
        driver.stop()
        app.close()
        backend.stop(grace=0)
    assert not driver.errors, driver.errors
    leftover = [
        t.name
        for t in threading.enumerate()
        if t.ident not in threads_before and t.name.startswith(("worker-", "demo-"))
    ]
    assert not leftover, leftover
    assert app.worker is not None and not app.worker.user_process_ids()
    return statuses


def _completed(app: LiveApp) -> int:
    return sum(r.outcome is Outcome.COMPLETED for r in app.items.values())


async def test_demo_runs_every_sample_to_its_end(tmp_path: Any) -> None:
    statuses = await run_demo(tmp_path / "live-demo.svg")
    assert (tmp_path / "live-demo.svg").read_text().startswith("<svg")
    expected_failed = {"demo1-uncaught_failure", "demo1-retry_exhausted"}
    assert {i for i, s in statuses.items() if s == "FAILED"} >= expected_failed
    assert statuses["demo1-terminable"] == "TERMINATED"
    for name in (
        "wait_for_approval",
        "buffered_event",
        "split_timer_or_event",
        "continue_as_new_with_events",
        "suspendable",
        "event_receiver",
        "event_receiver-sender",
        "parent_orchestration",
        "fan_out_fan_in",
    ):
        assert statuses[f"demo1-{name}"] == "COMPLETED", name


if __name__ == "__main__":
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(run_demo(SCREENSHOT))
    print(SCREENSHOT)
