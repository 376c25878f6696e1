"""Acting on instances from the live view: each action confirmed in its form, answered in one line.

The SDK's in-memory sidecar does the work and its own client (``TaskHubGrpcClient``) reads the
state that proves each action; the SDK's worker runs the sample orchestrations.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from durabletask import client as dt_client
from durabletask.history import ExecutionRewoundEvent, OrchestratorStartedEvent
from textual.widgets import Input

from engine.live_actions import ActionResult
from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.screens.live import LiveScreen
from inspector.screens.live_modals import ActionForm
from inspector.widgets.live import InstancesTable
from samples import orchestrations as samples
from tests.live.test_attach import SIZE, wait_for

Status = dt_client.OrchestrationStatus


def _status(client: Any, iid: str) -> Any:
    state = client.get_orchestration_state(iid)
    return state.runtime_status if state is not None else None


def _rewound(client: Any, iid: str) -> list[str | None]:
    """The reasons of the rewinds in the instance's history."""
    history = client.get_orchestration_history(iid)
    return [e.reason for e in history if isinstance(e, ExecutionRewoundEvent)]


async def _select(pilot: Any, app: LiveApp, iid: str) -> None:
    """Put the instance list's cursor on ``iid`` (once the poller listed it)."""
    table = app.screen.query_one(InstancesTable)
    await wait_for(pilot, lambda: iid in {r.instance_id for r in table._rows})
    table.move_cursor(row=table.get_row_index(iid), animate=False)
    table.focus()
    await pilot.pause()


async def _act(pilot: Any, app: LiveApp, key: str, values: dict[str, str]) -> ActionResult:
    """Press the action's key, fill its form, confirm; the result the app shows."""
    before = len(app.action_results)
    await pilot.press(key)
    form = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, ActionForm) else None)
    for name, value in values.items():
        form.query_one(f"#f-{name}", Input).value = value
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    await wait_for(pilot, lambda: len(app.action_results) > before)
    result: ActionResult = app.action_results[-1]
    return result


async def test_schedule_raise_suspend_resume_terminate_purge(
    sidecar: Any, client: Any, sdk_worker: Any
) -> None:
    _, address = sidecar
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            # schedule: name, id and input, as the sidecar then reports them
            values = {"name": "wait_for_approval", "instance_id": "act-approval", "input": "7"}
            result = await _act(pilot, app, "n", values)
            assert result.ok and result.instance_id == "act-approval", result
            assert result.text == "scheduled wait_for_approval as act-approval"
            await wait_for(pilot, lambda: _status(client, "act-approval") == Status.RUNNING)
            state = client.get_orchestration_state("act-approval")
            assert state.name == "wait_for_approval" and state.serialized_input == "7"

            # raise an event with a JSON payload: the orchestration completes with it
            await _select(pilot, app, "act-approval")
            payload = {"approved": True}
            result = await _act(
                pilot, app, "e", {"name": "Approval", "payload": json.dumps(payload)}
            )
            assert result.ok and result.text == "raised Approval on act-approval"
            await wait_for(pilot, lambda: _status(client, "act-approval") == Status.COMPLETED)
            state = client.get_orchestration_state("act-approval")
            assert json.loads(state.serialized_output) == {"approval": payload}

            # a payload that is not JSON is said in one line and nothing is sent
            result = await _act(pilot, app, "e", {"name": "Approval", "payload": "{oops"})
            assert not result.ok and result.text.startswith("the payload is not JSON:")

            # suspend, then resume
            client.schedule_new_orchestration(samples.suspendable, instance_id="act-suspend")
            await wait_for(pilot, lambda: _status(client, "act-suspend") == Status.RUNNING)
            await _select(pilot, app, "act-suspend")
            result = await _act(pilot, app, "p", {"reason": "lunch"})
            assert result.ok, result
            await wait_for(pilot, lambda: _status(client, "act-suspend") == Status.SUSPENDED)
            result = await _act(pilot, app, "u", {})
            assert result.ok, result
            await wait_for(pilot, lambda: _status(client, "act-suspend") == Status.RUNNING)

            # terminate with a reason (recursive by default)
            result = await _act(pilot, app, "x", {"reason": "no longer needed"})
            assert result.ok and result.text == "terminated act-suspend (recursive)"
            await wait_for(pilot, lambda: _status(client, "act-suspend") == Status.TERMINATED)
            state = client.get_orchestration_state("act-suspend")
            assert json.loads(state.serialized_output) == "no longer needed"

            # purge: the sidecar no longer knows the instance
            result = await _act(pilot, app, "X", {})
            assert result.ok and result.text == "purged act-suspend"
            assert client.get_orchestration_state("act-suspend") is None
            # purging a running instance purges nothing, and says so
            client.schedule_new_orchestration(samples.terminable, instance_id="act-running")
            await wait_for(pilot, lambda: _status(client, "act-running") == Status.RUNNING)
            await _select(pilot, app, "act-running")
            result = await _act(pilot, app, "X", {})
            assert not result.ok and result.text.startswith("nothing purged: it is not finished")
            assert client.get_orchestration_state("act-running") is not None
    finally:
        app.close()


async def test_restart_rewind_and_a_scheduled_start(
    sidecar: Any, client: Any, sdk_worker: Any
) -> None:
    _, address = sidecar
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            client.schedule_new_orchestration(
                samples.single_activity, input="a", instance_id="act-done"
            )
            await wait_for(pilot, lambda: _status(client, "act-done") == Status.COMPLETED)
            await _select(pilot, app, "act-done")
            # restart under a new id: a second instance of the same orchestrator and input
            result = await _act(pilot, app, "R", {"new_id": "y"})
            assert result.ok and result.instance_id != "act-done", result
            new_id = result.instance_id
            await wait_for(pilot, lambda: _status(client, new_id) == Status.COMPLETED)
            again = client.get_orchestration_state(new_id)
            assert again.name == "single_activity" and again.serialized_input == '"a"'
            # restart in place: the same id runs again
            result = await _act(pilot, app, "R", {})
            assert result.ok and result.text == "restarted act-done", result

            # rewind a failed instance: the sidecar records the rewind in its history
            client.schedule_new_orchestration(samples.uncaught_failure, instance_id="act-failed")
            await wait_for(pilot, lambda: _status(client, "act-failed") == Status.FAILED)
            await _select(pilot, app, "act-failed")
            result = await _act(pilot, app, "W", {"reason": "fixed it"})
            assert result.ok and result.text == "rewind sent to act-failed", result
            await wait_for(pilot, lambda: _rewound(client, "act-failed") == ["fixed it"])
            # rewinding what did not fail is refused by the sidecar, in one line
            await _select(pilot, app, "act-done")
            result = await _act(pilot, app, "W", {})
            assert not result.ok and result.text.startswith("cannot rewind act-done: ")
            assert "\n" not in result.text

            # schedule with a start time an hour away: the sidecar starts its history then
            values = {"name": "single_activity", "instance_id": "act-later", "start": "+1h"}
            result = await _act(pilot, app, "n", values)
            assert result.ok and "to start at" in result.text, result
            history = client.get_orchestration_history("act-later")
            first = next(e for e in history if isinstance(e, OrchestratorStartedEvent))
            assert first.timestamp > datetime.now(timezone.utc) + timedelta(minutes=50)
            # a start time that is not one says which forms work
            result = await _act(pilot, app, "n", {"name": "single_activity", "start": "soon"})
            assert not result.ok and "use +30s, +5m, +1h" in result.text
    finally:
        app.close()
