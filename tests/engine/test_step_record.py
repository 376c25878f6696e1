"""The replay core's shapes: the step record, the outcome, one non-determinism type, the helpers.

Each test pins a contract of the restructured core: what the replayers report is what the
frames show (never parsed back from the wording of a note), failure is data in the outcome, and
the rules written once (``execution_started``, breakpoint matching, the timer interval, the
error hierarchy) are the ones every caller uses.
"""

from __future__ import annotations

import dataclasses
import inspect
from datetime import timedelta
from typing import Any

import pytest
from factories import (
    app_of,
    event_raised,
    orchestrator_started,
    request,
    resumed,
    session,
    started,
    suspended,
    task_completed,
    task_failed,
    task_scheduled,
)

import engine
from engine import errors
from engine import replay as replay_module
from engine import session as session_module
from engine.breakpoints import Breakpoint, marks_event
from engine.frames import FrameRecorder, StepRecord
from engine.history import execution_started
from engine.history_replay import HistoryReplayer
from engine.outcome import NonDeterminism, ReplayOutcome
from engine.proto import orchestrator_service_pb2 as pb
from engine.replay import CodeReplayer
from engine.session import ReplaySession, replay_request

OS = orchestrator_started


def waits_for_go(ctx: Any, _: Any) -> Any:
    value = yield ctx.wait_for_external_event("go")
    return value


def fails(ctx: Any, _: Any) -> Any:
    yield ctx.call_activity("charge")
    raise ValueError("card declined")


def awaits_failing_task(ctx: Any, _: Any) -> Any:
    yield ctx.call_activity("charge")
    return "unreachable"


def changed(ctx: Any, _: Any) -> Any:
    yield ctx.call_activity("refund")  # history recorded 'charge' here


# A suspended orchestration buffers the event that arrives meanwhile, then resumes.
SUSPENDED_PAST = [OS(), started("waits_for_go"), suspended("maintenance")]
SUSPENDED_NEW = [OS(), event_raised("go", '"yes"'), resumed()]
BUFFERED = (3, 4)  # the turn's orchestratorStarted and the eventRaised, held while suspended


def _reworded(base: type, note: str) -> type:
    """A replayer whose notes all read ``note``: the frame fields must not depend on them."""

    class Reworded(base):  # type: ignore[misc, valid-type]
        def apply(self, index: int) -> None:
            super().apply(index)
            self.note = note

    return Reworded


# --- the step record -----------------------------------------------------------------------


def _home(name: str) -> Any:
    """Where the session finds a replayer: the code replayer is imported from its module when a
    session with code starts (a history-only session never loads it)."""
    return replay_module if name == "CodeReplayer" else session_module


@pytest.mark.parametrize("with_code", [False, True])
@pytest.mark.parametrize("note", ["buffered: a misleading note", "applied, says the note"])
def test_processed_comes_from_the_replayer_not_the_note(
    monkeypatch: pytest.MonkeyPatch, with_code: bool, note: str
) -> None:
    name = "CodeReplayer" if with_code else "HistoryReplayer"
    base = CodeReplayer if with_code else HistoryReplayer
    monkeypatch.setattr(_home(name), name, _reworded(base, note))
    s = session(waits_for_go if with_code else None, SUSPENDED_PAST, SUSPENDED_NEW)
    frames = [s.frame(i) for i in range(s.total)]
    assert all(f.note == note for f in frames)
    assert [f.processed for f in frames] == [i not in BUFFERED for i in range(s.total)]
    assert frames[4].status == "SUSPENDED"
    assert frames[-1].status == ("COMPLETED" if with_code else "RUNNING")


def test_a_stopped_replay_reports_unprocessed_events_whatever_the_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_home("CodeReplayer"), "CodeReplayer", _reworded(CodeReplayer, "n/a"))
    past = [OS(), started("fails"), task_scheduled(1, "charge")]
    new = [OS(), task_completed(1, '"ok"'), event_raised("late")]
    s = session(fails, past, new)
    frames = [s.frame(i) for i in range(s.total)]
    assert [f.processed for f in frames] == [True, True, True, True, True, False]
    assert frames[4].status == frames[5].status == "FAILED"


