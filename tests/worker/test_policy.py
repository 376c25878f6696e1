"""The timeout-and-crash policy as a pure function: no process, no sidecar."""

from __future__ import annotations

import pytest

from engine.worker import Outcome, WorkerOptions
from engine.worker._policy import Abandon, Complete, Fail, decide
from engine.worker._process import JobResult

OPTIONS = WorkerOptions(app="x", turn_timeout=1.5, activity_timeout=7, max_timeouts=3)
STACK = 'File "/app/x.py", line 9 in spin\n'
STUCK = JobResult("timeout", location="/app/x.py:9 in spin: while True:", stack=STACK)


@pytest.mark.parametrize("kind", ["turn", "activity"])
def test_done_completes_with_the_response_and_forgets_the_timeouts(kind: str) -> None:
    result = JobResult("done", b"\x01\x02", "3 actions")
    decision = decide(kind, result, 2, OPTIONS)
    assert decision.action == Complete(b"\x01\x02", "3 actions", Outcome.COMPLETED)
    assert decision.timeouts == 0


def test_done_with_a_failure_in_the_response_is_failed() -> None:
    result = JobResult("done", b"r", "FAILED builtins.ValueError", failed=True)
    action = decide("turn", result, 0, OPTIONS).action
    assert action == Complete(b"r", "FAILED builtins.ValueError", Outcome.FAILED)


def test_a_turn_timeout_below_the_limit_is_abandoned_and_counted() -> None:
    first = decide("turn", STUCK, 0, OPTIONS)
    assert first.action == Abandon(
        "timed out after 1.5s (1 of 3); stuck at /app/x.py:9 in spin: while True:"
    )
    assert first.timeouts == 1
    second = decide("turn", STUCK, first.timeouts, OPTIONS)
    assert isinstance(second.action, Abandon) and "(2 of 3)" in second.action.reason
    assert second.timeouts == 2


def test_the_turn_timeout_at_the_limit_fails_the_orchestration() -> None:
    decision = decide("turn", STUCK, 2, OPTIONS)
    assert isinstance(decision.action, Fail)
    failure = decision.action.failure
    assert failure.error_type == "engine.worker.TurnTimeoutError"
    assert failure.message == (
        "the orchestrator turn ran past its 1.5s timeout 3 times; "
        "stuck at /app/x.py:9 in spin: while True:"
    )
    assert failure.stack_trace == STACK
    assert decision.timeouts == 0


@pytest.mark.parametrize("before", [0, 1, 2, 5])
def test_an_activity_timeout_fails_the_activity_at_once(before: int) -> None:
    decision = decide("activity", STUCK, before, OPTIONS)
    assert isinstance(decision.action, Fail)
    failure = decision.action.failure
    assert failure.error_type == "engine.worker.ActivityTimeoutError"
    assert failure.message == (
        "the activity ran past its 7s timeout; stuck at /app/x.py:9 in spin: while True:"
    )
    assert failure.stack_trace == STACK
    assert decision.timeouts == 0


def test_max_timeouts_of_one_fails_at_once() -> None:
    options = WorkerOptions(app="x", turn_timeout=1, max_timeouts=1)
    assert isinstance(decide("turn", STUCK, 0, options).action, Fail)


def test_a_crash_fails_with_the_exit_code_and_the_last_output() -> None:
    result = JobResult("crashed", output="about to crash\nstate corrupted\n", exitcode=3)
    decision = decide("activity", result, 1, OPTIONS)
    assert isinstance(decision.action, Fail)
    failure = decision.action.failure
    assert failure.error_type == "engine.worker.UserProcessCrashed"
    assert failure.message == (
        "the user process died (exit code 3) while running the activity; last output:\n"
        "about to crash\nstate corrupted"
    )
    assert decision.timeouts == 1  # a crash neither counts nor forgets timeouts


def test_a_crash_by_a_signal_names_the_signal() -> None:
    action = decide("turn", JobResult("crashed", exitcode=-9), 0, OPTIONS).action
    assert isinstance(action, Fail)
    assert action.failure.message == "the user process died (signal 9) while running the turn"


@pytest.mark.parametrize("kind, what", [("turn", "turn"), ("activity", "activity")])
def test_stopped_is_abandoned(kind: str, what: str) -> None:
    decision = decide(kind, JobResult("stopped"), 2, OPTIONS)
    assert decision.action == Abandon(f"the worker stopped before the {what} finished")
    assert decision.timeouts == 2
