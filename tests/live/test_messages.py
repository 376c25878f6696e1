"""What the live app's threads report, as the messages they post, and what the screen shows.

The worker's callbacks and the app's thread workers report only by posting messages: these
pilot tests capture them (``run_test(message_hook=...)``) against the SDK's in-memory sidecar.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.notifications import Notify

from engine.worker import Outcome
from inspector.live import LiveApp
from inspector.messages import (
    ConnectionChanged,
    HeldTurnReleased,
    HeldTurnSettled,
    HoldArmToggled,
    HoldRuleToggled,
    InstancesLoaded,
    WorkerConnectionChanged,
    WorkerLogged,
    WorkItemReported,
)
from inspector.screens.live import LiveScreen, LiveStepperScreen
from inspector.screens.live_modals import NoticesScreen
from inspector.widgets.live import HoldLine, WorkItemsTable
from samples import orchestrations as samples
from tests.live.test_attach import SIZE, wait_async, wait_for, worker_config


class Captured:
    """The messages handled (once each, though a bubbling one is handled at every level)."""

    def __init__(self, app: LiveApp | None = None) -> None:
        self.messages: list[Message] = []
        self.app = app
        self.known_before: list[bool] = []
        """For each work-item report: whether the app had its event before handling it."""
        self._ids: set[int] = set()

    def __call__(self, message: Message) -> None:
        if isinstance(message, WorkItemReported) and self.app is not None:
            row = self.app.items.get(message.event.number)
            self.known_before.append(row is not None and row.event == message.event)
        if id(message) not in self._ids:
            self._ids.add(id(message))
            self.messages.append(message)

    def of(self, kind: type[Message]) -> list[Any]:
        return [m for m in self.messages if isinstance(m, kind)]


def _shown(table: WorkItemsTable) -> str:
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_a_work_item_goes_from_the_worker_thread_to_the_list(
    sidecar: Any, client: Any
) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    seen = Captured(app)
    try:
        async with app.run_test(size=SIZE, message_hook=seen) as pilot:
            client.schedule_new_orchestration(
                samples.single_activity, input="m", instance_id="by-message"
            )
            await wait_async(pilot, client, "by-message")
            table = app.screen.query_one(WorkItemsTable)
            await wait_for(
                pilot,
                lambda: (
                    len(table.work_items) == 3
                    and all(r.outcome is Outcome.COMPLETED for r in table.work_items)
                    and "by-message" in _shown(table)
                ),
            )
            reports = [m.event for m in seen.of(WorkItemReported)]
            # every work item arrived (RECEIVED), then ended (COMPLETED), as messages
            by_number: dict[int, list[Outcome]] = {}
            for event in reports:
                assert event.instance_id == "by-message"
                by_number.setdefault(event.number, []).append(event.outcome)
            assert len(by_number) == 3
            for outcomes in by_number.values():
                assert outcomes == [Outcome.RECEIVED, Outcome.COMPLETED]
            # the list shows the last event of each, pushed down from the app
            assert {r.event for r in table.work_items} == {
                e for e in reports if e.outcome is Outcome.COMPLETED
            }
            assert seen.of(InstancesLoaded) and seen.of(ConnectionChanged)
            # the app learnt of each event from its message, never before it (from a thread)
            assert seen.known_before and not any(seen.known_before)
    finally:
        app.close()


async def test_the_worker_connection_notice_is_shown(sidecar: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    seen = Captured()
    try:
        async with app.run_test(size=SIZE, message_hook=seen) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected")
            changes = seen.of(WorkerConnectionChanged)
            assert [(c.state, c.detail) for c in changes] == [
                ("connected", f"connected to {address}")
            ]
            notice = f"connected to {address}"
            await wait_for(pilot, lambda: any(m.line == notice for m in seen.of(WorkerLogged)))
            table = app.screen.query_one(WorkItemsTable)
            # under the work items: the latest notice, with its time, and the key for the rest
            await wait_for(pilot, lambda: notice in str(table.border_subtitle))
            assert str(table.border_subtitle).endswith(" · l log")
            assert "worker connected" in str(app.status_text())
            await pilot.press("l")
            log = await wait_for(
                pilot, lambda: isinstance(app.screen, NoticesScreen) and app.screen
            )
            assert any(line.endswith(notice) for line in log.notices)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    finally:
        app.close()


async def test_hold_rules_by_keys(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    seen = Captured()
    try:
        async with app.run_test(size=SIZE, message_hook=seen) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected")
            hold_line = app.screen.query_one(HoldLine)
            # a rule the parser refuses: one notification saying why, no rule
            await pilot.press("H", *"kind=", "enter")
            await wait_for(pilot, lambda: seen.of(HoldRuleToggled))
            assert seen.of(HoldRuleToggled)[-1].text == "kind="
            errors = await wait_for(
                pilot, lambda: [n for n in seen.of(Notify) if n.notification.severity == "error"]
            )
            assert [n.notification.message for n in errors] == ["kind= needs a value"]
            assert app.rules == ()

            await pilot.press("H", *"instance=keys-held", "enter")
            await wait_for(pilot, lambda: len(seen.of(HoldRuleToggled)) == 2)
            assert [r.describe() for r in app.rules] == ["instance=keys-held"]
            assert hold_line.state is not None
            assert hold_line.state.rules == ("instance=keys-held",)
            assert "hold rules (H): instance=keys-held" in hold_line.state.text()

            await pilot.press("h")
            await wait_for(pilot, lambda: seen.of(HoldArmToggled) and app.hold_armed)
            assert hold_line.state.armed
            client.schedule_new_orchestration(
                samples.single_activity, input="k", instance_id="keys-held"
            )
            screen = await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, LiveStepperScreen)
                    and app.screen.held_token
                    and app.screen
                ),
            )
            held = [m.event for m in seen.of(WorkItemReported) if m.event.outcome is Outcome.HELD]
            assert [e.instance_id for e in held] == ["keys-held"]
            assert screen.held_token == held[0].token
            assert not app.hold_armed and not hold_line.state.armed

            await pilot.press("r")
            await wait_for(pilot, lambda: seen.of(HeldTurnSettled))
            assert [m.token for m in seen.of(HeldTurnReleased)] == [held[0].token]
            assert seen.of(HeldTurnSettled)[0].text == "released (our response sent)"
            state = await wait_async(pilot, client, "keys-held")
            assert state.runtime_status.name == "COMPLETED"
    finally:
        app.close()
