"""Hold mode: a matching turn stays open while others complete; r completes it, a redelivers it."""

from __future__ import annotations

from typing import Any

from durabletask import client as dt_client

from engine.worker import Outcome
from inspector.live import LiveApp
from inspector.screens.live import LiveScreen, LiveStepperScreen
from samples import orchestrations as samples
from tests.live.test_attach import SIZE, wait_async, wait_for, worker_config

COMPLETED = dt_client.OrchestrationStatus.COMPLETED


async def test_hold_then_release_and_abandon(sidecar: Any, client: Any, tmp_path: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address, save_dir=tmp_path))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected")
            app.toggle_rule("instance=held-r")
            await pilot.press("h")
            assert app.hold_armed

            client.schedule_new_orchestration(
                samples.single_activity, input="r", instance_id="held-r"
            )
            others = [
                client.schedule_new_orchestration(samples.activity_chain, instance_id=f"other-{n}")
                for n in range(3)
            ]
            # the held turn opens in the stepper by itself
            screen = await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, LiveStepperScreen)
                    and app.screen.held_token
                    and app.screen
                ),
            )
            assert screen.session.request.proto.instanceId == "held-r"
            assert not app.hold_armed  # one turn only
            # other work keeps flowing while it is held
            for iid in others:
                assert (await wait_async(pilot, client, iid)).runtime_status == COMPLETED
            state = client.get_orchestration_state("held-r")
            assert state.runtime_status not in (COMPLETED,)
            assert app.worker is not None and len(app.worker.held_tokens()) == 1
            assert "held 1" in str(app.status_text())

            await pilot.press("r")  # our response goes to the sidecar
            # the stepper no longer says held: it says what became of it
            assert "(was held: released)" in screen.origin and "(held)" not in screen.origin
            assert (await wait_async(pilot, client, "held-r")).runtime_status == COMPLETED
            rows = [r for r in app.items.values() if r.event.instance_id == "held-r"]
            await wait_for(pilot, lambda: all(r.outcome is Outcome.COMPLETED for r in rows))
            # the list keeps the trace of the hold after the release
            held_rows = lambda: [  # noqa: E731
                r for r in app.items.values() if r.event.instance_id == "held-r" and r.was_held
            ]
            await wait_for(
                pilot, lambda: held_rows() and held_rows()[0].outcome is Outcome.COMPLETED
            )
            assert held_rows()[0].turn == 1

            # back to the list; now hold another one and abandon it
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            app.toggle_rule("instance=held-r")  # removes it
            app.toggle_rule("instance=held-a")
            assert [r.instance for r in app.rules] == ["held-a"]
            await pilot.press("h")
            client.schedule_new_orchestration(
                samples.single_activity, input="a", instance_id="held-a"
            )
            screen = await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, LiveStepperScreen)
                    and app.screen.held_token
                    and app.screen
                ),
            )
            assert screen.session.request.proto.instanceId == "held-a"
            held_number = next(
                n
                for n, r in app.items.items()
                if r.outcome is Outcome.HELD and r.event.instance_id == "held-a"
            )
            await pilot.press("a")  # given back: the sidecar redelivers it, we serve it
            assert (await wait_async(pilot, client, "held-a")).runtime_status == COMPLETED
            await wait_for(pilot, lambda: app.items[held_number].outcome is Outcome.ABANDONED)
            served = [
                r
                for n, r in app.items.items()
                if r.event.instance_id == "held-a" and r.is_turn and n > held_number
            ]
            assert served and served[0].event.request  # the redelivered turn
            await pilot.press("escape")

            # s saves the selected work item like --record
            # with no row selected yet, s only warns: wait for the list to select one
            await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, LiveScreen) and app.screen._selected_item() is not None
                ),
            )
            await pilot.press("s")
            await wait_for(pilot, lambda: list(tmp_path.glob("*.b64")))
    finally:
        app.close()


async def test_held_turn_is_abandoned_on_quit(sidecar: Any, client: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected")
            await pilot.press("h")  # no rules: the next turn
            client.schedule_new_orchestration(samples.single_activity, input="q", instance_id="q")
            await wait_for(pilot, lambda: app.worker is not None and app.worker.held_tokens())
            await pilot.press("q")
    finally:
        app.close()
    assert app.worker is not None and not app.worker.held_tokens()
    assert app.worker.stats.abandoned >= 1
    # nothing lost: another worker finishes it
    from durabletask import worker as dt_worker

    from tests.live.conftest import QUIET, wait_done

    w = dt_worker.TaskHubGrpcWorker(host_address=address, logger=QUIET)
    samples.register(w)
    w.start()
    try:
        assert wait_done(client, "q").runtime_status == COMPLETED
    finally:
        w.stop()
