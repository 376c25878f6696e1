"""Frames, step by step with ``ReplaySession``: every field, time travel and breakpoints."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from factories import (
    T0,
    event_raised,
    orchestrator_completed,
    orchestrator_started,
    resumed,
    session,
    started,
    suspended,
    task_completed,
    task_failed,
    task_scheduled,
    terminated,
    timer_created,
    timer_fired,
)

from engine import Breakpoint, Frame, ReplaySession
from engine.history import TaskCompleted

OS = orchestrator_started
OC = orchestrator_completed


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def line_of(fn: Callable[..., Any], marker: str) -> int:
    """The source line of ``fn`` that contains ``marker``."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def orch(ctx: Any, n: int) -> Any:
    ctx.set_custom_status("start")
    a = yield ctx.call_activity("fetch", input=n)  # L_FETCH
    ctx.set_custom_status("fetched")
    approval = yield ctx.wait_for_external_event("go")  # L_WAIT
    yield ctx.create_timer(timedelta(minutes=5))  # L_TIMER
    return [a, approval]


L_FETCH = line_of(orch, "# L_FETCH")
L_WAIT = line_of(orch, "# L_WAIT")
L_TIMER = line_of(orch, "# L_TIMER")

PAST = [
    OS(at(0)),  # 0
    started("orch", "1"),  # 1  code asks for fetch
    task_scheduled(1, "fetch", "1"),  # 2  history confirms it
    OC(),  # 3
    OS(at(1)),  # 4
    task_completed(1, '"A"'),  # 5  code now waits for "go"
    event_raised("other", '"o"'),  # 6  no one waits: buffered
    OC(),  # 7
]
NEW = [
    OS(at(2)),  # 8  new lane
    suspended(),  # 9
    event_raised("GO", '"yes"'),  # 10 held while suspended
    resumed(),  # 11 "go" delivered, code asks for a timer
    timer_created(2, at(7)),  # 12
    timer_fired(2, at(7)),  # 13 code returns
]


def make() -> ReplaySession:
    return session(orch, PAST, NEW)


def forward_frames(s: ReplaySession) -> list[Frame]:
    out = []
    while s.position < s.total - 1:
        out.append(s.step())
    return out


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return forward_frames(make())


def test_index_total_event_and_lane(frames: list[Frame]) -> None:
    events = PAST + NEW
    assert [f.index for f in frames] == list(range(len(events)))
    assert {f.total for f in frames} == {len(events)}
    assert [f.lane for f in frames] == ["past"] * len(PAST) + ["new"] * len(NEW)
    assert [f.is_replaying for f in frames] == [True] * len(PAST) + [False] * len(NEW)
    assert isinstance(frames[5].event, TaskCompleted) and frames[5].event.result == '"A"'
    assert [f.event.kind for f in frames if f.event is not None][8:] == [
        "orchestratorStarted",
        "executionSuspended",
        "eventRaised",
        "executionResumed",
        "timerCreated",
        "timerFired",
    ]
    assert all(f.with_code for f in frames)


def test_clock_is_aware_utc_from_orchestrator_started(frames: list[Frame]) -> None:
    clocks = [f.current_utc_datetime for f in frames]
    assert clocks[:4] == [at(0)] * 4
    assert clocks[4:8] == [at(1)] * 4
    assert clocks[8:] == [at(2)] * 6
    assert all(c is not None and c.tzinfo is not None for c in clocks)
    assert clocks[0] is not None and clocks[0].utcoffset() == timedelta(0)


def test_status_and_suspended_flag(frames: list[Frame]) -> None:
    assert [f.status for f in frames] == (
        ["PENDING"] + ["RUNNING"] * 8 + ["SUSPENDED", "SUSPENDED"] + ["RUNNING"] * 2 + ["COMPLETED"]
    )
    assert [f.suspended for f in frames] == [False] * 9 + [True, True] + [False] * 3


def test_custom_status_changes_at_the_right_step(frames: list[Frame]) -> None:
    assert [f.custom_status for f in frames] == [None] + ['"start"'] * 4 + ['"fetched"'] * 9


