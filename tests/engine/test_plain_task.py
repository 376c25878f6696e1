"""The plain-task shortcuts (engine.plain_task): they hold for the installed SDK, build what
its constructor builds, and every path through them answers as the SDK's executor does."""

from __future__ import annotations

from typing import Any

from durabletask import task

from engine import plain_task
from engine.proto import orchestrator_service_pb2 as pb
from tests.factories import (
    both,
    event_raised,
    orchestrator_started,
    started,
    task_completed,
    task_failed,
    task_scheduled,
)


def test_the_probe_accepts_the_installed_sdk() -> None:
    assert plain_task.PLAIN is task.CompletableTask


def test_a_new_task_is_what_the_constructor_makes() -> None:
    made = plain_task.new_task(int)
    assert type(made) is task.CompletableTask
    assert vars(made) == vars(task.CompletableTask(expected_type=int))
    assert not made.is_complete and not made.is_failed
    made.complete(3)
    assert made.get_result() == 3


def _chain(ctx: Any, _: Any) -> Any:
    first = yield ctx.call_activity("a", input=1)
    try:
        second = yield ctx.call_activity("b", input=first)
    except task.TaskFailedError as exc:
        second = str(exc)
    return [first, second]


def _fan(ctx: Any, _: Any) -> Any:
    done = yield task.when_all([ctx.call_activity("a", input=i) for i in range(3)])
    return sum(done)


def _race(ctx: Any, _: Any) -> Any:
    one, two = ctx.call_activity("a"), ctx.call_activity("b")
    winner = yield task.when_any([one, two])
    late = yield two
    return [winner.get_result(), late]


def test_chain_with_a_failure_matches_the_sdk() -> None:
    past = [orchestrator_started(), started("_chain"), task_scheduled(1, "a")]
    new = [orchestrator_started(), task_completed(1, "5")]
    assert both(_chain, past, new).same
    past = [*past, *new, task_scheduled(2, "b")]
    assert both(_chain, past, [orchestrator_started(), task_failed(2, "boom")]).same


def test_completion_twice_and_unknown_ids_match_the_sdk() -> None:
    past = [orchestrator_started(), started("_chain"), task_scheduled(1, "a")]
    new = [orchestrator_started(), task_completed(1, "5"), task_completed(1, "6")]
    assert both(_chain, past, new).same
    assert both(_chain, past, [task_completed(9, "1")]).same


def test_tasks_with_parents_match_the_sdk() -> None:
    scheduled = [task_scheduled(i + 1, "a") for i in range(3)]
    past = [orchestrator_started(), started("_fan"), *scheduled]
    new = [orchestrator_started(), *(task_completed(i + 1, str(i)) for i in (2, 0, 1))]
    assert both(_fan, past, new).same
    past = [
        orchestrator_started(),
        started("_race"),
        task_scheduled(1, "a"),
        task_scheduled(2, "b"),
    ]
    assert both(_race, past, [task_completed(2, '"x"'), task_completed(1, '"y"')]).same


def test_the_when_all_probe_accepts_the_installed_sdk() -> None:
    assert plain_task.WHEN_ALL is task.WhenAllTask


def _fan_shared(ctx: Any, _: Any) -> Any:
    one, two = ctx.call_activity("a", input=1), ctx.call_activity("b", input=2)
    both_done = task.when_all([one, two, one])
    first = yield task.when_any([two, both_done])
    try:
        done = yield both_done
    except task.TaskFailedError as exc:
        done = str(exc)
    return [first.is_complete, done]


def _fan_failing(ctx: Any, _: Any) -> Any:
    try:
        done = yield task.when_all([ctx.call_activity("a", input=i) for i in range(4)])
    except task.TaskFailedError as exc:
        done = str(exc)
    return done