@pytest.mark.parametrize("with_code", [False, True])
def test_the_status_shown_is_the_replayers(
    monkeypatch: pytest.MonkeyPatch, with_code: bool
) -> None:
    base = CodeReplayer if with_code else HistoryReplayer

    class Reporting(base):  # type: ignore[misc, valid-type]
        @property
        def status(self) -> str:
            return f"REPORTED-{self._index}"

    monkeypatch.setattr(_home(base.__name__), base.__name__, Reporting)
    s = session(waits_for_go if with_code else None, SUSPENDED_PAST, SUSPENDED_NEW)
    assert [s.frame(i).status for i in range(s.total)] == [f"REPORTED-{i}" for i in range(s.total)]


def test_replayers_report_suspended_status_and_buffering() -> None:
    req = request(SUSPENDED_PAST, SUSPENDED_NEW)
    code = CodeReplayer(req, app_of(waits_for_go))
    hist = HistoryReplayer(req, FrameRecorder(req.event, len(req), req.past_count, False))
    seen = []
    for i in range(len(req)):
        code.apply(i)
        hist.apply(i)
        seen.append((code.status, code.processed, hist.status, hist.processed))
    assert seen[4] == ("SUSPENDED", False, "SUSPENDED", False)
    assert seen[-1] == ("COMPLETED", True, "RUNNING", True)
    assert seen[0] == ("PENDING", True, "PENDING", True)


def test_steps_are_typed_immutable_records_written_only_by_record() -> None:
    s = session(waits_for_go, SUSPENDED_PAST, SUSPENDED_NEW)
    s.advance()
    rec = s.recorder
    assert not hasattr(rec, "steps")  # no list to append to from outside
    step = rec.step_record(4)
    assert isinstance(step, StepRecord)
    assert (step.status, step.suspended, step.processed) == ("SUSPENDED", True, False)
    assert step.note == s.frame(4).note
    with pytest.raises(AttributeError):
        step.status = "RUNNING"  # type: ignore[misc]
    assert rec.last == rec.step_record(s.total - 1)


def test_record_takes_exactly_the_step_record_fields_in_order() -> None:
    # The recorder stores each step in StepRecord's field order: one layout, defined once.
    params = list(inspect.signature(FrameRecorder.record).parameters)[1:]
    assert [p.rstrip("_") for p in params] == list(StepRecord._fields)


# --- the outcome -----------------------------------------------------------------------------


