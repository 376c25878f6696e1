"""The timeline on a 100,000-event history: building the bars, the first screen, a jump.

Run: ``python -m bench.bench_timeline [EVENTS]`` (default 100,000). Prints the figures:

- build: :func:`engine.timeline.request_timeline` over every event;
- open: the timeline screen pushed until its first screen is drawn (in a headless app);
- screenful: drawing every visible row through ``render_line`` (what a repaint costs);
- jump: the cursor to the last bar and that screen drawn; page: one page down and drawn.

The history mixes every kind of bar: activities (some failing, then retried), a fan-out,
timers, sub-orchestrations, entity calls and raised events, one turn per round.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

from textual.app import App

from engine.proto import orchestrator_service_pb2 as pb
from engine.timeline import request_timeline
from inspector.screens.timeline import TimelineScreen
from inspector.widgets.timeline import TimelineView

BASE = 1_700_000_000


class _History:
    """Appends events a sidecar would record, with growing timestamps (in milliseconds)."""

    def __init__(self, request: pb.OrchestratorRequest) -> None:
        self.events = request.pastEvents
        self.ms = 0
        self.next_id = 0

    def add(self, ms: int = 0, event_id: int = -1) -> Any:
        self.ms += ms
        event = self.events.add(eventId=event_id)
        event.timestamp.seconds = BASE + self.ms // 1000
        event.timestamp.nanos = (self.ms % 1000) * 1_000_000
        return event

    def task_id(self) -> int:
        self.next_id += 1
        return self.next_id


def _round(h: _History, i: int) -> None:
    """One turn's worth of work: every kind of bar, about 30 events."""
    h.add(5).orchestratorStarted.SetInParent()
    ids = [h.task_id() for _ in range(3)]
    for tid in ids:
        h.add(0, tid).taskScheduled.name = "fan_out_step"
    flaky, timer, child, entity = h.task_id(), h.task_id(), h.task_id(), h.task_id()
    h.add(0, flaky).taskScheduled.name = "flaky_call"
    h.add(0, timer).timerCreated.fireAt.seconds = BASE + (h.ms + 400) // 1000
    created = h.add(0, child).subOrchestrationInstanceCreated
    created.name, created.instanceId = "child_workflow", f"child-{i}"
    call = h.add(0).entityOperationCalled
    call.requestId, call.operation = f"req-{entity}", "add"
    call.targetInstanceId.value = "@counter@total"
    h.add(0).orchestratorCompleted.SetInParent()
    h.add(60).orchestratorStarted.SetInParent()
    for tid in ids:
        h.add(20).taskCompleted.taskScheduledId = tid
    h.add(30).taskFailed.taskScheduledId = flaky
    h.add(10).entityOperationCompleted.requestId = f"req-{entity}"
    h.add(0).orchestratorCompleted.SetInParent()
    h.add(100).orchestratorStarted.SetInParent()
    retry = h.task_id()
    h.add(0, retry).taskScheduled.name = "flaky_call"
    h.add(0).orchestratorCompleted.SetInParent()
    h.add(120).orchestratorStarted.SetInParent()
    h.add(0).taskCompleted.taskScheduledId = retry
    h.add(50).timerFired.timerId = timer
    h.add(10).subOrchestrationInstanceCompleted.taskScheduledId = child
    h.add(5).eventRaised.name = "Approval"
    h.add(0).orchestratorCompleted.SetInParent()


def mixed_history(events: int) -> pb.OrchestratorRequest:
    """A request of about ``events`` events mixing every kind of bar."""
    request = pb.OrchestratorRequest(instanceId="bench-timeline")
    h = _History(request)
    h.add().orchestratorStarted.SetInParent()
    started = h.add().executionStarted
    started.name = "order_workflow"
    started.orchestrationInstance.instanceId = "bench-timeline"
    i = 0
    while len(request.pastEvents) < events:
        _round(h, i)
        i += 1
    return request


class _BenchApp(App[None]):
    pass


def _draw(view: TimelineView) -> float:
    start = time.perf_counter()
    for y in range(view.scrollable_content_region.height):
        view.render_line(y)
    return time.perf_counter() - start


async def _screen_figures(request: pb.OrchestratorRequest, runs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"open": [], "screenful": [], "jump": [], "page": []}
    timeline = request_timeline(request)
    app = _BenchApp()
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(runs):
            start = time.perf_counter()
            await app.push_screen(
                TimelineScreen(timeline, "bench", current=len(timeline.times) // 2)
            )
            await pilot.pause()
            figures["open"].append(time.perf_counter() - start)
            view = app.screen.query_one(TimelineView)
            view._track_cache = None
            figures["screenful"].append(_draw(view))
            start = time.perf_counter()
            view.action_last()
            await pilot.pause()
            _draw(view)
            figures["jump"].append(time.perf_counter() - start)
            start = time.perf_counter()
            view.action_first()
            view.action_cursor(40)
            await pilot.pause()
            _draw(view)
            figures["page"].append(time.perf_counter() - start)
            app.pop_screen()
            await pilot.pause()
    return figures


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    request = mixed_history(events)
    total = len(request.pastEvents)
    builds = []
    for _ in range(3):
        start = time.perf_counter()
        timeline = request_timeline(request)
        builds.append(time.perf_counter() - start)
    print(f"history: {total} events, {len(timeline.bars)} bars, {len(timeline.turns)} turns")
    print(f"build     median {statistics.median(builds) * 1000:8.1f} ms   (3 runs)")
    figures = asyncio.run(_screen_figures(request, 5))
    for name, values in figures.items():
        print(f"{name:<9} median {statistics.median(values) * 1000:8.1f} ms   (5 runs)")


if __name__ == "__main__":
    main()
