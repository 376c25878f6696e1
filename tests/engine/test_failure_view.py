"""What a failed replay shows: the line that raised, and a traceback of user code only."""

from __future__ import annotations

import inspect
from typing import Any

from factories import orchestrator_started, session, started, task_completed, task_scheduled


def failing(ctx: Any, _: Any) -> Any:
    yield ctx.call_activity("step")
    raise ValueError("boom")  # the failing line


def _line(fn: Any, marker: str) -> int:
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, text in enumerate(lines) if marker in text)


def test_failure_frames_point_at_the_raising_line_and_trace_user_code_only() -> None:
    s = session(
        failing,
        [orchestrator_started(), started("failing"), task_scheduled(1, "step")],
        [orchestrator_started(), task_completed(1, '"ok"')],
    )
    last = s.run_to_end()
    assert last.status == "FAILED"
    assert last.failure is not None and last.failure.message == "boom"
    assert last.location is not None
    assert last.location.line == _line(failing, "the failing line")
    assert last.location.function == "failing"
    trace = last.failure.stack_trace or ""
    assert "test_failure_view.py" in trace
    assert "engine/replay.py" not in trace and "engine/context.py" not in trace


def test_response_trace_names_the_user_line() -> None:
    s = session(
        failing,
        [orchestrator_started(), started("failing"), task_scheduled(1, "step")],
        [orchestrator_started(), task_completed(1, '"ok"')],
    )
    complete = s.outcome().response.actions[-1].completeOrchestration
    assert complete.failureDetails.errorType == "builtins.ValueError"
    assert f"line {_line(failing, 'the failing line')}" in complete.failureDetails.stackTrace.value