def test_pending_actions_appear_when_code_asks_and_vanish_when_history_confirms(
    frames: list[Frame],
) -> None:
    summary = [[(a.id, a.kind, a.opened_at) for a in f.pending_actions] for f in frames]
    assert summary[0] == []
    assert summary[1] == [(1, "scheduleTask", 1)]
    assert summary[2:11] == [[]] * 9
    assert summary[11] == [(2, "createTimer", 11)]
    assert summary[12] == []
    assert summary[13] == [(3, "completeOrchestration", 13)]
    fetch = frames[1].pending_actions[0]
    assert fetch.origin is not None and fetch.origin.line == L_FETCH
    assert "fetch" in fetch.summary
    timer = frames[11].pending_actions[0]
    assert timer.origin is not None and timer.origin.line == L_TIMER
    assert "2024-01-01T12:07:00" in timer.summary


def test_open_tasks_with_kind_name_origin_and_opened_at(frames: list[Frame]) -> None:
    def view(f: Frame) -> list[tuple[int, str, str, int | None, int]]:
        return [
            (t.id, t.kind, t.name, t.origin.line if t.origin else None, t.opened_at)
            for t in f.open_tasks
        ]

    assert view(frames[0]) == []
    fetch = (1, "activity", "fetch", L_FETCH, 1)
    assert [view(f) for f in frames[1:5]] == [[fetch]] * 4
    go = (-1, "external event", "go", L_WAIT, 5)
    assert [view(f) for f in frames[5:11]] == [[go]] * 6
    (timer,) = view(frames[11])
    assert timer[:2] == (2, "timer") and timer[3:] == (L_TIMER, 11)
    assert "2024-01-01T12:07:00" in timer[2]
    assert view(frames[12]) == [timer]
    assert view(frames[13]) == []


def test_buffered_events(frames: list[Frame]) -> None:
    assert [f.buffered_events for f in frames[:6]] == [()] * 6
    for f in frames[6:]:
        (other,) = [b for b in f.buffered_events if b.name == "other"]
        assert (other.data, other.received_at) == ('"o"', 6)


def test_events_held_while_suspended_are_listed_as_buffered(frames: list[Frame]) -> None:
    assert [b.name for b in frames[10].buffered_events] == ["other", "GO"]
    assert [b.name for b in frames[11].buffered_events] == ["other"]


def test_location_and_locals(frames: list[Frame]) -> None:
    lines = [f.location.line if f.location else None for f in frames]
    # after the return: the return line, the locals as they stood, and the value returned
    assert lines == [None] + [L_FETCH] * 4 + [L_WAIT] * 6 + [L_TIMER] * 2 + [L_TIMER + 1]
    assert dict(frames[13].locals) == {
        "n": "1",
        "a": "'A'",
        "approval": "'yes'",
        "(returned)": '["A", "yes"]',
    }
    loc = frames[1].location
    assert loc is not None and loc.function == "orch" and loc.file == inspect.getsourcefile(orch)
    assert frames[0].locals == ()
    assert dict(frames[1].locals) == {"n": "1"}
    assert dict(frames[5].locals) == {"n": "1", "a": "'A'"}
    assert dict(frames[11].locals) == {"n": "1", "a": "'A'", "approval": "'yes'"}
    assert all("ctx" not in dict(f.locals) for f in frames)


def test_notes_and_processed(frames: list[Frame]) -> None:
    assert all(f.note for f in frames)
    assert [f.processed for f in frames] == [True] * 10 + [False] + [True] * 3
    assert "suspend" in frames[10].note
    assert "resumed" in frames[11].note
    assert all(f.nondeterminism is None and f.failure is None for f in frames)


def test_frame_before_the_first_event() -> None:
    s = make()
    f = s.current()
    assert s.position == -1
    assert (f.index, f.total, f.event, f.lane) == (-1, len(PAST) + len(NEW), None, None)
    assert f.is_replaying is True
    assert (f.status, f.current_utc_datetime, f.suspended, f.custom_status) == (
        "PENDING",
        None,
        False,
        None,
    )
    assert (f.pending_actions, f.open_tasks, f.buffered_events, f.locals) == ((), (), (), ())
    assert f.location is None and f.nondeterminism is None and f.failure is None
    new_only = session(orch, [], PAST + NEW).current()
    assert new_only.is_replaying is False


