"""Keys that work or say why: the footer, ``?`` and the palette list what works in this mode."""

from __future__ import annotations

from typing import Any

from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.screens.live import LiveScreen
from inspector.screens.live_modals import INSTANCE_ACTIONS
from inspector.screens.modals import HelpScreen
from inspector.widgets.footer import KeyHint
from inspector.widgets.live import InstancesTable, WorkItemsTable
from samples import orchestrations as samples
from tests.live.test_attach import SIZE, wait_async, wait_for, worker_config

WORKER_KEYS = {"tab", "H", "h", "r", "a", "s"}


def _footer_keys(app: LiveApp) -> set[str]:
    return {k.key for k in app.screen.query(KeyHint)}


def _help_text(app: LiveApp) -> str:
    return str(app.screen.query_one("#help-text").render())


async def test_without_app_only_what_works(sidecar: Any) -> None:
    _, address = sidecar
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.connection_state == "connected")
            shown = _footer_keys(app)
            assert not shown & WORKER_KEYS, shown
            assert {"question_mark", "q"} <= shown
            # a worker key does nothing and is not offered
            await pilot.press("h")
            assert not app.hold_armed and isinstance(app.screen, LiveScreen)

            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = _help_text(app)
            for spec in INSTANCE_ACTIONS:
                assert f"  {spec.key} " in text and spec.tooltip in text, spec.action
            assert "Timeline" not in text or "history in time" in text
            assert "Hold the next matching turn" not in text
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))

            titles = [c.title for c in app.get_system_commands(app.screen)]
            for spec in INSTANCE_ACTIONS:
                assert f"{spec.label} ({spec.key})" in titles
            assert "Timeline (t)" in titles and "Hold (h)" not in titles
            # a palette command runs the key's action: nothing selected yet, so it says why
            command = next(
                c for c in app.get_system_commands(app.screen) if c.title == "Timeline (t)"
            )
            command.callback()
            await wait_for(
                pilot,
                lambda: (
                    "select an instance for its timeline" in [n.message for n in app._notifications]
                ),
            )
            # an action with nothing selected says why
            await pilot.press("p")
            assert isinstance(app.screen, LiveScreen)
            messages = [n.message for n in app._notifications]
            assert "select an instance to suspend" in messages
    finally:
        app.close()


async def test_with_app_hold_rules_have_their_own_key(sidecar: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected")
            assert WORKER_KEYS | {"question_mark", "q"} <= _footer_keys(app)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = _help_text(app)
            assert "H " in text and "Which turns h holds" in text
            assert "Breakpoint" not in text  # that word is the stepper's
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Hold rules (H)" in titles and "Hold (h)" in titles
    finally:
        app.close()


async def test_turns_filter_and_newer(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected")
            client.schedule_new_orchestration(samples.activity_chain, instance_id="keys-chain")
            client.schedule_new_orchestration(
                samples.single_activity, input="x", instance_id="keys-one"
            )
            await wait_async(pilot, client, "keys-chain")
            await wait_async(pilot, client, "keys-one")
            items = app.screen.query_one(WorkItemsTable)
            instances = app.screen.query_one(InstancesTable)
            chain = lambda: sorted(  # noqa: E731
                (r.event.number, r.turn)
                for r in app.items.values()
                if r.is_turn and r.event.instance_id == "keys-chain"
            )
            await wait_for(pilot, lambda: len(chain()) >= 4)
            # turns numbered per instance, in the order they arrived
            assert [t for _, t in chain()] == list(range(1, len(chain()) + 1))

            # / filters both lists, by name or instance id
            await wait_for(pilot, lambda: len(instances._rows) == 2)
            await pilot.press("slash", *"keys-one", "enter")
            await wait_for(pilot, lambda: [r.instance_id for r in instances._rows] == ["keys-one"])
            await wait_for(
                pilot,
                lambda: items._rows and all(r.event.instance_id == "keys-one" for r in items._rows),
            )
            # the prompt holds the filter; emptied, it shows everything again
            await pilot.press("slash", *["backspace"] * len("keys-one"), "enter")
            await wait_for(pilot, lambda: len(instances._rows) == 2)

            # scrolled away from the newest: new rows are counted, not jumped to
            items.focus()
            await wait_for(pilot, lambda: items.row_count > 3)
            items.move_cursor(row=2, animate=False)
            await pilot.pause()
            client.schedule_new_orchestration(
                samples.single_activity, input="y", instance_id="keys-new"
            )
            await wait_async(pilot, client, "keys-new")
            await wait_for(pilot, lambda: items.newer >= 3)
            assert f"{items.newer} newer ↑" in str(items.border_title)
            assert items.cursor_row != 0
            items.move_cursor(row=0, animate=False)
            await wait_for(
                pilot, lambda: items.newer == 0 and "newer" not in str(items.border_title)
            )
    finally:
        app.close()