def test_when_all_children_counted_in_any_order_match_the_sdk() -> None:
    shared = [orchestrator_started(), started("_fan_shared")]
    shared += [task_scheduled(1, "a"), task_scheduled(2, "b")]
    for order in ((1, 2), (2, 1)):
        assert both(_fan_shared, shared, [task_completed(i, str(i)) for i in order]).same
    assert both(_fan_shared, shared, [task_completed(2, "2"), task_failed(1, "boom")]).same
    past = [orchestrator_started(), started("_fan_failing")]
    past += [task_scheduled(i + 1, "a") for i in range(4)]
    new = [task_completed(3, "3"), task_failed(1, "boom"), task_completed(2, "2")]
    assert both(_fan_failing, past, new).same
    assert both(_fan_failing, past, [*new, task_completed(4, "4")]).same
    assert both(_fan_failing, past, [*new, task_completed(4, "4"), task_completed(4, "5")]).same


def _wide_fan(ctx: Any, _: Any) -> Any:
    typed = ctx.call_activity("t", input=0, return_type=int)
    done = yield task.when_all([*(ctx.call_activity("a", input=i) for i in range(5)), typed])
    return done


def test_a_fan_in_counted_in_one_loop_matches_the_sdk_whatever_comes_between() -> None:
    """The headless replay counts a fan-in's children in one loop; each event it does not
    take (another kind, an unknown or repeated id, a typed child, a result that does not
    decode, the last child) is handed back and applied as any other; the events may run out."""
    past = [orchestrator_started(), started("_wide_fan")]
    past += [task_scheduled(i + 1, "t" if i == 0 else "a") for i in range(6)]
    done = [task_completed(i, str(i)) for i in (2, 3, 4, 5, 6, 1)]
    cases = [
        done,
        done[::-1],
        [done[0], done[1], event_raised("x", "1"), *done[2:]],
        [done[0], done[1], task_completed(9, "9"), *done[2:]],
        [done[0], done[1], done[1], *done[2:]],
        [done[0], task_completed(3, "{no json"), *done[2:]],
        [done[0], done[1], task_completed(4), *done[3:]],
        done[:4],
    ]
    for new in cases:
        outcome = both(_wide_fan, past, [orchestrator_started(), *new])
        assert outcome.same, new


def test_count_children_leaves_a_when_all_as_the_sdk_completing_each_child() -> None:
    ours, sdk = ([plain_task.new_task(None) for _ in range(4)] for _ in range(2))
    ours_all, sdk_all = task.when_all([*ours, ours[1]]), task.when_all([*sdk, sdk[1]])
    tasks = {i + 1: t for i, t in enumerate(ours)}
    events = [
        pb.HistoryEvent(taskCompleted=pb.TaskCompletedEvent(taskScheduledId=i, result=None))
        for i in (3, 2, 1, 4)
    ]
    for event, i in zip(events, (3, 2), strict=False):
        event.taskCompleted.result.value = f"{i}"
    pairs = enumerate(events)
    decode, known = (lambda text: int(text) * 10), {"2": "two"}
    counted, left = plain_task.count_children(
        ours_all, pairs, pb.HistoryEvent.WhichOneof, tasks, decode, known
    )
    assert counted == 3 and left is not None and left[0] == 3  # the last: the SDK's way
    assert list(tasks) == [4]
    for i, value in ((3, 30), (2, "two"), (1, None)):
        sdk[i - 1].complete(value)
    assert plain_task._state(*ours, ours_all) == plain_task._state(*sdk, sdk_all)
    assert not ours_all.is_complete


def test_a_fan_out_matched_in_one_loop_fails_as_the_sdk_on_a_mismatch() -> None:
    """The headless replay matches a fan-out's next ``taskScheduled`` events in one loop: a
    wrong name, an id nothing was asked at, or a typed child in the middle fail as the SDK."""
    head = [orchestrator_started(), started("_wide_fan")]
    names = ["t", "a", "a", "a", "a", "a"]
    for i, wrong in ((3, "b"), (5, "t")):
        bad = [*names[: i - 1], wrong, *names[i:]]
        past = [*head, *(task_scheduled(n + 1, name) for n, name in enumerate(bad))]
        assert both(_wide_fan, past, [orchestrator_started()]).same
    past = [*head, *(task_scheduled(n + 1, name) for n, name in enumerate(names))]
    assert both(_wide_fan, [*past, task_scheduled(9, "a")], [orchestrator_started()]).same
    assert both(_wide_fan, past[:-2], [orchestrator_started()]).same
