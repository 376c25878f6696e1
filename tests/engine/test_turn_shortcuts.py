"""The replay's shortcuts build what the long way builds: an action made without the class
call, payloads decoded once and kept, the clock read from the last orchestratorStarted."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from engine import payloads
from engine.actions import SCHEDULE_TASK, Action, SourceLocation, new_action
from engine.context import ReplayContext
from tests.factories import orchestrator_started


def test_new_action_is_the_class_call() -> None:
    where = SourceLocation("app.py", 3, "orch")
    made, called = (
        new_action(4, SCHEDULE_TASK, "a", "1", where),
        Action(4, SCHEDULE_TASK, "a", "1", where),
    )
    assert type(made) is Action and vars(made) == vars(called)
    assert made.describe() == called.describe() and made.to_proto() == called.to_proto()


def test_call_activity_makes_what_the_class_call_makes() -> None:
    for value in (None, 0, -7, 10**30, True, "x", {"a": [1]}, 1.5):
        ctx = ReplayContext("i")
        made_task = ctx.call_activity("work", input=value)
        expected = Action(1, SCHEDULE_TASK, "work", payloads.encode(value), None)
        assert ctx.pending_action_count == 1
        [final] = ctx.final_actions()  # the action the response would carry
        taken = ctx.take_action(1)  # the action history confirms
        for made in (final, taken):
            assert type(made) is Action and vars(made) == vars(expected), value
        assert ctx.pending_action_count == 0 and ctx.take_action(1) is None
        assert ctx._pending_tasks == {1: made_task}  # noqa: SLF001 - the task waits under its id


def test_kept_payloads_are_immutable_and_equal_to_a_fresh_decode() -> None:
    for text in ('"x"', "12", "true", "null", "-3"):
        assert payloads.decode(text) == payloads.decode(text) == payloads._DECODER.decode(text)
    first, second = payloads.decode("[1, 2]"), payloads.decode("[1, 2]")
    assert first == second and first is not second  # a mutable value is never shared
    assert math.isnan(payloads.decode("NaN"))
    assert payloads.decode("1.5") == 1.5 and "1.5" not in payloads._DECODED  # floats: not kept
    assert payloads.decode(" 5 ") == 5  # white space: the decoder's own way


def test_the_clock_follows_the_last_orchestrator_started() -> None:
    ctx = ReplayContext("i")
    assert ctx.clock_or_none is None and ctx.clock_token is None
    t0 = datetime(2024, 5, 1, 12, 0, 0)
    for step in range(3):
        msg = orchestrator_started(t0 + timedelta(seconds=step))
        ctx.set_clock_event(msg)
        assert ctx.clock_token == (msg.timestamp.seconds, msg.timestamp.nanos)
        assert ctx.current_utc_datetime == t0 + timedelta(seconds=step)
        assert ctx.clock_token == t0 + timedelta(seconds=step)


def test_code_location_follows_the_generator_through_its_cache() -> None:
    ctx = ReplayContext("i")
    seen: list[tuple[int, str]] = []

    def note() -> None:
        where = ctx.code_location()
        assert where is not None
        seen.append((where.line, where.function))

    def inner() -> object:
        yield 1
        yield 2

    def orch() -> object:
        for _ in range(2):
            note()
        yield 0
        note()
        yield from inner()
        note()

    ctx._generator = gen = orch()  # noqa: SLF001 - the location is read from the generator
    for _ in gen:
        note()  # suspended: at a yield, or in the generator it delegates to
    first = orch.__code__.co_firstlineno
    inner_first = inner.__code__.co_firstlineno
    assert seen == [
        (first + 2, "orch"),
        (first + 2, "orch"),  # asked again from the same place: the same answer
        (first + 3, "orch"),
        (first + 4, "orch"),
        (inner_first + 1, "inner"),  # the innermost generator of a yield from
        (inner_first + 2, "inner"),
        (first + 6, "orch"),
    ]


def test_call_activity_origin_is_where_the_code_asked() -> None:
    ctx = ReplayContext("i")

    def orch() -> object:
        for i in range(3):
            ctx.call_activity("a", input=i)
        yield 0
        ctx.call_activity("b")
        ctx.call_activity("c")
        yield 1
        for _ in range(2):
            ctx.call_activity("d")

    ctx._generator = gen = orch()  # noqa: SLF001 - the location is read from the generator
    for _ in gen:
        pass
    first = orch.__code__.co_firstlineno
    lines = [(a.name, a.origin.line if a.origin else None) for a in ctx.final_actions()]
    expected = (
        [("a", first + 2)] * 3 + [("b", first + 4), ("c", first + 5)] + [("d", first + 8)] * 2
    )
    assert lines == expected
    assert all(a.origin is not None and a.origin.function == "orch" for a in ctx.final_actions())
