"""The plain-task shortcuts (engine.plain_task): they hold for the installed SDK, build what
its constructor builds, and every path through them answers as the SDK's executor does."""

from __future__ import annotations

from typing import Any

from durabletask import task

from engine import plain_task
from tests.factories import (
    both,
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