# --- terminal statuses, failures, non-determinism ----------------------------------------------


def _activity_then(outcome: str) -> Callable[..., Any]:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("work")
        if outcome == "fail":
            raise ValueError("boom")
        if outcome == "continue":
            ctx.continue_as_new(2)
            return None
        return "done"

    return orch


@pytest.mark.parametrize(
    ("outcome", "last", "status"),
    [
        ("return", task_completed(1), "COMPLETED"),
        ("fail", task_completed(1), "FAILED"),
        ("continue", task_completed(1), "CONTINUED_AS_NEW"),
        ("return", terminated('"stop"'), "TERMINATED"),
    ],
)
def test_status_transitions_to_each_terminal_status(outcome: str, last: Any, status: str) -> None:
    fn = _activity_then(outcome)
    past = [OS(), started("orch"), task_scheduled(1, "work"), OC()]
    frames = forward_frames(session(fn, past, [OS(at(1)), last]))
    assert [f.status for f in frames] == ["PENDING"] + ["RUNNING"] * 4 + [status]
    assert frames[-1].pending_actions[-1].kind == "completeOrchestration"
    if status == "FAILED":
        failure = frames[-1].failure
        assert failure is not None
        assert (failure.error_type, failure.message) == ("builtins.ValueError", "boom")
    else:
        assert frames[-1].failure is None


def _renamed(ctx: Any, _: Any) -> Any:
    yield ctx.call_activity("renamed")  # asks
    yield ctx.call_activity("next")


def test_nondeterminism_from_its_step_onward_and_later_events_not_processed() -> None:
    past = [OS(), started("_renamed"), task_scheduled(1, "original"), OC()]
    new = [OS(at(1)), task_completed(1), event_raised("late", "1")]
    frames = forward_frames(session(_renamed, past, new))
    assert [f.nondeterminism is None for f in frames] == [True, True] + [False] * 5
    nd = frames[2].nondeterminism
    assert nd is not None
    assert (nd.event_index, nd.recorded, nd.asked) == (
        2,
        "taskScheduled #1 'original'",
        "scheduleTask #1 'renamed'",
    )
    assert nd.location is not None and nd.location.line == line_of(_renamed, "# asks")
    assert "name='original'" in nd.message
    assert all(f.nondeterminism == nd for f in frames[2:])
    assert [f.status for f in frames[2:]] == ["FAILED"] * 5
    failure = frames[2].failure
    assert failure is not None and failure.error_type == "durabletask.task.NonDeterminismError"
    assert [f.processed for f in frames] == [True, True, True] + [False] * 4
    assert all("not processed" in f.note for f in frames[3:])
    assert frames[1].failure is None


def test_processed_false_after_an_uncaught_exception() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("work")

    past = [OS(), started("orch"), task_scheduled(1, "work"), OC()]
    new = [OS(at(1)), task_failed(1, "bad"), task_completed(1), event_raised("x")]
    frames = forward_frames(session(orch, past, new))
    assert [f.processed for f in frames] == [True] * 6 + [False, False]
    assert frames[5].failure is not None
    assert frames[5].failure.error_type == "durabletask.task.TaskFailedError"
    assert all(f.failure == frames[5].failure for f in frames[5:])
    assert frames[4].failure is None


# --- time travel -------------------------------------------------------------------------------


def test_stepping_back_returns_the_forward_frames(frames: list[Frame]) -> None:
    s = make()
    forward = forward_frames(s)
    assert forward == frames
    assert s.step() == frames[-1]  # stays at the end
    backward = []
    while s.position > 0:
        backward.append(s.back())
    assert backward == frames[-2::-1]
    assert s.back().index == -1
    assert s.back().index == -1


@pytest.mark.parametrize("target", [13, 0, 7, 10, 3, 11])
def test_goto_anywhere_equals_stepping_there(frames: list[Frame], target: int) -> None:
    s = make()
    assert s.goto(target) == frames[target]
    assert s.position == target
    assert s.step() == frames[min(target + 1, len(frames) - 1)]


