"""Connection state, the breakpoint modal, activity items and command-line errors."""

from __future__ import annotations

from typing import Any

from durabletask.testing import InMemoryOrchestrationBackend

from engine.worker import ConnectionOptions
from inspector.__main__ import main
from inspector.live import LiveApp, LiveConfig
from inspector.screens.live import LiveScreen
from inspector.screens.live_modals import ActivityScreen
from inspector.widgets.live import WorkItemsTable
from samples import orchestrations as samples
from tests.live.conftest import free_port
from tests.live.test_attach import SIZE, wait_async, wait_for, worker_config


async def test_reconnecting_until_the_sidecar_comes_up() -> None:
    port = free_port()
    app = LiveApp(LiveConfig(connection=ConnectionOptions(f"127.0.0.1:{port}")))
    backend = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "reconnecting in" in app.connection_state, 15)
            # a refused port says so (not a bare UNAVAILABLE)
            assert "connection refused: reconnecting in" in str(app.status_text())
            backend = InMemoryOrchestrationBackend(port=port)
            backend.start()
            await wait_for(pilot, lambda: app.connection_state == "connected", 40)
    finally:
        app.close()
        if backend is not None:
            backend.stop(grace=0)


async def test_breakpoint_modal_and_activity_items(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("H")
            await pilot.press(*"kind=taskCompleted name=single_activity")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            assert [r.describe() for r in app.rules] == ["kind=taskCompleted name=single_activity"]
            assert "kind=taskCompleted" in app.hold_text()
            await pilot.press("H")
            await pilot.press("enter")  # empty clears every rule
            await wait_for(pilot, lambda: not app.rules)

            client.schedule_new_orchestration(samples.single_activity, input="x", instance_id="x")
            await wait_async(pilot, client, "x")
            table = app.screen.query_one(WorkItemsTable)
            await wait_for(pilot, lambda: table.row_count == 3)
            number = next(n for n, r in app.items.items() if not r.is_turn)
            table.move_cursor(row=table.get_row_index(str(number)))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ActivityScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    finally:
        app.close()


def test_attach_with_an_app_that_does_not_load_is_exit_2(capsys: Any) -> None:
    assert main(["attach", "127.0.0.1:1", "--app", "no_such_module_for_attach"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inspector: ") and "Traceback" not in err
