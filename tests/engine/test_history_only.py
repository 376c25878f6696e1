"""History-only mode (no code): state derived from the events alone, for histories of any SDK."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from factories import (
    COMPLETED,
    FAILED,
    T0,
    execution_completed,
    failure_details,
    history_after,
    normalized,
    orchestrator_completed,
    orchestrator_started,
    request,
    resumed,
    started,
    sub_completed,
    sub_created,
    suspended,
    task_completed,
    task_failed,
    task_scheduled,
    terminated,
    timer_created,
    timer_fired,
    unknown,
)

from engine import Frame, ReplaySession, load_request
from engine.history import UnknownEvent
from engine.load import load_request_proto
from engine.proto import orchestrator_service_pb2 as pb

REQUESTS = Path(__file__).resolve().parents[2] / "samples" / "requests"


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# A .NET-style history: task ids from 0, an eventId on every event (scheduling events carry
# their task id, every other event a distinct number), a timestamp on every event.
DOTNET_PAST = [
    orchestrator_started(t(0), event_id=100),  # 0
    started("Greeter", '"net"', "net-1", event_id=101, ts=t(0)),  # 1
    task_scheduled(0, "SayHello", '"Tokyo"', ts=t(0)),  # 2 activity #0 opens
    timer_created(1, t(3600), ts=t(0)),  # 3 timer #1 opens
    sub_created(2, "Child", "net-1:child", ts=t(0)),  # 4 sub-orchestration #2 opens
    orchestrator_completed(event_id=102, ts=t(0)),  # 5
    orchestrator_started(t(10), event_id=103),  # 6
    task_completed(0, '"Hello Tokyo"', event_id=104, ts=t(10)),  # 7 #0 closes
    suspended("maintenance", event_id=105, ts=t(10)),  # 8
    timer_fired(1, t(3600), event_id=106, ts=t(10)),  # 9 held while suspended
    resumed("done", event_id=107, ts=t(10)),  # 10 #1 closes now
    unknown(99, event_id=108),  # 11 an event kind this schema does not know
    task_scheduled(3, "Flaky", ts=t(10)),  # 12 activity #3 opens
    task_failed(3, "flaky", "System.Exception", event_id=109, ts=t(10)),  # 13 #3 closes
    task_scheduled(3, "Flaky", ts=t(10)),  # 14 retried under the same id
    sub_completed(2, '"child done"', event_id=110, ts=t(10)),  # 15 #2 closes
    orchestrator_completed(event_id=111, ts=t(10)),  # 16
]
DOTNET_NEW = [
    orchestrator_started(t(20), event_id=112),  # 17
    task_completed(3, '"ok"', event_id=113, ts=t(20)),  # 18 #3 closes
    execution_completed(COMPLETED, '"all done"', event_id=114, ts=t(20)),  # 19
    orchestrator_completed(event_id=115, ts=t(20)),  # 20
]


def dotnet_frames() -> list[Frame]:
    s = ReplaySession(request(DOTNET_PAST, DOTNET_NEW, "net-1"))
    return [s.frame(i) for i in range(s.total)]


def open_ids(f: Frame) -> list[tuple[int, str, str, int]]:
    return [(o.id, o.kind, o.name, o.opened_at) for o in f.open_tasks]


def test_the_hand_built_history_looks_like_dotnet() -> None:
    events = DOTNET_PAST + DOTNET_NEW
    assert all(ev.eventId != -1 for ev in events)
    scheduling = [ev.eventId for ev in events if ev.WhichOneof("eventType") == "taskScheduled"]
    assert min(scheduling + [1]) == 0
    assert all(ev.HasField("timestamp") for ev in events if ev.WhichOneof("eventType"))


def test_open_tasks_are_opened_by_scheduling_events_and_closed_by_matching_ids() -> None:
    frames = dotnet_frames()
    hello = (0, "activity", "SayHello", 2)
    sub = (2, "sub-orchestration", "Child (net-1:child)", 4)
    assert open_ids(frames[1]) == []
    assert open_ids(frames[2]) == [hello]
    (timer,) = [o for o in frames[3].open_tasks if o.kind == "timer"]
    assert (timer.id, timer.opened_at) == (1, 3) and "2024-01-01T13:00:00" in timer.name
    timer_view = (1, "timer", timer.name, 3)
    assert open_ids(frames[4]) == [hello, timer_view, sub]
    assert open_ids(frames[7]) == [timer_view, sub]
    assert open_ids(frames[9]) == [timer_view, sub]  # the fire is held while suspended
    assert open_ids(frames[10]) == [sub]
    assert open_ids(frames[12]) == [sub, (3, "activity", "Flaky", 12)]
    assert open_ids(frames[13]) == [sub]
    assert open_ids(frames[14]) == [sub, (3, "activity", "Flaky", 14)]
    assert open_ids(frames[15]) == [(3, "activity", "Flaky", 14)]
    assert open_ids(frames[18]) == []
    assert all(o.origin is None for f in frames for o in f.open_tasks)


def test_status_from_execution_started_and_completed() -> None:
    frames = dotnet_frames()
    assert frames[0].status == "PENDING"
    assert {f.status for f in frames[1:8]} == {"RUNNING"}
    assert {f.status for f in frames[10:19]} == {"RUNNING"}
    assert [f.status for f in frames[19:]] == ["COMPLETED", "COMPLETED"]
    assert all(f.failure is None for f in frames)


def test_failed_status_carries_the_failure_details() -> None:
    past = [orchestrator_started(t(0), event_id=0), started("Greeter", event_id=1, ts=t(0))]
    details = failure_details("kaboom", "System.InvalidOperationException")
    new = [
        orchestrator_started(t(1), event_id=2),
        execution_completed(FAILED, failure=details, event_id=3, ts=t(1)),
    ]
    s = ReplaySession(request(past, new))
    last = s.run_to_end()
    assert last.status == "FAILED"
    assert last.failure is not None
    assert (last.failure.error_type, last.failure.message) == (
        "System.InvalidOperationException",
        "kaboom",
    )
    assert s.frame(2).failure is None


def test_clock_and_lanes() -> None:
    frames = dotnet_frames()
    assert [f.current_utc_datetime for f in frames[:6]] == [t(0)] * 6
    assert [f.current_utc_datetime for f in frames[6:17]] == [t(10)] * 11
    assert [f.current_utc_datetime for f in frames[17:]] == [t(20)] * 4
    assert all(f.current_utc_datetime.tzinfo is not None for f in frames if f.current_utc_datetime)
    assert [f.is_replaying for f in frames] == [True] * 17 + [False] * 4
    assert [f.lane for f in frames] == ["past"] * 17 + ["new"] * 4


def test_no_code_means_no_pending_actions_source_or_locals() -> None:
    for f in dotnet_frames():
        assert not f.with_code
        assert (f.pending_actions, f.location, f.locals, f.custom_status) == ((), None, (), None)
        assert f.nondeterminism is None


def test_suspension_buffers_events_until_resumed() -> None:
    frames = dotnet_frames()
    assert [f.suspended for f in frames[7:11]] == [False, True, True, False]
    assert frames[9].processed is False
    (held,) = frames[9].buffered_events
    assert held.received_at == 9 and held.name == "timerFired"
    assert frames[10].buffered_events == ()
    assert frames[10].processed and frames[8].processed


def test_status_is_suspended_while_suspended() -> None:
    frames = dotnet_frames()
    assert [f.status for f in frames[8:11]] == ["SUSPENDED", "SUSPENDED", "RUNNING"]


def test_unknown_event_kinds_are_listed_and_skipped() -> None:
    frames = dotnet_frames()
    event = frames[11].event
    assert isinstance(event, UnknownEvent) and event.number == 99 and event.event_id == 108
    assert frames[11].processed
    assert frames[11].note
    assert open_ids(frames[11]) == open_ids(frames[10])
    unset = ReplaySession(request([], [orchestrator_started(t(0)), unknown(0), unknown(7777)]))
    last = unset.run_to_end()
    assert [e.kind for e in unset.request.events] == ["orchestratorStarted", "unknown", "unknown"]
    assert last.status == "PENDING" and last.open_tasks == ()


def test_terminated_history() -> None:
    past = [orchestrator_started(t(0), event_id=0), started("Greeter", event_id=1, ts=t(0))]
    past += [task_scheduled(0, "Slow", ts=t(0)), orchestrator_completed(event_id=2, ts=t(0))]
    new = [orchestrator_started(t(5), event_id=3), terminated('"bye"', event_id=4, ts=t(5))]
    s = ReplaySession(request(past, new))
    assert s.run_to_end().status == "TERMINATED"
    assert s.frame(3).status == "RUNNING"


# --- Python-recorded samples ---------------------------------------------------------------------

SAMPLE_REQUESTS = sorted(p for p in REQUESTS.glob("*.b64") if not p.name.endswith(".response.b64"))


def test_samples_are_there() -> None:
    assert len(SAMPLE_REQUESTS) >= 40


@pytest.mark.parametrize("path", SAMPLE_REQUESTS, ids=lambda p: p.stem)
def test_history_only_replays_every_recorded_request(path: Path) -> None:
    s = ReplaySession(load_request(str(path)))
    frames = [s.frame(i) for i in range(s.total)]
    last = frames[-1]
    assert last.index == s.total - 1
    assert frames[0].event is not None and frames[0].event.kind == "orchestratorStarted"
    assert frames[0].current_utc_datetime is not None
    if last.status in ("COMPLETED", "FAILED", "TERMINATED", "CONTINUED_AS_NEW"):
        assert last.open_tasks == ()
    else:
        assert last.status == ("SUSPENDED" if last.suspended else "RUNNING")


def _completed_samples() -> list[object]:
    """Last turns whose response completes the orchestration (history then holds its end)."""
    out: list[object] = []
    for path in sorted(REQUESTS.glob("*.response.b64")):
        response = pb.OrchestratorResponse.FromString(base64.b64decode(path.read_text()))
        if not any(a.HasField("completeOrchestration") for a in response.actions):
            continue
        stem = path.name.removesuffix(".response.b64")
        out.append(pytest.param(stem, id=stem))
    return out


@pytest.mark.parametrize("stem", _completed_samples())
def test_completed_orchestrations_end_with_no_open_tasks(stem: str) -> None:
    msg = load_request_proto(str(REQUESTS / f"{stem}.b64"))
    response = pb.OrchestratorResponse.FromString(
        base64.b64decode((REQUESTS / f"{stem}.response.b64").read_text())
    )
    history = history_after(list(msg.pastEvents), list(msg.newEvents), normalized(response))
    s = ReplaySession(request(history[:-1], history[-1:], msg.instanceId))
    last = s.run_to_end()
    assert last.status in ("COMPLETED", "FAILED", "TERMINATED", "CONTINUED_AS_NEW")
    assert last.open_tasks == ()