def test_goto_is_clamped_and_minus_one_is_the_start(frames: list[Frame]) -> None:
    s = make()
    assert s.goto(999) == frames[-1] and s.position == len(frames) - 1
    start = s.goto(-7)
    assert start.index == -1 and s.position == -1
    assert s.run_to_end() == frames[-1]
    assert s.frame(4) == frames[4]


def test_advance_in_slices_gives_the_same_frames(frames: list[Frame]) -> None:
    s = make()
    assert s.recorded == 0 and not s.done
    seen = []
    while not s.done:
        seen.append(s.advance(3))
    assert seen == [3, 6, 9, 12, 14]
    assert [s.frame(i) for i in range(s.total)] == frames
    lazy = make()
    assert lazy.frame(5) == frames[5] and lazy.recorded == 6


# --- breakpoints -------------------------------------------------------------------------------


def test_breakpoint_by_index_forward_and_backward() -> None:
    s = make()
    hit = s.continue_to([Breakpoint(index=5)])
    assert hit is not None and hit.index == 5 and s.position == 5
    assert s.continue_to([Breakpoint(index=5)]) is None and s.position == 5
    s.run_to_end()
    back = s.continue_to([Breakpoint(index=2)], forward=False)
    assert back is not None and back.index == 2


def test_breakpoint_by_kind_both_ways() -> None:
    s = make()
    hits = []
    while (f := s.continue_to([Breakpoint(kind="orchestratorstarted")])) is not None:
        hits.append(f.index)
    assert hits == [0, 4, 8]
    back = []
    while (f := s.continue_to([Breakpoint(kind="orchestratorStarted")], forward=False)) is not None:
        back.append(f.index)
    assert back == [4, 0]


def test_breakpoint_by_name_matches_completions_by_their_activity() -> None:
    s = make()
    hits = []
    while (f := s.continue_to([Breakpoint(name="FETCH")])) is not None:
        hits.append((f.index, f.event.kind if f.event else None))
    assert hits == [(2, "taskScheduled"), (5, "taskCompleted")]
    back = s.continue_to([Breakpoint(name="fetch", kind="taskScheduled")], forward=False)
    assert back is not None and back.index == 2
    assert s.continue_to([Breakpoint(name="go")]) is not None and s.position == 10


def test_breakpoint_by_line_both_ways() -> None:
    s = make()
    hit = s.continue_to([Breakpoint(line=L_WAIT)])
    assert hit is not None and hit.index == 5
    s.run_to_end()
    back = s.continue_to([Breakpoint(line=L_WAIT)], forward=False)
    assert back is not None and back.index == 10
    timer = s.continue_to([Breakpoint(line=L_TIMER)], forward=True)
    assert timer is not None and timer.index == 11
    file = inspect.getsourcefile(orch)
    assert s.find([Breakpoint(line=L_FETCH, file=file)], start=-1) is not None
    assert s.find([Breakpoint(line=L_FETCH, file="elsewhere.py")], start=-1) is None


def test_any_of_several_breakpoints() -> None:
    s = make()
    bps = [Breakpoint(kind="timerFired"), Breakpoint(kind="executionSuspended")]
    first = s.continue_to(bps)
    second = s.continue_to(bps)
    assert (first and first.index, second and second.index) == (9, 13)


def test_continue_to_without_a_hit_returns_none_and_does_not_move() -> None:
    s = make()
    s.goto(3)
    assert s.continue_to([Breakpoint(kind="executionTerminated")]) is None
    assert s.position == 3
    assert s.continue_to([Breakpoint(index=1)]) is None and s.position == 3
    assert s.continue_to([Breakpoint(kind="timerFired")], forward=False) is None
    assert s.position == 3
    assert s.continue_to([]) is None and s.position == 3


def test_first_clock_is_the_first_orchestrator_started_in_utc() -> None:
    s = make()
    f = s.goto(0)
    assert f.current_utc_datetime == datetime(2024, 1, 1, 12, tzinfo=timezone.utc)
