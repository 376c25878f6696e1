"""Pilot tests and a snapshot: the entity-batch view, and entities in the stepper's panes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot

from engine import load_app
from engine.entity_view import BatchStepper, load_entity_item
from engine.load import load_request
from engine.session import ReplaySession
from inspector.app import InspectorApp
from inspector.screens.entity_batch import (
    EntityBatchApp,
    EntityBatchScreen,
    OperationList,
    OperationPane,
)
from inspector.widgets.panes import ActionsPane, StatePane
from tests.tui.conftest import replayed

DIR = Path(__file__).resolve().parents[2] / "samples" / "entity_requests"


def _batch_app(stem: str) -> EntityBatchApp:
    item = load_entity_item(DIR / f"{stem}.b64")
    assert item is not None
    return EntityBatchApp(BatchStepper(item, load_app("samples.entities")))


async def test_the_batch_view_steps_forwards_and_backwards() -> None:
    moved: list[Any] = []  # each message once: one bubbling up is seen once per node

    def hook(message: Message) -> None:
        if isinstance(message, EntityBatchScreen.Moved) and all(m is not message for m in moved):
            moved.append(message)

    app = _batch_app("account_entity_account-batch2")  # withdraw 100 from 10: it fails
    async with app.run_test(size=(140, 30), message_hook=hook) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(OperationPane)
        assert "before the first operation" in str(pane.render())
        await pilot.press("n")
        await pilot.pause()
        text = str(pane.render())
        assert "withdraw" in text
        assert "state before 10" in text and "state after  10" in text
        assert "failed       builtins.ValueError: insufficient funds: 10 < 100" in text
        listing = str(app.screen.query_one(OperationList).render())
        assert "▶ 1. withdraw" in listing and "failed" in listing
        await pilot.press("p")
        await pilot.pause()
        assert "before the first operation" in str(pane.render())
        await pilot.press("end", "n")
        await pilot.pause()
    assert [m.position.index for m in moved] == [-1, 0, -1, 0]


async def test_a_successful_operation_shows_its_result_and_new_state() -> None:
    app = _batch_app("account_entity_account-batch1")  # deposit 10 on a new account
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        text = str(app.screen.query_one(OperationPane).render())
        assert "state before (none)" in text
        assert "state after  10" in text
        assert "result       10" in text


async def test_open_tasks_and_state_pane_show_entity_calls_and_locks() -> None:
    request = load_request(DIR / "rec-entity_transfer-turn7.b64")
    app = InspectorApp(ReplaySession(request, load_app("samples.entities")))
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        calls, sections = [], []
        for _ in range(len(request)):
            await pilot.press("n")
            await pilot.pause()
            actions = screen.query_one(ActionsPane).summary
            state = screen.query_one(StatePane).summary
            calls += [line.strip() for line in actions.splitlines() if "entity call" in line]
            sections += [line.strip() for line in state.splitlines() if "critical section" in line]
    assert any(c.startswith("• entity call @account@entity_transfer-a withdraw") for c in calls)
    assert any(
        "held: @account@entity_transfer-a, @account@entity_transfer-b" in s for s in sections
    )
    assert not any("#-" in c for c in calls)


def test_snapshot_of_the_batch_view(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(
        _batch_app("account_entity_account-batch2"), terminal_size=(120, 24), run_before=run_before
    )
