"""The live view lists entity work items with the rest, and opens one in the batch view."""

from __future__ import annotations

from typing import Any

from durabletask import client as dt_client

from engine.app_loader import load_app
from engine.worker import ConnectionOptions, Outcome, WorkerOptions
from inspector.live import LiveApp, LiveConfig
from inspector.screens.entity_batch import EntityBatchScreen, OperationPane
from inspector.screens.live import LiveScreen
from inspector.widgets.live import WorkItemsTable
from samples import entities as samples
from tests.live.conftest import start_backend
from tests.live.test_attach import wait_async, wait_for

SIZE = (160, 48)


async def test_entity_work_items_are_listed_and_open_in_the_batch_view() -> None:
    backend, address = start_backend()
    client = dt_client.TaskHubGrpcClient(host_address=address)
    config = LiveConfig(
        connection=ConnectionOptions(address),
        worker_options=WorkerOptions(app="samples.entities", max_activities=2, grace=3),
        user_app=load_app("samples.entities"),
    )
    app = LiveApp(config)
    try:
        async with app.run_test(size=SIZE) as pilot:
            client.schedule_new_orchestration(
                samples.entity_counter, input="live", instance_id="l1"
            )
            state = await wait_async(pilot, client, "l1")
            assert state.runtime_status == dt_client.OrchestrationStatus.COMPLETED
            table = app.screen.query_one(WorkItemsTable)

            def entity_rows() -> list[Any]:
                return [
                    (n, r)
                    for n, r in sorted(app.items.items())
                    if r.event.kind == "entity" and r.outcome is Outcome.COMPLETED
                ]

            rows = await wait_for(pilot, entity_rows)
            number, row = rows[0]
            assert row.event.instance_id == "@counter@live"

            def listed() -> int | None:
                try:
                    return table.get_row_index(str(number)) + 1  # 0 is a row index too
                except Exception:  # noqa: BLE001 - not drawn yet
                    return None

            index = await wait_for(pilot, listed) - 1
            assert "entity" in [str(c) for c in table.get_row_at(index)]
            table.move_cursor(row=index)
            await pilot.press("enter")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, EntityBatchScreen) and app.screen
            )
            await pilot.press("end")
            await pilot.pause()
            assert "state after" in str(screen.query_one(OperationPane).render())
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    finally:
        app.close()
        client.close()
        backend.stop(grace=0)
