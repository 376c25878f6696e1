"""``inspector tap --ui``: the live list fed by the tap, and hold / release / abandon through it.

The SDK's worker serves the scenario behind the tap; the SDK's in-memory sidecar and client
judge. The sidecar here answers no instance queries (one method of the real sidecar made to
answer UNIMPLEMENTED, the smallest stand-in for such a sidecar): the instance list comes from
the captured work items.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend
from textual.message import Message

from engine.app_loader import load_app
from engine.channel import ConnectionOptions
from engine.tap import TapOptions
from engine.worker import Outcome
from inspector.live import LiveConfig
from inspector.live.tap_source import TapLiveApp
from inspector.messages import WorkItemReported
from inspector.screens.live import LiveScreen, LiveStepperScreen
from inspector.widgets.live import InstancesTable, WorkItemsTable
from tests.live.test_attach import SIZE, wait_for

from .scenario import sdk_worker, wait_done
from .support import QUIET, sidecar

PENDING = dt_client.OrchestrationStatus.PENDING


class NoInstanceQueries(InMemoryOrchestrationBackend):
    """The SDK's sidecar without instance queries."""

    def QueryInstances(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "no instance queries here")


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[tuple[TapLiveApp, dt_client.TaskHubGrpcClient, Any]]:
    with sidecar(NoInstanceQueries) as (_, port):
        connection = ConnectionOptions(f"127.0.0.1:{port}")
        config = LiveConfig(
            connection=connection,
            tap_options=TapOptions("127.0.0.1:0", connection, record_dir=str(tmp_path)),
            user_app=load_app("tests.tap.scenario"),
            save_dir=tmp_path,
        )
        app = TapLiveApp(config)
        client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        worker: list[Any] = []
        try:
            yield app, client, worker
        finally:
            client.close()
            app.close()  # the tap first: it forwards what is held, which the worker waits for
            for w in worker:
                w.stop()


async def _started(pilot: Any, app: TapLiveApp, worker: list[Any]) -> None:
    await wait_for(pilot, lambda: app.worker_state == "connected")
    w = sdk_worker(f"127.0.0.1:{app.tap_source.tap.port}", QUIET)
    w.start()
    worker.append(w)


async def test_the_live_list_is_fed_by_the_tap(peers: Any) -> None:
    app, client, worker = peers
    seen: list[Message] = []
    try:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await _started(pilot, app, worker)
            client.schedule_new_orchestration("chain", input=["a", "b"], instance_id="ui-chain")
            assert wait_done(client, "ui-chain").runtime_status.name == "COMPLETED"
            rows = await wait_for(
                pilot,
                lambda: (
                    len([r for r in app.items.values() if r.event.instance_id == "ui-chain"]) == 5
                    and app.screen.query_one(WorkItemsTable).row_count >= 5
                ),
            )
            assert rows
            reported = [m.event for m in seen if isinstance(m, WorkItemReported)]
            assert {e.instance_id for e in reported} == {"ui-chain"}
            assert all(e.worker.startswith("ipv") for e in reported)  # the worker behind the tap
            kinds = sorted(r.event.kind for r in app.items.values())
            assert kinds == ["activity"] * 2 + ["orchestrator"] * 3
            assert all(r.outcome is Outcome.COMPLETED for r in app.items.values())
            # No instance queries on this sidecar, yet the instance is listed, as it ended.
            await wait_for(
                pilot, lambda: "does not implement QueryInstances" in app.connection_state
            )
            (row,) = await wait_for(
                pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.instances
            )
            assert (row.instance_id, row.name, row.status) == ("ui-chain", "chain", "COMPLETED")

            # the serving worker's column: each row names the peer that served it
            items = app.screen.query_one(WorkItemsTable)
            assert "worker" in items.widths and "worker" not in items.hidden
            column = list(items.widths).index("worker")
            by_row = {str(r.event.number): r.event.worker for r in app.items.values()}
            for index in range(items.row_count):
                key = items.coordinate_to_cell_key((index, 0)).row_key.value
                port = by_row[str(key)].rsplit(":", 1)[1]
                assert str(items.get_row_at(index)[column]).endswith(":" + port)

            # enter on the newest turn opens it in the stepper, with the code (--app)
            items.focus()
            items.move_cursor(row=0)
            await pilot.press("enter")
            stepper = await wait_for(
                pilot, lambda: isinstance(app.screen, LiveStepperScreen) and app.screen
            )
            assert stepper.session.request.proto.instanceId == "ui-chain"
            assert stepper.session.app is not None
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            # and the instance known only from the capture opens at its newest captured turn
            app.screen.query_one(InstancesTable).focus()
            await pilot.press("enter")
            stepper = await wait_for(
                pilot, lambda: isinstance(app.screen, LiveStepperScreen) and app.screen
            )
            newest = max(n for n, r in app.items.items() if r.is_turn)
            assert f"work item #{newest}" in stepper.origin
    finally:
        app.close()  # its threads stop before the test's loop closes


