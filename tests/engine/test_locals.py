"""Locals in frames read as a person wants them: tasks by state, plain objects by their fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durabletask import task
from factories import orchestrator_started, session, started, task_completed, task_scheduled


def waits(ctx: Any, _: Any) -> Any:
    policy = task.RetryPolicy(first_retry_interval=timedelta(seconds=2), max_number_of_attempts=4)
    first = ctx.call_activity("a", retry_policy=policy)
    second = ctx.call_activity("b")
    yield task.when_all([first, second])


def test_locals_show_tasks_by_state_and_objects_by_fields() -> None:
    s = session(
        waits,
        [orchestrator_started(), started("waits"), task_scheduled(1, "a"), task_scheduled(2, "b")],
        [orchestrator_started(), task_completed(1, '"A"')],
    )
    shown = dict(s.run_to_end().locals)
    assert shown["first"] == "RetryableTask(done: 'A')"
    assert shown["second"] == "CompletableTask(pending)"
    expected = "RetryPolicy(first_retry_interval=datetime.timedelta(seconds=2)"
    assert shown["policy"].startswith(expected)
    assert "object at 0x" not in shown["policy"]
    before = dict(s.frame(3).locals)
    assert before["first"] == "RetryableTask(pending)"


def fan_out(ctx: Any, _: Any) -> Any:
    tasks = [ctx.call_activity("sq", input=i) for i in range(10)]
    yield task.when_all(tasks)


def test_a_list_of_tasks_reads_by_their_states_not_their_addresses() -> None:
    scheduled = [task_scheduled(i, "sq", str(i - 1)) for i in range(1, 11)]
    s = session(
        fan_out,
        [orchestrator_started(), started("fan_out"), *scheduled],
        [orchestrator_started(), task_completed(1, "0")],
    )
    shown = dict(s.run_to_end().locals)["tasks"]
    assert "object at 0x" not in shown
    assert shown.startswith("[CompletableTask(done: 0), CompletableTask(pending), ")
    assert len(shown) <= 120  # cut like any other local
