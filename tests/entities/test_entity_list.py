"""The live view lists the sidecar's entities and their state (``QueryEntities``).

Against the SDK's in-memory sidecar, with the SDK's own worker serving the sample entities and
the SDK's client signalling them: ``E`` on the live list opens the entities screen, whose rows
must say what the SDK's client reads back (``get_all_entities``) for every entity, with the
whole state of the selected one and a full-screen view of it. A sidecar without entity queries
says so in one line and is not asked again. Snapshots at 80x24 and 160x48 use a fixed listing.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent import futures
from datetime import datetime, timezone
from typing import Any

import grpc
from durabletask import client as dt_client
from durabletask import task
from durabletask import worker as dt_worker
from durabletask.entities import EntityInstanceId
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from engine.live import LiveClient
from engine.live_entities import EntityListing, EntityRow
from engine.proto import orchestrator_service_pb2 as pb
from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.screens.entities import EntitiesScreen, StateScreen
from inspector.screens.live import LiveScreen
from inspector.widgets.entities import EntitiesTable
from samples import entities as samples
from tests.live.conftest import free_port, start_backend
from tests.live.test_attach import wait_for

QUIET = logging.getLogger("tests.entities.list.quiet")
QUIET.setLevel(logging.CRITICAL)
QUIET.propagate = False
HELD = EntityInstanceId("counter", "held")


def hold_lock(ctx: task.OrchestrationContext, _: Any) -> Any:
    with (yield ctx.lock_entities([HELD])):
        yield ctx.wait_for_external_event("go")
    return "released"


def _sdk_view(client: dt_client.TaskHubGrpcClient) -> dict[str, tuple[Any, ...]]:
    query = dt_client.EntityQuery(include_state=True, include_transient=True)
    return {
        str(e.id): (e._state or None, e.backlog_queue_size, bool(e._locked_by))
        for e in client.get_all_entities(query)
    }


def _ours(rows: list[EntityRow]) -> dict[str, tuple[Any, ...]]:
    return {r.instance_id: (r.state, r.backlog, bool(r.locked_by)) for r in rows}


async def test_the_entities_screen_lists_what_the_sdk_client_reads() -> None:
    backend, address = start_backend()
    worker = dt_worker.TaskHubGrpcWorker(host_address=address, logger=QUIET)
    worker.add_entity(samples.counter)
    worker.add_entity(samples.Account)
    worker.add_orchestrator(hold_lock)
    worker.start()
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        for key, amount in (("a", 3), ("b", 40)):
            client.signal_entity(EntityInstanceId("counter", key), "add", amount)
        client.signal_entity(EntityInstanceId("Account", "alice"), "deposit", 100)
        client.schedule_new_orchestration(hold_lock, instance_id="holder")
        want = {"@counter@a": "3", "@counter@b": "40", "@account@alice": "100"}

        def settled() -> bool:
            view = _sdk_view(client)
            states = all(view.get(k, (None,))[0] == v for k, v in want.items())
            return states and view.get(str(HELD), (None, 0, False))[2]

        deadline = time.monotonic() + 30
        while not settled():
            assert time.monotonic() < deadline, _sdk_view(client)
            time.sleep(0.05)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("E")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, EntitiesScreen) and app.screen
            )
            table = screen.query_one(EntitiesTable)
            await wait_for(pilot, lambda: table.row_count >= 4)
            assert _ours(list(screen.listing.rows)) == _sdk_view(client)
            locked = next(r for r in screen.listing.rows if r.instance_id == str(HELD))
            assert locked.locked_by and locked.last_modified is not None
            index = [r.instance_id for r in screen.listing.rows].index("@counter@b")
            table.move_cursor(row=index)
            await pilot.pause()
            detail = str(screen.query_one("#ent-state", Static).render())
            assert "@counter@b" in detail and "counter / b" in detail and "40" in detail
            client.signal_entity(EntityInstanceId("counter", "b"), "add", 2)
            await wait_for(pilot, lambda: "42" in str(table.get_row("@counter@b")[-1]))
            assert table.selected() is not None and table.selected().instance_id == "@counter@b"
            await pilot.press("enter")
            state = await wait_for(
                pilot, lambda: isinstance(app.screen, StateScreen) and app.screen
            )
            assert "42" in str(state.query_one("#state-text", Static).render())
            await pilot.press("escape")
            await pilot.press("slash")
            await pilot.press(*"@account@", "enter")
            await wait_for(pilot, lambda: table.row_count == 1)
            assert table.selected() is not None
            assert table.selected().instance_id == "@account@alice"
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    finally:
        app.close()
        client.raise_orchestration_event("holder", "go")
        worker.stop()
        client.close()
        backend.stop(grace=0)


class _Plain(App[None]):
    """The entities screen alone, on a fetch function."""

    def __init__(self, fetch: Any, where: str) -> None:
        super().__init__()
        self.fetch = fetch
        self.where = where

    def on_mount(self) -> None:
        self.push_screen(EntitiesScreen(self.fetch, self.where))


async def test_a_sidecar_without_entity_queries_says_so_once() -> None:
    # No real peer lacks QueryEntities here: a gRPC server with no services stands in for one.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    client = LiveClient(f"127.0.0.1:{port}")
    calls: list[str] = []
    lock = threading.Lock()

    def fetch(prefix: str) -> EntityListing:
        with lock:
            calls.append(prefix)
        return client.entities(prefix)

    app = _Plain(fetch, f"127.0.0.1:{port}")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, EntitiesScreen) and app.screen
            )
            await wait_for(pilot, lambda: screen.error)
            assert "does not implement QueryEntities" in screen.error
            title = str(screen.query_one("#ent-title", Static).render())
            assert "does not implement QueryEntities" in title
            await pilot.pause(1.5)  # longer than the poll interval: no second call was made
            assert calls == [""]
            await pilot.press("r")
            await wait_for(pilot, lambda: len(calls) == 2)
    finally:
        client.close()
        server.stop(0)


# --- snapshots -----------------------------------------------------------------------------


def _fixed_listing(prefix: str) -> EntityListing:
    """A fixed listing, built from ``EntityMetadata`` messages as the sidecar sends them."""
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    specs = [
        ("@account@alice", "100", 0, None),
        ("@blob@big", '{"nested": {"list": [1, 2, 3], "name": "a long value"}, "ok": 1}', 0, None),
        ("@counter@gone", None, 0, None),
        ("@counter@held", "7", 2, "4f1c2e7a-9b0d-5e3f-8a21-c6d7e8f90a1b"),
        ("@counter@k1", "42", 0, None),
    ]
    rows = []
    for instance_id, state, backlog, locked_by in specs:
        msg = pb.EntityMetadata(instanceId=instance_id, backlogQueueSize=backlog)
        msg.lastModifiedTime.FromDatetime(at)
        if state is not None:
            msg.serializedState.value = state
        if locked_by is not None:
            msg.lockedBy.value = locked_by
        rows.append(EntityRow.from_proto(msg))
    return EntityListing(tuple(r for r in rows if r.instance_id.startswith(prefix)), False)


def _snapshot_app() -> _Plain:
    return _Plain(_fixed_listing, "127.0.0.1:4001")


async def _settle(pilot: Pilot[None]) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.query_one(EntitiesTable).row_count == 5)
    await pilot.press("down")
    await pilot.pause()


def test_snapshot_of_the_entities_screen_80x24(snap_compare: Any) -> None:
    assert snap_compare(_snapshot_app(), terminal_size=(80, 24), run_before=_settle)


def test_snapshot_of_the_entities_screen_160x48(snap_compare: Any) -> None:
    assert snap_compare(_snapshot_app(), terminal_size=(160, 48), run_before=_settle)
