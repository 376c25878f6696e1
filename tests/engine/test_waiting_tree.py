"""The "waiting on" structure with code: when_all / when_any trees, race losers, idle tasks.

The histories are built turn by turn, every turn's answer checked against the SDK's executor
(tests/fixtures/composite_orchestrations.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.frames import Frame
from engine.waiting import LOST_WORDS, tree_lines, waiting_on
from tests import factories as f
from tests.fixtures.composite_orchestrations import nested_race, nested_race_history, never_awaited

T = f.T0


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    past, new = nested_race_history()
    session = f.session(nested_race, past, new)
    session.advance()
    return [session.frame(i) for i in range(session.total)]


def _at(frames: list[Frame], kind: str, nth: int = 0) -> Frame:
    """The frame after the ``nth`` event of ``kind``."""
    return [fr for fr in frames if fr.event is not None and fr.event.kind == kind][nth]


def _lines(frame: Frame) -> list[tuple[int, str, str]]:
    assert frame.awaiting is not None
    return [
        (depth, node.kind, node.state if node.task is None else f"{node.task.id}:{node.state}")
        for depth, node in tree_lines(frame.awaiting)
    ]


def test_before_the_race_is_decided_every_task_runs(frames: list[Frame]) -> None:
    frame = _at(frames, "timerCreated")
    assert _lines(frame) == [
        (0, "when_all", "open"),
        (1, "task", "1:open"),
        (1, "when_any", "open"),
        (2, "task", "2:open"),
        (2, "task", "3:open"),
    ]
    assert frame.lost == ()
    waiting = waiting_on(frame)
    assert waiting.summary.startswith("when_all of 2 (0 done): activity slow (task 1)")
    assert LOST_WORDS not in waiting.note


def test_once_the_race_is_decided_the_timer_is_lost_but_the_when_all_still_waits(
    frames: list[Frame],
) -> None:
    frame = _at(frames, "taskCompleted", 0)  # fast (task 2) wins the race
    assert frame.status == "RUNNING"
    assert _lines(frame) == [
        (0, "when_all", "open"),
        (1, "task", "1:open"),
        (1, "when_any", "done"),
        (2, "task", "2:done"),
        (2, "task", "3:lost"),
    ]
    waiting = waiting_on(frame)
    assert [t.id for t in waiting.tasks] == [1]
    assert waiting.summary == "when_all of 2 (1 done): activity slow (task 1)"
    assert waiting.note == f"1 task {LOST_WORDS}"


def test_after_the_composite_the_loser_still_runs_apart_from_what_is_awaited(
    frames: list[Frame],
) -> None:
    frame = _at(frames, "taskCompleted", 1)  # slow (task 1): the when_all is done
    assert frame.status == "RUNNING"
    assert _lines(frame) == [(0, "task", "4:open")]
    assert [t.id for t in frame.lost] == [3]
    assert frame.lost[0].kind == "timer"
    waiting = waiting_on(frame)
    assert waiting.summary == "activity last (task 4)"
    assert waiting.idle == ()  # the timer is a loser, not idle
    assert waiting.note == ""  # the loser is listed apart (waiting.lost), not in the tree
    assert [t.id for t in waiting.lost] == [3]


def test_at_the_end_the_loser_is_left_unfinished_as_a_race_loser(frames: list[Frame]) -> None:
    frame = frames[-1]
    assert frame.status == "COMPLETED" and frame.awaiting is None
    waiting = waiting_on(frame)
    assert [t.id for t in waiting.abandoned] == [3]
    assert waiting.note == "1 task left unfinished: 1 lost a when_any race"


def test_a_task_never_awaited_is_idle_not_lost() -> None:
    new = [f.orchestrator_started(T), f.started("never_awaited")]
    result = f.both(never_awaited, [], new)
    assert result.ours == result.sdk
    past = f.history_after([], new, result.ours)
    new2 = [f.orchestrator_started(T + timedelta(seconds=1)), f.task_completed(2, '"x"')]
    session = f.session(never_awaited, past, new2)
    session.advance()
    running = session.frame(len(past) - 1)
    waiting = waiting_on(running)
    assert waiting.summary == "activity awaited (task 2)"
    assert [t.id for t in waiting.idle] == [1] and running.lost == ()
    end = session.frame(session.total - 1)
    assert waiting_on(end).note == "1 task left unfinished: 1 never awaited"
