"""Pilot tests of ``inspector attach`` against the SDK's in-memory sidecar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from durabletask import client as dt_client

from engine.app_loader import load_app
from engine.worker import ConnectionOptions, Outcome, WorkerOptions
from inspector.live import LiveApp, LiveConfig
from inspector.screens.live import LiveScreen, LiveStepperScreen
from inspector.widgets.live import InstancesTable, WorkItemsTable
from samples import orchestrations as samples
from tests.live.conftest import wait_done
from tests.live.test_engine_live import sdk_history

SIZE = (160, 48)


async def wait_for(pilot: Any, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await pilot.pause(0.1)


def worker_config(address: str, **kw: Any) -> LiveConfig:
    return LiveConfig(
        connection=ConnectionOptions(address),
        worker_options=WorkerOptions(
            app="samples.orchestrations", max_orchestrations=2, max_activities=2, grace=3
        ),
        user_app=load_app("samples.orchestrations"),
        **kw,
    )


async def test_attach_without_app_lists_instances_and_opens_history(
    sidecar: Any, client: Any, sdk_worker: Any
) -> None:
    _, address = sidecar
    done = [
        client.schedule_new_orchestration(samples.activity_chain, instance_id=f"chain-{n}")
        for n in range(3)
    ]
    waiting = client.schedule_new_orchestration(samples.wait_for_approval, instance_id="waits")
    for iid in done:
        wait_done(client, iid)
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one(InstancesTable)

            def statuses() -> dict[str, str]:
                return {r.instance_id: r.status for r in app.instances}

            await wait_for(pilot, lambda: len(statuses()) == 4 and table.row_count == 4)
            assert statuses()["chain-1"] == "COMPLETED"
            assert statuses()[waiting] in ("RUNNING", "PENDING")
            assert "connected" in str(app.status_text())

            # the status filter narrows the list
            await pilot.press("f")  # RUNNING
            await wait_for(pilot, lambda: set(statuses()) == {waiting})
            for _ in range(6):  # back to every status
                await pilot.press("f")
            await wait_for(pilot, lambda: len(statuses()) == 4 and table.row_count == 4)

            # enter on chain-1 shows the history the SDK reads
            table.move_cursor(row=table.get_row_index("chain-1"))
            await pilot.press("enter")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, LiveStepperScreen) and app.screen
            )
            assert screen.session.app is None
            ours = list(screen.session.request.proto.pastEvents) + list(
                screen.session.request.proto.newEvents
            )
            theirs = sdk_history(address, "chain-1")
            assert [(e.WhichOneof("eventType"), e.eventId) for e in ours] == [
                (e.WhichOneof("eventType"), e.eventId) for e in theirs
            ]
            assert screen.session.total == len(theirs)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            await pilot.press("q")
    finally:
        app.close()


async def test_attach_with_app_lists_work_items_and_opens_them(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=SIZE) as pilot:
            ids = [
                client.schedule_new_orchestration(
                    samples.single_activity, input=f"w{n}", instance_id=f"one-{n}"
                )
                for n in range(3)
            ]
            for iid in ids:
                state = await wait_async(pilot, client, iid)
                assert state.runtime_status == dt_client.OrchestrationStatus.COMPLETED
            table = app.screen.query_one(WorkItemsTable)
            # 3 orchestrations x (2 turns + 1 activity)
            await wait_for(pilot, lambda: table.row_count == 9 and _all_done(app))
            kinds = sorted((r.event.kind, r.event.instance_id) for r in app.items.values())
            assert kinds.count(("activity", "one-1")) == 1
            assert kinds.count(("orchestrator", "one-1")) == 2
            stats = app.worker.stats if app.worker else None
            assert stats is not None and stats.completed == 9
            assert "served 9" in str(app.status_text())
            assert "worker" in table.hidden  # the embedded worker's own: no serving-worker column
            # newest first: the top row has the highest number
            assert table.selected_key() == str(max(app.items))

            # enter opens the work item's request in the stepper with the APP's code
            number = next(
                n
                for n, r in sorted(app.items.items())
                if r.event.instance_id == "one-2" and r.is_turn
            )
            table.move_cursor(row=table.get_row_index(str(number)))
            await pilot.press("enter")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, LiveStepperScreen) and app.screen
            )
            assert screen.session.app is not None
            assert screen.session.request.proto.instanceId == "one-2"
            assert (
                screen.session.request.proto.SerializeToString() == app.items[number].event.request
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    finally:
        app.close()


def _all_done(app: LiveApp) -> bool:
    return all(r.outcome is Outcome.COMPLETED for r in app.items.values())


async def wait_async(pilot: Any, client: Any, iid: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_orchestration_state(iid)
        if state is not None and state.runtime_status in (
            dt_client.OrchestrationStatus.COMPLETED,
            dt_client.OrchestrationStatus.FAILED,
            dt_client.OrchestrationStatus.TERMINATED,
        ):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"{iid} not done ({state.runtime_status if state else None})")
        await pilot.pause(0.1)
