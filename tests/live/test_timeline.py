"""The timeline: bars from a sample, from 100,000 events, from the stepper and live."""

from __future__ import annotations

from typing import Any

from bench.bench_timeline import mixed_history
from engine.load import load_request_proto
from engine.proto import orchestrator_service_pb2 as pb
from engine.timeline import BarKind, build_timeline, request_timeline
from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.screens.live import LiveScreen
from inspector.screens.main import StepperScreen
from inspector.screens.timeline import TimelineScreen
from inspector.widgets.timeline import TimelineView
from samples import orchestrations as samples
from tests.live.test_actions import _select
from tests.live.test_attach import SIZE, wait_for
from tests.tui.conftest import build_app, replayed

RETRY = "samples/requests/retry_until_success-turn6.b64"


def test_a_recorded_retry_as_bars() -> None:
    timeline = request_timeline(load_request_proto(RETRY))
    kinds = [(b.kind, b.label, b.attempt, b.failed) for b in timeline.bars]
    assert kinds[0][:2] == (BarKind.ORCHESTRATION, "retry_until_success")
    activities = [k for k in kinds if k[0] is BarKind.ACTIVITY]
    # two failures, then the third attempt: each retry counted
    assert [(a[2], a[3]) for a in activities] == [(1, True), (2, True), (3, False)]
    assert [k[0] for k in kinds].count(BarKind.TIMER) == 2
    assert timeline.failures() == 2
    assert len(timeline.turns) == 6 and not timeline.by_index
    # the run is still open (the request ends mid-turn); the timers fired
    assert timeline.bars[0].last is None
    assert all(b.last is not None for b in timeline.bars if b.kind is BarKind.TIMER)
    # an activity bar ends after it starts, on the same axis as the turns
    flaky = timeline.bars[1]
    end = timeline.end_of(flaky)
    assert end is not None and timeline.start_of(flaky) < end <= timeline.span


def test_entities_events_suspension_and_no_timestamps() -> None:
    events = []

    def add(**kw: Any) -> None:
        events.append(pb.HistoryEvent(eventId=kw.pop("event_id", -1), **kw))

    add(orchestratorStarted=pb.OrchestratorStartedEvent())
    add(executionStarted=pb.ExecutionStartedEvent(name="wf"))
    add(
        entityOperationCalled=pb.EntityOperationCalledEvent(requestId="r1", operation="add"),
    )
    add(executionSuspended=pb.ExecutionSuspendedEvent())
    add(eventRaised=pb.EventRaisedEvent(name="Go"))
    add(executionResumed=pb.ExecutionResumedEvent())
    add(entityOperationFailed=pb.EntityOperationFailedEvent(requestId="r1"))
    timeline = build_timeline(events)
    by_kind = {b.kind: b for b in timeline.bars}
    assert by_kind[BarKind.ENTITY].failed and by_kind[BarKind.ENTITY].last == 6
    assert by_kind[BarKind.SUSPENDED].first == 3 and by_kind[BarKind.SUSPENDED].last == 5
    assert by_kind[BarKind.EVENT].point and by_kind[BarKind.EVENT].label == "event Go"
    # no timestamps: laid out by event index
    assert timeline.by_index and timeline.times[6] == 6.0


def test_a_hundred_thousand_events() -> None:
    request = mixed_history(100_000)
    timeline = request_timeline(request)
    total = len(request.pastEvents)
    assert total >= 100_000 and len(timeline.times) == total
    kinds = {b.kind for b in timeline.bars}
    assert kinds >= {
        BarKind.ACTIVITY,
        BarKind.TIMER,
        BarKind.SUB_ORCHESTRATION,
        BarKind.ENTITY,
        BarKind.EVENT,
    }
    # every round fails once and retries once
    retries = [b for b in timeline.bars if b.attempt == 2]
    assert len(retries) == timeline.failures() > 1000


async def test_the_timeline_of_a_hundred_thousand_events_draws_its_ends() -> None:
    from textual.app import App

    timeline = request_timeline(mixed_history(100_000))
    app: App[None] = App()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TimelineScreen(timeline, "big", current=len(timeline.times) // 2))
        await pilot.pause()
        view = app.screen.query_one(TimelineView)
        # opened at the current event: the cursor is on a bar holding it, in sight
        assert view.selected() is not None and view.selected().contains(len(timeline.times) // 2)
        top = int(view.scroll_offset.y)
        assert top <= view.cursor < top + view.size.height
        await pilot.press("end")
        await wait_for(pilot, lambda: int(view.scroll_offset.y) > len(timeline.bars) - 40)
        last = timeline.bars[-1]
        drawn = "\n".join(view.render_line(y).text for y in range(view.size.height))
        assert last.label[:10] in drawn
        detail = str(app.screen.query_one("#tl-detail").render())
        assert detail.startswith(f"{last.kind.value} {last.label}")


async def test_the_stepper_opens_the_timeline_at_its_step() -> None:
    app = build_app("retry_until_success-turn6")
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        await pilot.press(*"n" * 12)
        await pilot.press("t")
        screen = await wait_for(
            pilot, lambda: app.screen if isinstance(app.screen, TimelineScreen) else None
        )
        view = screen.query_one(TimelineView)
        assert view.current == 11 and screen.current == 11
        assert view.selected() is not None and view.selected().contains(11)
        title = str(screen.query_one("#tl-title").render())
        assert "22 events · 6 turns · 2 failed" in title
        # the current step is marked on every row
        rows = [view.render_line(y).text for y in range(len(screen.timeline.bars))]
        assert all("│" in r or any(c in r for c in "━✗╍") for r in rows)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, StepperScreen))


async def test_t_on_an_instance_opens_its_timeline(
    sidecar: Any, client: Any, sdk_worker: Any
) -> None:
    _, address = sidecar
    client.schedule_new_orchestration(samples.retry_until_success, instance_id="tl-retry")
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot,
                lambda: (
                    client.get_orchestration_state("tl-retry").runtime_status.name == "COMPLETED"
                ),
            )
            await _select(pilot, app, "tl-retry")
            await pilot.press("t")
            screen = await wait_for(
                pilot, lambda: app.screen if isinstance(app.screen, TimelineScreen) else None
            )
            bars = screen.timeline.bars
            assert bars[0].kind is BarKind.ORCHESTRATION and bars[0].last is not None
            assert [b.attempt for b in bars if b.kind is BarKind.ACTIVITY] == [1, 2, 3]
            assert "tl-retry · via StreamInstanceHistory" in screen.title_text
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
    finally:
        app.close()
