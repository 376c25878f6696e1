"""``inspector show``'s final state (:func:`engine.history_final.final_state`) is the session's.

``show`` replays the history only to its end, from its listing rows, keeping only what is open
now; the stepper records every frame. Both must agree on every field ``show`` prints, on every
sample, on every event kind, and on histories that suspend, retry, reuse ids and rewind.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import LoadError
from engine.event_rows import event_rows
from engine.history import OrchestrationRequest
from engine.history_final import BOOKKEEPING, BufferedEvent, FinalState, OpenTask, final_state
from engine.load import load_recording
from engine.proto import orchestrator_service_pb2 as pb
from engine.rewind import rewind_view
from engine.session import ReplaySession
from inspector import cli_show

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wire_filler import Filler  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KINDS = [f.name for f in pb.HistoryEvent.DESCRIPTOR.oneofs_by_name["eventType"].fields]


def _samples() -> list[Path]:
    found = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.suffix not in (".b64", ".json") or not path.is_file():
            continue
        try:
            if isinstance(load_recording(str(path)), OrchestrationRequest):
                found.append(path)
        except LoadError:
            continue
    return found


SAMPLES = _samples()


def _fields(state: object) -> tuple[object, ...]:
    """The state's fields, its open tasks and buffered events as tuples of their fields (the
    final state's own lightweight records, the frame's dataclasses)."""
    values = [getattr(state, name) for name in FinalState._fields]
    for at, record in ((3, OpenTask), (4, BufferedEvent)):
        values[at] = tuple(
            tuple(getattr(item, name) for name in record._fields) for item in values[at]
        )
    return tuple(values)


def test_the_records_hold_the_frames_fields() -> None:
    from dataclasses import fields

    from engine import frames

    assert OpenTask._fields == tuple(f.name for f in fields(frames.OpenTask))
    assert BufferedEvent._fields == tuple(f.name for f in fields(frames.BufferedEvent))
    assert BOOKKEEPING == frames.BOOKKEEPING
    assert FinalState._fields[3:5] == ("open_tasks", "buffered_events")


def _same(load: Callable[[], OrchestrationRequest]) -> None:
    """The session's last frame, and the final state from the rows read from the messages and
    from the dataclasses (``show`` reads either), hold the same values."""
    frame = ReplaySession(load()).run_to_end()
    request = load()
    rows = event_rows(request)
    if rewind_view(request.proto, kinds=[r[0] for r in rows]) is not None:
        assert _fields(cli_show.final_state(request, rows, rewind_view(request.proto))) == (
            _fields(frame)
        )
        return
    assert _fields(final_state(request, rows)) == _fields(frame)
    assert _fields(final_state(request, event_rows(request, details=False))) == _fields(frame)
    converted = load()
    assert converted.events is not None
    assert _fields(final_state(converted, event_rows(converted))) == _fields(frame)


def _wrapped(msg: pb.OrchestratorRequest) -> Callable[[], OrchestrationRequest]:
    data = msg.SerializeToString()
    return lambda: OrchestrationRequest(pb.OrchestratorRequest.FromString(data))


def test_there_are_samples() -> None:
    assert len(SAMPLES) > 100


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_every_sample(path: Path) -> None:
    _same(lambda: load_recording(str(path)))


def test_every_kind_with_every_field_set() -> None:
    msg = pb.OrchestratorRequest(instanceId="every-kind")
    for number, kind in enumerate(KINDS):
        event = Filler({"eventType": kind}).fill(pb.HistoryEvent())
        event.eventId = number
        msg.pastEvents.append(event)
    _same(_wrapped(msg))


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_alone_with_no_field_set(kind: str) -> None:
    msg = pb.OrchestratorRequest(instanceId="one")
    getattr(msg.pastEvents.add(eventId=-1), kind).SetInParent()
    _same(_wrapped(msg))


def _event(msg: pb.OrchestratorRequest, kind: str, event_id: int = -1, **fields: object) -> None:
    member = getattr(msg.pastEvents.add(eventId=event_id), kind)
    member.SetInParent()
    for name, value in fields.items():
        target = getattr(member, name)
        if hasattr(target, "value"):
            target.value = value
        else:
            setattr(member, name, value)


def test_suspension_retries_and_reused_ids() -> None:
    msg = pb.OrchestratorRequest(instanceId="odd")
    msg.pastEvents.add(eventId=-1).orchestratorStarted.SetInParent()
    msg.pastEvents[-1].timestamp.seconds = 1_700_000_000
    _event(msg, "executionStarted", name="o")
    _event(msg, "taskScheduled", 0, name="a")
    _event(msg, "taskScheduled", 0, name="a again")  # the same id, opened twice
    _event(msg, "taskScheduled", -4, name="below -1")
    _event(msg, "executionSuspended")
    _event(msg, "eventRaised", name="held", input='"x"')
    _event(msg, "orchestratorStarted")
    _event(msg, "taskCompleted", taskScheduledId=0)  # held while suspended
    _event(msg, "executionResumed")
    _event(msg, "timerCreated", 7)
    _event(msg, "taskCompleted", taskScheduledId=99)  # completes nothing open
    _event(msg, "executionSuspended")
    _event(msg, "taskScheduled", 8, name="while suspended")
    _same(_wrapped(msg))


def test_random_histories_of_the_common_kinds() -> None:
    draw = random.Random(16)
    common = ["orchestratorStarted", "orchestratorCompleted", "taskScheduled", "taskCompleted"]
    rare = ["executionStarted", "executionCompleted", "timerCreated", "timerFired", "eventRaised"]
    rare += ["executionSuspended", "executionResumed", "taskFailed", "executionTerminated"]
    for _ in range(40):
        msg = pb.OrchestratorRequest(instanceId="random")
        for _ in range(draw.randint(0, 60)):
            kind = draw.choice(common * 4 + rare)
            event = msg.pastEvents.add(eventId=draw.randint(-3, 6))
            if draw.random() < 0.7:  # else none: the clock stays where it was
                event.timestamp.seconds = draw.randint(0, 2_000_000_000)
            member = getattr(event, kind)
            member.SetInParent()
            if kind in ("taskCompleted", "taskFailed"):
                member.taskScheduledId = draw.randint(-3, 6)
            elif kind == "timerFired":
                member.timerId = draw.randint(-3, 6)
            elif kind == "taskScheduled":
                member.name = draw.choice("abc")
            elif kind == "executionCompleted":
                member.orchestrationStatus = draw.randint(0, 8)
        _same(_wrapped(msg))


def test_random_histories_of_the_plain_kinds_read_at_once() -> None:
    """A history of only :data:`engine.history_final.PLAIN` kinds is read from its rows at
    once (no replay), with the session's answer: ids reused, completed before scheduled or
    twice, timers mixed with tasks, clocks absent."""
    from engine import history_final

    draw = random.Random(61)
    kinds = sorted(history_final.PLAIN)
    for _ in range(60):
        msg = pb.OrchestratorRequest(instanceId="plain")
        for _ in range(draw.randint(0, 50)):
            kind = draw.choice(kinds)
            event = msg.pastEvents.add(eventId=draw.randint(-1, 5))
            if draw.random() < 0.6:
                event.timestamp.seconds = draw.randint(0, 2_000_000_000)
            member = getattr(event, kind)
            member.SetInParent()
            if kind == "taskCompleted":
                member.taskScheduledId = draw.randint(-3, 5)
            elif kind == "timerFired":
                member.timerId = draw.randint(-3, 5)
            elif kind == "timerCreated" and draw.random() < 0.7:
                member.fireAt.seconds = draw.randint(0, 2_000_000_000)
            elif kind == "taskScheduled":
                member.name = draw.choice("abc")
        load = _wrapped(msg)
        frame = ReplaySession(load()).run_to_end()
        converted = load()
        assert converted.events is not None
        for request, details in ((load(), True), (load(), False), (converted, True)):
            ends: tuple[dict[int, int], dict[int, int]] = ({}, {})
            rows = event_rows(request, details=details, ends=ends)
            row_kinds = [r[0] for r in rows]
            counts = Counter(row_kinds)
            for given in (ends, None):  # the ends the rows were read with, or found from them
                state = history_final._plain_state(rows, row_kinds, counts, given)
                assert state is not None
                assert _fields(state) == _fields(frame)
            assert _fields(final_state(request, rows, row_kinds, counts, ends)) == _fields(frame)


def test_a_task_below_minus_one_is_left_to_the_replay() -> None:
    from engine import history_final

    msg = pb.OrchestratorRequest(instanceId="below")
    _event(msg, "taskScheduled", -4, name="below -1")
    rows = event_rows(_wrapped(msg)())
    kinds = [r[0] for r in rows]
    assert history_final._plain_state(rows, kinds, Counter(kinds)) is None
    _same(_wrapped(msg))