def test_outcome_is_frozen_and_its_failure_is_data() -> None:
    past = [OS(), started("fails"), task_scheduled(1, "charge")]
    new = [OS(), task_completed(1, '"ok"')]
    outcome = replay_request(request(past, new), app_of(fails))
    assert isinstance(outcome, ReplayOutcome)
    assert outcome.failed and outcome.failure is not None
    assert (outcome.failure.error_type, outcome.failure.message) == (
        "builtins.ValueError",
        "card declined",
    )
    assert outcome.nondeterminism is None
    assert isinstance(outcome.actions, tuple)
    assert not hasattr(outcome, "notes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.failure = None  # type: ignore[misc]
    sent = outcome.response.actions[-1].completeOrchestration.failureDetails
    assert (sent.errorType, sent.errorMessage) == ("builtins.ValueError", "card declined")


def test_outcome_failure_is_what_the_response_carries() -> None:
    past = [OS(), started("awaits_failing_task"), task_scheduled(1, "charge")]
    new = [OS(), task_failed(1, "no funds")]
    outcome = replay_request(request(past, new), app_of(awaits_failing_task))
    sent = outcome.response.actions[-1].completeOrchestration.failureDetails
    assert outcome.failure is not None
    assert outcome.failure.to_proto() == sent
    assert outcome.failure.inner is not None and outcome.failure.inner.message == "no funds"
    stepped = session(awaits_failing_task, past, new).outcome()
    assert (stepped.response, stepped.failure) == (outcome.response, outcome.failure)


def test_a_good_turn_has_no_failure() -> None:
    outcome = replay_request(request([], [OS(), started("waits_for_go")]), app_of(waits_for_go))
    assert outcome.failure is None and not outcome.failed


def test_one_nondeterminism_type_through_replay_request_and_the_session() -> None:
    past = [OS(), started("changed"), task_scheduled(1, "charge")]
    new = [OS(), task_completed(1, '"ok"')]
    headless = replay_request(request(past, new), app_of(changed))
    s = session(changed, past, new)
    stepped = s.outcome()
    frame = s.frame(s.total - 1)
    assert engine.NonDeterminismView is NonDeterminism
    for found in (headless.nondeterminism, stepped.nondeterminism, frame.nondeterminism):
        assert type(found) is NonDeterminism
    assert headless.nondeterminism == stepped.nondeterminism == frame.nondeterminism
    nd = headless.nondeterminism
    assert nd is not None and nd.event_index == 2 and "charge" in nd.recorded
    assert headless.failure is not None
    assert headless.failure.error_type == "durabletask.task.NonDeterminismError"


# --- rules written once ----------------------------------------------------------------------


def test_execution_started_finds_the_first_one_in_any_iterable() -> None:
    events = [OS(), started("first", '"a"'), OS(), started("second")]
    found = execution_started(iter(events))
    assert isinstance(found, pb.ExecutionStartedEvent)
    assert (found.name, found.input.value) == ("first", '"a"')
    assert execution_started([OS(), task_completed(1)]) is None
    assert execution_started([]) is None
    req = request([OS()], [started("late")])
    got = req.started()
    assert got is not None and got.orchestration_name == "late"
    assert engine.execution_started is execution_started


def test_one_default_timer_interval() -> None:
    assert engine.DEFAULT_MAXIMUM_TIMER_INTERVAL == timedelta(days=3)
    for fn in (ReplaySession.__init__, replay_request, CodeReplayer.__init__):
        default = inspect.signature(fn).parameters["maximum_timer_interval"].default
        assert default is engine.DEFAULT_MAXIMUM_TIMER_INTERVAL, fn


def test_history_marks_and_session_stops_agree() -> None:
    past = [OS(), started("waits_for_go"), task_scheduled(1, "charge")]
    new = [OS(), task_completed(1, '"ok"'), event_raised("go", '"x"')]
    s = session(None, past, new)
    names = s.event_names()
    breakpoints = [Breakpoint(kind="TASKCOMPLETED"), Breakpoint(name="GO"), Breakpoint(index=0)]
    marked = [
        i for i in range(s.total) if marks_event(breakpoints, i, s.request.event(i).kind, names[i])
    ]
    stops = []
    s.goto(-1)
    while (frame := s.continue_to(breakpoints)) is not None:
        stops.append(frame.index)
    assert marked == stops == [0, 4, 5]
    # the completion is named after its task: a name breakpoint finds it through the session
    assert marks_event([Breakpoint(name="charge")], 4, "taskCompleted", names[4])
    assert not marks_event([Breakpoint(line=3)], 4, "taskCompleted", names[4])


# --- errors ----------------------------------------------------------------------------------


def test_every_engine_error_lives_in_errors_with_a_docstring() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert {c.__name__ for c in classes} >= {
        "InspectorError",
        "LoadError",
        "AppLoadError",
        "OrchestratorNotFound",
        "ReplayError",
        "WorkerError",
    }
    for cls in classes:
        assert issubclass(cls, errors.InspectorError)
        assert cls.__doc__ and "\n" not in cls.__doc__.strip(), cls
    from engine.worker import WorkerError
    from engine.worker._errors import WorkerError as FromWorkerModule

    assert WorkerError is FromWorkerModule is errors.WorkerError
    import engine.replay

    assert not hasattr(engine.replay, "OrchestratorNotRegisteredError")


def test_a_response_without_code_is_a_replay_error() -> None:
    s = session(None, [OS(), started("waits_for_go")], [])
    with pytest.raises(errors.ReplayError, match="needs the orchestrator's code"):
        s.outcome()
