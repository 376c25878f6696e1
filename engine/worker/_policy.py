"""What to do with a work item once its user process is done with it: complete, abandon, fail.

:func:`decide` is a pure function of the job's result, how many times in a row the work item
timed out before, and the worker's options, so the timeout and crash rules are tested without
a process or a sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.history import FailureDetails
from engine.worker._errors import (
    ActivityTimeoutError,
    ResponseRefused,
    TurnTimeoutError,
    UserProcessCrashed,
)
from engine.worker._events import Outcome
from engine.worker._options import WorkerOptions
from engine.worker._process import JobResult


@dataclass(frozen=True)
class Complete:
    """Send the response the user process computed."""

    response: bytes
    """The serialized ``OrchestratorResponse`` or ``ActivityResponse``."""
    result: str
    """The summary for the log (``3 actions``, ``ok``, ``FAILED builtins.ValueError``)."""
    outcome: Outcome
    """``COMPLETED``, or ``FAILED`` when the response reports a failure."""


@dataclass(frozen=True)
class Abandon:
    """Give the work item back to the sidecar for redelivery."""

    reason: str
    """Why, for the log and the capture (``timed out after 1s (1 of 3); stuck at ...``)."""


@dataclass(frozen=True)
class Fail:
    """Answer the work item with a failure the worker builds itself."""

    failure: FailureDetails
    """What the orchestration (turn) or the activity failed with."""


@dataclass(frozen=True)
class Decision:
    """What to do, and the timeout count to keep for the work item afterwards."""

    action: Complete | Abandon | Fail
    """Complete, abandon or fail."""
    timeouts: int
    """Timeouts in a row to remember for this work item (0: forget it)."""


def decide(kind: str, result: JobResult, timeouts: int, options: WorkerOptions) -> Decision:
    """The decision for one job's result.

    Args:
        kind: ``turn`` or ``activity``.
        result: What became of the job in its user process.
        timeouts: How many times in a row the work item timed out before this result (for a
            turn: its instance; for an activity: its instance and task id).
        options: The worker's timeouts and ``max_timeouts``.

    Returns:
        ``done`` completes with the response; a turn's ``timeout`` abandons until the
        ``max_timeouts``-th in a row, which fails the orchestration (``TurnTimeoutError``);
        an activity's ``timeout`` fails the activity at once (``ActivityTimeoutError``, a
        failure the orchestration's retry policy can act on); both name where user code was
        stuck; ``crashed`` fails with
        ``UserProcessCrashed`` (exit code or signal, and the last output); ``stopped``
        abandons.
    """
    what = {"turn": "turn", "entity": "entity batch"}.get(kind, "activity")
    if result.outcome == "done":
        outcome = Outcome.FAILED if result.failed else Outcome.COMPLETED
        return Decision(Complete(result.response, result.summary, outcome), 0)
    if result.outcome == "timeout":
        return _timed_out(kind, result, timeouts + 1, options)
    if result.outcome == "rejected":
        return Decision(Abandon(result.summary), timeouts)
    if result.outcome == "crashed":
        return Decision(Fail(crash_failure(result, what)), timeouts)
    return Decision(Abandon(f"the worker stopped before the {what} finished"), timeouts)


def _timed_out(kind: str, result: JobResult, count: int, options: WorkerOptions) -> Decision:
    where = f"stuck at {result.location}"
    if kind != "turn":
        # An activity that timed out fails at once: the orchestration's retry policy can act
        # on the failure, where an abandoned activity may be dropped by the sidecar.
        limit = options.activity_timeout
        subject = "the entity batch" if kind == "entity" else "the activity"
        failure = FailureDetails(
            error_type=type_name(ActivityTimeoutError),
            message=f"{subject} ran past its {limit:g}s timeout; {where}",
            stack_trace=result.stack or None,
        )
        return Decision(Fail(failure), 0)
    limit = options.turn_timeout
    if count < options.max_timeouts:
        reason = f"timed out after {limit:g}s ({count} of {options.max_timeouts}); {where}"
        return Decision(Abandon(reason), count)
    failure = FailureDetails(
        error_type=type_name(TurnTimeoutError),
        message=f"the orchestrator turn ran past its {limit:g}s timeout {count} times; {where}",
        stack_trace=result.stack or None,
    )
    return Decision(Fail(failure), 0)


def refused_failure(kind: str, refused: str) -> FailureDetails:
    """The failure sent in place of a ``turn`` or ``activity`` response the sidecar refused.

    Args:
        kind: ``turn`` or ``activity``.
        refused: The sidecar's reason (``RESOURCE_EXHAUSTED: ... larger than max (N vs. M)``).
    """
    subject = "orchestrator turn's response" if kind == "turn" else "activity's result"
    return FailureDetails(
        error_type=type_name(ResponseRefused),
        message=f"the sidecar refused the {subject} ({refused})",
    )


def crash_failure(result: JobResult, what: str) -> FailureDetails:
    """The failure for a user process that died while running a ``turn`` or an ``activity``."""
    output = result.output.strip()
    code = result.exitcode
    how = f"exit code {code}" if code is not None and code >= 0 else f"signal {-(code or 0)}"
    message = f"the user process died ({how}) while running the {what}"
    if output:
        message += "; last output:\n" + output
    return FailureDetails(error_type=type_name(UserProcessCrashed), message=message)


def type_name(cls: type) -> str:
    """The dotted name failure details give a type (``engine.worker.TurnTimeoutError``)."""
    return f"{cls.__module__}.{cls.__qualname__}"