async def _held_screen(pilot: Any, app: TapLiveApp) -> LiveStepperScreen:
    screen: LiveStepperScreen = await wait_for(
        pilot,
        lambda: isinstance(app.screen, LiveStepperScreen) and app.screen.held_token and app.screen,
    )
    return screen


async def test_hold_release_and_abandon_through_the_tap(peers: Any) -> None:
    app, client, worker = peers
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _started(pilot, app, worker)
            app.toggle_rule("instance=tui-r")
            await pilot.press("h")
            assert app.hold_armed
            client.schedule_new_orchestration("chain", input=["r"], instance_id="tui-r")
            client.schedule_new_orchestration("chain", input=["o"], instance_id="tui-other")
            screen = await _held_screen(pilot, app)  # opens by itself
            assert screen.session.request.proto.instanceId == "tui-r"
            assert wait_done(client, "tui-other").runtime_status.name == "COMPLETED"
            state = client.get_orchestration_state("tui-r")
            assert state is not None and state.runtime_status == PENDING  # not forwarded
            assert app.tap_source.held_tokens() == [screen.held_token]
            await wait_for(pilot, lambda: "held 1" in str(app.status_text()))

            await pilot.press("r")  # the worker's own answer goes to the sidecar
            done = wait_done(client, "tui-r")
            assert (done.runtime_status.name, done.serialized_output) == (
                "COMPLETED",
                '["hello r"]',
            )
            # the released row leaves HELD once the tap has forwarded it; wait for that, so the
            # next hold below is the only HELD row
            await wait_for(
                pilot,
                lambda: all(
                    r.outcome is Outcome.COMPLETED
                    for r in app.items.values()
                    if r.is_turn and r.event.instance_id == "tui-r"
                ),
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))

            app.toggle_rule("instance=tui-r")  # removes it
            app.toggle_rule("instance=tui-a")
            await pilot.press("h")
            client.schedule_new_orchestration("chain", input=["a"], instance_id="tui-a")
            await _held_screen(pilot, app)
            held = next(
                n
                for n, r in app.items.items()
                if r.outcome is Outcome.HELD and r.is_turn and r.event.instance_id == "tui-a"
            )
            await pilot.press("a")  # an abandon goes to the sidecar instead: it redelivers
            done = wait_done(client, "tui-a")
            assert (done.runtime_status.name, done.serialized_output) == (
                "COMPLETED",
                '["hello a"]',
            )
            await wait_for(pilot, lambda: app.items[held].outcome is Outcome.ABANDONED)
            later = [
                r
                for n, r in app.items.items()
                if n > held and r.is_turn and r.event.instance_id == "tui-a"
            ]
            assert later and all(r.outcome is Outcome.COMPLETED for r in later)
            assert app.tap_source.held_tokens() == []
    finally:
        app.close()  # its threads stop before the test's loop closes


async def test_a_held_turn_is_forwarded_on_quit(peers: Any) -> None:
    app, client, worker = peers
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _started(pilot, app, worker)
            await pilot.press("h")  # no rules: the next turn
            client.schedule_new_orchestration("chain", input=["q"], instance_id="tui-q")
            await _held_screen(pilot, app)
            await pilot.press("q")
    finally:
        app.close()  # its threads stop before the test's loop closes
    assert app.tap_source.held_tokens() == []
    assert app.tap_source.tap.stats.abandoned == 0
    # the forwarded answer stands: a worker straight on the sidecar finishes the orchestration
    port = app.config.connection.address.rpartition(":")[2]
    direct = sdk_worker(f"127.0.0.1:{port}", QUIET)
    worker.append(direct)
    direct.start()
    done = wait_done(client, "tui-q", timeout=120)
    assert (done.runtime_status.name, done.serialized_output) == ("COMPLETED", '["hello q"]')
