"""The engine survives any history: shuffled, truncated, renumbered or foreign events.

Whatever the events, a replay ends with a response (a failure in the response at worst) and
every frame can be built, with code and without; nothing escapes as an exception.
"""

from __future__ import annotations

import base64
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.app_loader import load_app
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import ReplaySession, replay_request

REQUESTS = Path(__file__).resolve().parents[2] / "samples" / "requests"
SAMPLES = sorted(p for p in REQUESTS.glob("*.b64") if not p.name.endswith(".response.b64"))
APP = load_app("samples.orchestrations")


def _request(path: Path) -> pb.OrchestratorRequest:
    return pb.OrchestratorRequest.FromString(base64.b64decode(path.read_text()))


@st.composite
def mutated(draw: st.DrawFn) -> pb.OrchestratorRequest:
    """A recorded request with its events dropped, duplicated, moved, renumbered, blanked or
    given a result that is not JSON."""
    msg = _request(draw(st.sampled_from(SAMPLES)))
    events = list(msg.pastEvents) + list(msg.newEvents)
    for _ in range(draw(st.integers(0, 6))):
        if not events:
            break
        i = draw(st.integers(0, len(events) - 1))
        op = draw(
            st.sampled_from(["drop", "dup", "move", "renumber", "retarget", "blank", "garble"])
        )
        ev = pb.HistoryEvent()
        ev.CopyFrom(events[i])
        if op == "drop":
            del events[i]
        elif op == "dup":
            events.insert(draw(st.integers(0, len(events))), ev)
        elif op == "move":
            del events[i]
            events.insert(draw(st.integers(0, len(events))), ev)
        elif op == "renumber":
            ev.eventId = draw(st.integers(-3, 12))
            events[i] = ev
        elif op == "retarget":
            which = ev.WhichOneof("eventType")
            body = getattr(ev, which) if which else None
            for field in ("taskScheduledId", "timerId"):
                if body is not None and field in body.DESCRIPTOR.fields_by_name:
                    setattr(body, field, draw(st.integers(-2, 12)))
            events[i] = ev
        elif op == "garble":  # a result that is not JSON
            if ev.HasField("taskCompleted"):
                ev.taskCompleted.result.value = "{"
            events[i] = ev
        else:
            ev.ClearField(ev.WhichOneof("eventType") or "eventId")
            events[i] = ev
    split = draw(st.integers(0, len(events)))
    out = pb.OrchestratorRequest(instanceId=msg.instanceId)
    out.pastEvents.extend(events[:split])
    out.newEvents.extend(events[split:])
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_histories_replay_to_a_response(msg: pb.OrchestratorRequest) -> None:
    request = OrchestrationRequest.from_proto(msg)
    outcome = replay_request(request, APP)
    assert outcome.response.instanceId == msg.instanceId
    if outcome.nondeterminism is not None:
        assert outcome.failed
    session = ReplaySession(request, APP)
    last = session.run_to_end()
    assert last.index == len(request) - 1
    if len(request):
        assert session.frame(len(request) // 2).index == len(request) // 2
        assert session.back().index == len(request) - 2
    history = ReplaySession(request)
    assert history.run_to_end().index == len(request) - 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_events_never_break_history_only_or_code_replay(data: bytes) -> None:
    msg = pb.OrchestratorRequest(instanceId="fuzz")
    started = msg.newEvents.add()
    started.executionStarted.name = "activity_chain"
    try:
        event = pb.HistoryEvent.FromString(data)
    except Exception:  # noqa: BLE001 - not a HistoryEvent: nothing to test
        return
    msg.newEvents.append(event)
    msg.newEvents.append(event)
    request = OrchestrationRequest.from_proto(msg)
    frames = [ReplaySession(request).frame(i) for i in range(len(request))]
    assert len(frames) == 3
    outcome = replay_request(request, APP)
    assert outcome.response.instanceId == "fuzz"
