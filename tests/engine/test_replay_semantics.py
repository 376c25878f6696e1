"""Replay semantics, in the durabletask SDK's test style: inline orchestrator, factory events.

Every test asserts on our actions and that the SDK executor gives the same response (stack-trace
text and trace context aside), except the deliberate deviations at the end, which say why.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from durabletask import task
from factories import (
    T0,
    Both,
    both,
    continue_as_new_event,
    event_raised,
    event_sent,
    history_after,
    history_state,
    orchestrator_completed,
    orchestrator_started,
    ours,
    resumed,
    started,
    sub_completed,
    sub_created,
    sub_failed,
    suspended,
    task_completed,
    task_failed,
    task_scheduled,
    terminated,
    timer_created,
    timer_fired,
    turns,
    unknown,
)

OS = orchestrator_started
OC = orchestrator_completed
ND = "durabletask.task.NonDeterminismError"
PREFIX = "ORCHESTRATION_STATUS_"


def agree(r: Both) -> Both:
    """Assert our answer is the SDK's and hand it back."""
    assert r.ours == r.sdk
    return r


def line_of(fn: Callable[..., Any], marker: str) -> int:
    """The source line of ``fn`` that contains ``marker``."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def status(r: Both) -> str | None:
    done = r.completion
    return None if done is None else str(done["orchestrationStatus"]).replace(PREFIX, "")


def result(r: Both) -> Any:
    done = r.completion
    assert done is not None
    return json.loads(done["result"]) if "result" in done else None


def failure(r: Both) -> dict[str, Any]:
    done = r.completion
    assert done is not None and "failureDetails" in done
    return dict(done["failureDetails"])


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- activities ------------------------------------------------------------------------------


def act(ctx: Any, value: Any) -> Any:
    return value


def test_single_activity_first_turn_and_completion_turn() -> None:
    def orch(ctx: Any, value: int) -> Any:
        doubled = yield ctx.call_activity(act, input=value * 2)
        return doubled + 1

    first = agree(both(orch, [], [OS(), started("orch", "5")]))
    assert first.actions == [{"id": 1, "scheduleTask": {"name": "act", "input": "10"}}]
    assert first.completion is None

    past = [OS(), started("orch", "5"), task_scheduled(1, "act", "10"), OC()]
    last = agree(both(orch, past, [OS(at(1)), task_completed(1, "10")]))
    assert last.kinds == ["completeOrchestration#2"]
    assert status(last) == "COMPLETED" and result(last) == 11


def test_activity_chain_across_turns() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        out: list[Any] = []
        for name in ("a", "b", "c"):
            out.append((yield ctx.call_activity(name, input=len(out))))
        return out

    runs = turns(
        orch,
        [
            [OS(), started("orch")],
            [OS(at(1)), task_completed(1, '"A"')],
            [OS(at(2)), task_completed(2, '"B"')],
            [OS(at(3)), task_completed(3, '"C"')],
        ],
    )
    assert [r.kinds for r in runs] == [
        ["scheduleTask#1"],
        ["scheduleTask#2"],
        ["scheduleTask#3"],
        ["completeOrchestration#4"],
    ]
    assert runs[1].actions[0]["scheduleTask"] == {"name": "b", "input": "1"}
    assert result(runs[-1]) == ["A", "B", "C"]


def test_when_all_results_in_input_order() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        tasks = [ctx.call_activity("work", input=i) for i in range(3)]
        return (yield task.when_all(tasks))

    first = agree(both(orch, [], [OS(), started("orch")]))
    assert first.kinds == ["scheduleTask#1", "scheduleTask#2", "scheduleTask#3"]
    past = history_after([], [OS(), started("orch")], first.ours)
    r = agree(
        both(
            orch,
            past,
            [
                OS(at(1)),
                task_completed(3, '"z"'),
                task_completed(1, '"x"'),
                task_completed(2, '"y"'),
            ],
        )
    )
    assert result(r) == ["x", "y", "z"]


def test_when_all_failure_raised_only_after_every_child_completed() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        tasks = [ctx.call_activity("work", input=i) for i in range(3)]
        return (yield task.when_all(tasks))

    past = [OS(), started("orch")] + [task_scheduled(i, "work", str(i - 1)) for i in (1, 2, 3)]
    past.append(OC())
    waiting = agree(both(orch, past, [OS(at(1)), task_failed(2, "bad"), task_completed(1, "1")]))
    assert waiting.actions == []

    done = agree(
        both(
            orch,
            past,
            [OS(at(1)), task_failed(2, "bad"), task_completed(1, "1"), task_completed(3, "3")],
        )
    )
    assert status(done) == "FAILED"
    details = failure(done)
    assert details["errorType"] == "durabletask.task.TaskFailedError"
    assert details["innerFailure"]["errorMessage"] == "bad"


def test_when_any_activity_beats_timer() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        work = ctx.call_activity("work")
        timeout = ctx.create_timer(timedelta(minutes=5))
        winner = yield task.when_any([work, timeout])
        return ["work", winner.get_result()] if winner is work else ["timeout", None]

    runs = turns(orch, [[OS(), started("orch")], [OS(at(1)), task_completed(1, '"w"')]])
    assert runs[0].kinds == ["scheduleTask#1", "createTimer#2"]
    assert runs[0].actions[1]["createTimer"]["fireAt"] == iso(at(5))
    assert runs[1].kinds == ["completeOrchestration#3"]
    assert result(runs[1]) == ["work", "w"]

    timed_out = turns(orch, [[OS(), started("orch")], [OS(at(5)), timer_fired(2, at(5))]])
    assert result(timed_out[1]) == ["timeout", None]


def test_when_any_event_vs_timer_and_losers_actions_still_sent() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        approval = ctx.wait_for_external_event("approval")
        timeout = ctx.create_timer(timedelta(hours=1))
        winner = yield task.when_any([approval, timeout])
        return winner.get_result() if winner is approval else "timed out"

    # The event arrives in the same batch: the generator returns while its timer is still new,
    # and the un-awaited createTimer is sent along with the completion.
    same_turn = agree(both(orch, [], [OS(), started("orch"), event_raised("approval", '"ok"')]))
    assert same_turn.kinds == ["createTimer#1", "completeOrchestration#2"]
    assert result(same_turn) == "ok"

    by_timer = turns(orch, [[OS(), started("orch")], [OS(at(60)), timer_fired(1, at(60))]])
    assert result(by_timer[1]) == "timed out"
    by_event = turns(orch, [[OS(), started("orch")], [OS(at(1)), event_raised("approval", "7")]])
    assert by_event[1].kinds == ["completeOrchestration#2"] and result(by_event[1]) == 7


# --- timers ----------------------------------------------------------------------------------


def test_timer_with_timedelta_fires_relative_to_the_replay_clock() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=90))
        return ctx.current_utc_datetime.isoformat()

    runs = turns(orch, [[OS(), started("orch")], [OS(at(2)), timer_fired(1, at(1.5))]])
    assert runs[0].actions == [{"id": 1, "createTimer": {"fireAt": iso(at(1.5))}}]
    assert result(runs[1]) == at(2).replace(tzinfo=None).isoformat()


def test_timer_with_aware_datetime_is_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))

    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.create_timer(datetime(2024, 1, 1, 15, 0, tzinfo=plus_two))
        return "fired"

    runs = turns(
        orch,
        [[OS(), started("orch")], [OS(at(60)), timer_fired(1, datetime(2024, 1, 1, 13, 0))]],
    )
    assert runs[0].actions == [{"id": 1, "createTimer": {"fireAt": "2024-01-01T13:00:00Z"}}]
    assert result(runs[1]) == "fired"


def test_long_timer_is_split_into_chunks_at_the_maximum_interval() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=25))
        return "done"

    runs = turns(
        orch,
        [
            [OS(), started("orch")],
            [OS(at(seconds=10)), timer_fired(1, at(seconds=10))],
            [OS(at(seconds=20)), timer_fired(2, at(seconds=20))],
            [OS(at(seconds=25)), timer_fired(3, at(seconds=25))],
        ],
        maximum_timer_interval=timedelta(seconds=10),
    )
    fire = [r.actions[0].get("createTimer", {}).get("fireAt") for r in runs]
    assert fire == [iso(at(seconds=10)), iso(at(seconds=20)), iso(at(seconds=25)), None]
    assert [r.kinds[0] for r in runs] == [
        "createTimer#1",
        "createTimer#2",
        "createTimer#3",
        "completeOrchestration#4",
    ]
    assert result(runs[-1]) == "done"


# --- external events -------------------------------------------------------------------------


def test_external_event_names_are_case_insensitive() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        return (yield ctx.wait_for_external_event("Approval"))

    r = agree(both(orch, [], [OS(), started("orch"), event_raised("APPROVAL", '"yes"')]))
    assert r.kinds == ["completeOrchestration#1"] and result(r) == "yes"


def test_events_arriving_before_the_wait_are_buffered_fifo() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("first")
        a = yield ctx.wait_for_external_event("x")
        b = yield ctx.wait_for_external_event("X")
        return [a, b]

    runs = turns(
        orch,
        [
            [OS(), started("orch"), event_raised("x", "1"), event_raised("x", "2")],
            [OS(at(1)), task_completed(1)],
        ],
    )
    assert runs[0].kinds == ["scheduleTask#1"]
    assert result(runs[1]) == [1, 2]


def test_several_waiters_on_one_name_are_served_fifo() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        first = ctx.wait_for_external_event("x")
        second = ctx.wait_for_external_event("x")
        yield task.when_all([first, second])
        return [first.get_result(), second.get_result()]

    r = agree(
        both(orch, [], [OS(), started("orch"), event_raised("x", '"a"'), event_raised("x", '"b"')])
    )
    assert result(r) == ["a", "b"]


@dataclass
class Order:
    item: str
    qty: int


def test_event_delivered_with_data_type() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        order = yield ctx.wait_for_external_event("order", data_type=Order)
        return [type(order).__name__, order.item, order.qty * 2]

    data = '{"item": "pen", "qty": 3}'
    r = agree(both(orch, [], [OS(), started("orch"), event_raised("order", data)]))
    assert result(r) == ["Order", "pen", 6]


# --- suspend, resume, terminate --------------------------------------------------------------


def _one_activity(ctx: Any, _: Any) -> Any:
    value = yield ctx.call_activity("work")
    return value


PAST_ONE = [OS(), started("_one_activity"), task_scheduled(1, "work"), OC()]


def test_suspended_orchestration_holds_completions_until_resumed() -> None:
    held = agree(both(_one_activity, PAST_ONE, [OS(at(1)), suspended(), task_completed(1, "5")]))
    assert held.actions == []

    let_through = agree(
        both(_one_activity, PAST_ONE, [OS(at(1)), suspended(), task_completed(1, "5"), resumed()])
    )
    assert let_through.kinds == ["completeOrchestration#2"] and result(let_through) == 5


def test_terminate_completes_with_the_raw_output_and_ignores_later_events() -> None:
    raw = '{"why":  "operator"}'
    r = agree(both(_one_activity, PAST_ONE, [OS(at(1)), terminated(raw), task_completed(1, "5")]))
    assert r.kinds == ["completeOrchestration#2"]
    assert status(r) == "TERMINATED"
    assert r.completion is not None and r.completion["result"] == raw

    # As in the SDK, a later completion still resumes the code (new work is still sent), but
    # the terminated completion stands.
    def two(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("a")
        yield ctx.call_activity("b")

    past = [OS(), started("two"), task_scheduled(1, "a"), OC()]
    after = agree(both(two, past, [OS(at(1)), terminated('"t"'), task_completed(1)]))
    assert after.kinds == ["completeOrchestration#2", "scheduleTask#3"]
    assert status(after) == "TERMINATED"

    while_suspended = agree(both(_one_activity, PAST_ONE, [OS(at(1)), suspended(), terminated()]))
    assert status(while_suspended) == "TERMINATED"


# --- continue-as-new -------------------------------------------------------------------------


def test_continue_as_new_without_save_events_drops_buffered_events() -> None:
    def orch(ctx: Any, n: int) -> Any:
        if n < 3:
            ctx.continue_as_new(n + 1)
            return
        yield ctx.create_timer(timedelta(seconds=1))

    r = agree(both(orch, [], [OS(), started("orch", "0"), event_raised("e", "1")]))
    assert r.kinds == ["completeOrchestration#1"]
    assert status(r) == "CONTINUED_AS_NEW" and result(r) == 1
    assert r.completion is not None and "carryoverEvents" not in r.completion


def test_continue_as_new_with_save_events_carries_events_in_arrival_order() -> None:
    def orch(ctx: Any, n: int) -> Any:
        yield ctx.call_activity("work")
        ctx.continue_as_new(n + 1, save_events=True)

    new = [
        OS(at(1)),
        event_raised("A", "1"),
        task_completed(1),
        event_raised("b", "2"),
        event_raised("A", "3"),
    ]
    past = [OS(), started("orch", "0"), event_raised("c", "0"), task_scheduled(1, "work"), OC()]
    r = agree(both(orch, past, new))
    done = r.completion
    assert done is not None and result(r) == 1
    carried = [
        (e["eventRaised"]["name"], e["eventRaised"]["input"]) for e in done["carryoverEvents"]
    ]
    # Carried events keep their arrival order; the SDK carries their names casefolded.
    assert carried == [("c", "0"), ("a", "1"), ("b", "2"), ("a", "3")]


def test_actions_after_continue_as_new_are_still_sent() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.continue_as_new("again")
        yield ctx.create_timer(timedelta(seconds=1))

    r = agree(both(orch, [], [OS(), started("orch")]))
    assert r.kinds == ["createTimer#1", "completeOrchestration#2"]


# --- custom status, send_event, uuid, replay flag, origin ------------------------------------


def test_custom_status_across_turns() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.set_custom_status({"stage": 1})
        yield ctx.call_activity("work")
        ctx.set_custom_status("two")
        yield ctx.call_activity("work")
        ctx.set_custom_status(None)
        return "ok"

    runs = turns(
        orch,
        [[OS(), started("orch")], [OS(at(1)), task_completed(1)], [OS(at(2)), task_completed(2)]],
    )
    assert [r.custom_status for r in runs] == ['{"stage": 1}', '"two"', None]


def test_send_event_and_its_replay() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.send_event("other", "ping", data={"n": 1})
        yield ctx.create_timer(timedelta(seconds=1))
        return "sent"

    runs = turns(orch, [[OS(), started("orch")], [OS(at(1)), timer_fired(2, at(seconds=1))]])
    assert runs[0].actions[0] == {
        "id": 1,
        "sendEvent": {"instance": {"instanceId": "other"}, "name": "ping", "data": '{"n": 1}'},
    }
    assert runs[0].kinds == ["sendEvent#1", "createTimer#2"]
    assert runs[1].kinds == ["completeOrchestration#3"]


@pytest.mark.parametrize("target", ["", "   ", "@counter@c1"])
def test_send_event_validation_errors_fail_the_orchestration(target: str) -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.send_event(target, "ping")
        yield ctx.create_timer(timedelta(seconds=1))

    r = agree(both(orch, [], [OS(), started("orch")]))
    assert r.kinds == ["completeOrchestration#1"]
    assert status(r) == "FAILED" and failure(r)["errorType"] == "builtins.ValueError"


def test_new_uuid_is_deterministic_and_equals_the_sdk() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        first = [ctx.new_uuid(), ctx.new_uuid()]
        yield ctx.call_activity("work")
        return first + [ctx.new_uuid()]

    runs = turns(orch, [[OS(), started("orch")], [OS(at(1)), task_completed(1)]])
    values = result(runs[1])
    assert len(set(values)) == 3
    again = turns(orch, [[OS(), started("orch")], [OS(at(1)), task_completed(1)]])
    assert result(again[1]) == values


def test_is_replaying_seen_by_code_across_lanes() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        seen = [ctx.is_replaying]
        yield ctx.call_activity("a")
        seen.append(ctx.is_replaying)
        yield ctx.call_activity("b")
        seen.append(ctx.is_replaying)
        return seen

    runs = turns(
        orch,
        [[OS(), started("orch")], [OS(at(1)), task_completed(1)], [OS(at(2)), task_completed(2)]],
    )
    assert result(runs[-1]) == [True, True, False]


def test_version_and_parent_instance_id_are_visible_to_code() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        return [ctx.version, ctx.parent_instance_id, ctx.instance_id]

    r = agree(
        both(
            orch,
            [],
            [OS(), started("orch", version="1.2", parent="boss", instance="kid")],
            instance="kid",
        )
    )
    assert result(r) == ["1.2", "boss", "kid"]
    plain = agree(both(orch, [], [OS(), started("orch")]))
    assert result(plain) == [None, None, "abc"]


# --- retries and failures --------------------------------------------------------------------

RETRY = task.RetryPolicy(first_retry_interval=timedelta(seconds=5), max_number_of_attempts=3)


def _flaky(ctx: Any, _: Any) -> Any:
    value = yield ctx.call_activity("flaky", retry_policy=RETRY)
    return value


def test_retry_policy_succeeds_after_failures_reusing_the_task_id() -> None:
    runs = turns(
        _flaky,
        [
            [OS(), started("_flaky")],
            [OS(at(1)), task_failed(1, "first")],
            [OS(at(2)), timer_fired(2, at(1, 5))],
            [OS(at(3)), task_failed(1, "second")],
            [OS(at(4)), timer_fired(3, at(3, 5))],
            [OS(at(5)), task_completed(1, '"finally"')],
        ],
    )
    assert [r.kinds for r in runs] == [
        ["scheduleTask#1"],
        ["createTimer#2"],
        ["scheduleTask#1"],
        ["createTimer#3"],
        ["scheduleTask#1"],
        ["completeOrchestration#4"],
    ]
    assert runs[1].actions[0]["createTimer"]["fireAt"] == iso(at(1, 5))
    assert result(runs[-1]) == "finally"


def test_retry_policy_exhausted_fails_with_the_last_error() -> None:
    runs = turns(
        _flaky,
        [
            [OS(), started("_flaky")],
            [OS(at(1)), task_failed(1, "first")],
            [OS(at(2)), timer_fired(2, at(1, 5))],
            [OS(at(3)), task_failed(1, "second")],
            [OS(at(4)), timer_fired(3, at(3, 5))],
            [OS(at(5)), task_failed(1, "third", "mod.Boom")],
        ],
    )
    last = runs[-1]
    assert last.kinds == ["completeOrchestration#4"] and status(last) == "FAILED"
    details = failure(last)
    assert details["errorType"] == "durabletask.task.TaskFailedError"
    assert details["innerFailure"]["errorType"] == "mod.Boom"
    assert details["innerFailure"]["errorMessage"] == "third"


def test_sub_orchestration_complete_and_failed() -> None:
    def child(ctx: Any, _: Any) -> Any:
        return "child"

    def orch(ctx: Any, _: Any) -> Any:
        first = yield ctx.call_sub_orchestrator(child, input=1)
        try:
            yield ctx.call_sub_orchestrator("child", instance_id="fixed")
        except task.TaskFailedError as err:
            return [first, err.details.message]

    first = agree(both(orch, [], [OS(), started("orch")], others=[child]))
    assert first.actions == [
        {
            "id": 1,
            "createSubOrchestration": {"name": "child", "instanceId": "abc:0001", "input": "1"},
        }
    ]
    past = [OS(), started("orch"), sub_created(1, "child", "abc:0001", "1"), OC()]
    past += [OS(at(1)), sub_completed(1, '"c1"'), sub_created(2, "child", "fixed"), OC()]
    r = agree(both(orch, past, [OS(at(2)), sub_failed(2, "child broke")], others=[child]))
    assert result(r) == ["c1", "child broke"]


def test_task_failed_error_can_be_caught() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        try:
            yield ctx.call_activity("work")
        except task.TaskFailedError as err:
            return [err.details.error_type, err.details.message, err.details.is_caused_by(KeyError)]

    r = agree(
        both(
            orch,
            PAST_ONE[:1] + [started("orch")] + PAST_ONE[2:],
            [OS(at(1)), task_failed(1, "nope", "builtins.KeyError")],
        )
    )
    assert result(r) == ["builtins.KeyError", "nope", True]


class BoomError(Exception):
    pass


def test_uncaught_exception_fails_with_qualified_type_and_inner_failure() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        value = yield ctx.call_activity("work")
        try:
            int("not a number")
        except ValueError as err:
            raise BoomError(f"bad {value}") from err

    r = agree(
        both(
            orch,
            PAST_ONE[:1] + [started("orch")] + PAST_ONE[2:],
            [OS(at(1)), task_completed(1, "3")],
        )
    )
    details = failure(r)
    assert status(r) == "FAILED"
    assert details["errorType"] == f"{__name__}.BoomError"
    assert details["errorMessage"] == "bad 3"
    assert details["innerFailure"]["errorType"] == "builtins.ValueError"


def test_plain_function_orchestrator_completes_at_once() -> None:
    def orch(ctx: Any, value: Any) -> Any:
        return {"echo": value}

    r = agree(both(orch, [], [OS(), started("orch", '"hi"')]))
    assert r.kinds == ["completeOrchestration#1"] and result(r) == {"echo": "hi"}


def test_activity_scheduled_but_never_awaited_is_sent_with_the_completion() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.call_activity("fire_and_forget", input="x")
        return "done"

    r = agree(both(orch, [], [OS(), started("orch")]))
    assert r.kinds == ["scheduleTask#1", "completeOrchestration#2"]


def test_duplicate_and_unknown_task_completions_are_ignored() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        a = yield ctx.call_activity("a")
        b = yield ctx.call_activity("b")
        return [a, b]

    past = [OS(), started("orch"), task_scheduled(1, "a"), OC()]
    past += [OS(at(1)), task_completed(1, '"A"'), task_scheduled(2, "b"), OC()]
    r = agree(both(orch, past, [OS(at(2)), task_completed(1, '"again"'), task_completed(99, "0")]))
    assert r.actions == []
    done = agree(
        both(orch, past, [OS(at(2)), task_completed(1, '"again"'), task_completed(2, '"B"')])
    )
    assert result(done) == ["A", "B"]


# --- non-determinism -------------------------------------------------------------------------


def _assert_nondeterminism(r: Both, index: int, recorded: str, asked: str, line: int) -> None:
    assert r.kinds[-1].startswith("completeOrchestration")
    assert status(r) == "FAILED"
    assert failure(r)["errorType"] == ND
    nd = r.outcome.nondeterminism
    assert nd is not None
    assert nd.event_index == index
    assert nd.recorded == recorded
    assert nd.asked == asked
    assert nd.location is not None and nd.location.line == line
    assert nd.message == failure(r)["errorMessage"]


def test_nondeterminism_wrong_activity_name() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("renamed")  # asks

    past = [OS(), started("orch"), task_scheduled(1, "original"), OC()]
    r = agree(both(orch, past, [OS(at(1)), task_completed(1)]))
    _assert_nondeterminism(
        r, 2, "taskScheduled #1 'original'", "scheduleTask #1 'renamed'", line_of(orch, "# asks")
    )


def test_nondeterminism_wrong_action_kind() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("work")  # asks

    past = [OS(), started("orch"), timer_created(1, at(1)), OC()]
    r = agree(both(orch, past, [OS(at(1)), timer_fired(1, at(1))]))
    _assert_nondeterminism(
        r, 2, "timerCreated #1", "scheduleTask #1 'work'", line_of(orch, "# asks")
    )


def test_nondeterminism_missing_action() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity("a")  # waits here

    past = [OS(), started("orch"), task_scheduled(1, "a"), task_scheduled(2, "b"), OC()]
    r = agree(both(orch, past, [OS(at(1)), task_completed(1)]))
    _assert_nondeterminism(
        r,
        3,
        "taskScheduled #2 'b'",
        "nothing with this sequence number",
        line_of(orch, "# waits here"),
    )


def test_nondeterminism_wrong_send_event_target() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.send_event("new-target", "ping")  # asks
        yield ctx.create_timer(timedelta(seconds=1))

    past = [
        OS(),
        started("orch"),
        event_sent(1, "old-target", "ping"),
        timer_created(2, at(seconds=1)),
        OC(),
    ]
    r = agree(both(orch, past, [OS(at(1)), timer_fired(2, at(seconds=1))]))
    assert "target instance ID='old-target'" in failure(r)["errorMessage"]
    _assert_nondeterminism(
        r, 2, "eventSent #1 'ping'", "sendEvent #1 'ping' -> new-target", line_of(orch, "# asks")
    )


def test_nondeterminism_keeps_actions_pending_before_the_mismatch() -> None:
    def orch(ctx: Any, _: Any) -> Any:
        ctx.call_activity("extra")
        yield ctx.call_activity("renamed")

    past = [OS(), started("orch"), task_scheduled(2, "original"), OC()]
    r = agree(both(orch, past, [OS(at(1)), task_completed(2)]))
    assert r.kinds == ["scheduleTask#1", "completeOrchestration#3"]


def test_unknown_orchestrator_name_fails_like_the_sdk() -> None:
    r = both(act, [], [OS(), started("nope")])
    assert status(r) == "FAILED"
    assert failure(r)["errorMessage"] == "A 'nope' orchestrator was not registered."
    assert r.ours == r.sdk


def test_unknown_orchestrator_name_fails_the_orchestration() -> None:
    r = both(act, [], [OS(), started("nope")])
    assert r.kinds == ["completeOrchestration#1"] and status(r) == "FAILED"
    assert failure(r)["errorMessage"] == failure(Both(r.sdk, r.sdk, r.outcome))["errorMessage"]
    assert failure(r)["errorType"].endswith(".OrchestratorNotRegisteredError")


# --- deliberate deviations from the SDK ------------------------------------------------------


def test_when_all_of_nothing_completes_at_once() -> None:
    # Deviation: the SDK's when_all([]) never completes (it only completes from a child
    # callback), so the orchestration hangs forever; we complete it at once with [].
    def orch(ctx: Any, _: Any) -> Any:
        return (yield task.when_all([]))

    r = both(orch, [], [OS(), started("orch")])
    assert r.kinds == ["completeOrchestration#1"] and result(r) == []
    assert "actions" not in r.sdk


def test_first_yield_of_an_already_complete_task_is_resumed() -> None:
    # Deviation: the SDK never resumes a first yield that is already complete (here a wait
    # satisfied from the buffer, the event having arrived before executionStarted), so the turn
    # returns nothing and the orchestration is stuck; we resume it.
    def orch(ctx: Any, _: Any) -> Any:
        value = yield ctx.wait_for_external_event("go")
        return value

    r = both(orch, [], [OS(), event_raised("go", '"early"'), started("orch")])
    assert r.kinds == ["completeOrchestration#1"] and result(r) == "early"
    assert "actions" not in r.sdk


UNKNOWN_EVENTS = {
    "historyState": history_state(),
    "continueAsNew": continue_as_new_event('"x"'),
    "unset": unknown(0),
    "field 99": unknown(99),
    "resumed while not suspended": resumed(),
}


@pytest.mark.parametrize("label", list(UNKNOWN_EVENTS))
def test_unknown_events_are_ignored_in_lenient_mode(label: str) -> None:
    # Deviation: the SDK fails the orchestration on these; an inspector must read any history.
    new = [OS(at(1)), UNKNOWN_EVENTS[label], task_completed(1, "4")]
    r = both(_one_activity, PAST_ONE, new)
    assert r.kinds == ["completeOrchestration#2"] and result(r) == 4
    assert status(Both(r.sdk, r.sdk, r.outcome)) == "FAILED"
    lenient, _ = ours(_one_activity, PAST_ONE, new)
    assert lenient == r.ours


@pytest.mark.parametrize("label", list(UNKNOWN_EVENTS))
def test_unknown_events_fail_in_strict_mode(label: str) -> None:
    new = [OS(at(1)), UNKNOWN_EVENTS[label], task_completed(1, "4")]
    strict, outcome = ours(_one_activity, PAST_ONE, new, strict=True)
    assert outcome.failed
    done = strict["actions"][-1]["completeOrchestration"]
    assert done["orchestrationStatus"] == "ORCHESTRATION_STATUS_FAILED"
    assert done["failureDetails"]["errorType"] == "durabletask.task.OrchestrationStateError"
    assert done["failureDetails"]["errorMessage"].startswith("Don't know how to handle event")


@pytest.mark.parametrize("label", ["historyState", "continueAsNew", "resumed while not suspended"])
def test_strict_mode_fails_known_kinds_exactly_like_the_sdk(label: str) -> None:
    new = [OS(at(1)), UNKNOWN_EVENTS[label], task_completed(1, "4")]
    strict, _ = ours(_one_activity, PAST_ONE, new, strict=True)
    r = both(_one_activity, PAST_ONE, new)
    assert strict == r.sdk


def test_factories_build_the_events_the_sdk_helpers_build() -> None:
    from durabletask.internal import helpers
    from factories import to_sdk

    pairs = [
        (
            started("orch", '"in"', version="1"),
            helpers.new_execution_started_event("orch", "abc", '"in"', version="1"),
        ),
        (task_scheduled(1, "act", '"x"'), helpers.new_task_scheduled_event(1, "act", '"x"')),
        (task_completed(1, '"r"'), helpers.new_task_completed_event(1, '"r"')),
        (timer_created(2, at(1)), helpers.new_timer_created_event(2, at(1))),
        (timer_fired(2, at(1)), helpers.new_timer_fired_event(2, at(1))),
        (event_raised("e", "1"), helpers.new_event_raised_event("e", "1")),
        (
            sub_created(3, "c", "i", '"x"'),
            helpers.new_sub_orchestration_created_event(3, "c", "i", '"x"'),
        ),
        (sub_completed(3, "1"), helpers.new_sub_orchestration_completed_event(3, "1")),
        (suspended(), helpers.new_suspend_event()),
        (resumed(), helpers.new_resume_event()),
        (terminated('"t"'), helpers.new_terminated_event(encoded_output='"t"')),
    ]
    for ours_event, sdk_event in pairs:
        (mine,) = to_sdk([ours_event])
        mine.ClearField("timestamp")
        sdk_event.ClearField("timestamp")
        assert mine == sdk_event
