"""The fast paths give the full paths' answers, byte for byte.

- The headless replay (``inspector replay``, the worker) builds the same response as the
  frame-recording session, on every recorded sample and on fuzzed histories.
- Loading through the one-pass base64 decode gives the message the general decode gives.
- The wire scan that lets loading skip the event-by-event range walk never lets a value the
  walk rejects through.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import load
from engine._wire import may_be_out_of_range
from engine.app_loader import load_app
from engine.headless import replay_request
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import ReplaySession
from tests.engine.test_fuzz import REQUESTS, SAMPLES, _request, mutated

APP = load_app("samples.orchestrations")


def _both_responses(request: OrchestrationRequest) -> tuple[bytes, bytes]:
    fast = replay_request(request, APP).response.SerializeToString()
    full = ReplaySession(request, APP).outcome().response.SerializeToString()
    return fast, full


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_headless_response_equals_the_session_response(path: Path) -> None:
    request = load.load_request(path)
    fast, full = _both_responses(request)
    assert fast == full
    assert len(fast) > 0


def test_a_renamed_activity_fails_the_same_headless_and_in_a_session() -> None:
    """The headless replay holds a plain activity's action; a session makes it: the name
    mismatch must fail both the same, the trace (which names the line) included."""
    msg = _request(REQUESTS / "fan_out_fan_in-turn3.b64")
    scheduled = [e for e in msg.pastEvents if e.HasField("taskScheduled")]
    assert len(scheduled) == 4
    for renamed in (0, 2):  # the first, and one the fan-out's loop matches
        scheduled[renamed].taskScheduled.name = "cube"
        fast, full = _both_responses(OrchestrationRequest.from_proto(msg))
        assert b"NonDeterminismError" in fast
        assert fast == full
        scheduled[renamed].taskScheduled.name = "square"


@pytest.mark.parametrize("which", [0, 1, -1])
def test_a_result_that_does_not_decode_fails_the_same_headless_and_in_a_session(
    which: int,
) -> None:
    """A fan-in's result that is not JSON fails the turn; the headless replay completes the
    activity from its own loop, a session through the event's handler: the failure's trace
    (engine frames included) must not tell the two apart. In the past events the session
    holds the task with its expected type; in the new ones, one of the loop's children."""
    msg = _request(REQUESTS / "fan_out_fan_in-turn4.b64")
    completed = [e for e in [*msg.pastEvents, *msg.newEvents] if e.HasField("taskCompleted")]
    completed[which].taskCompleted.result.value = "{"
    fast, full = _both_responses(OrchestrationRequest.from_proto(msg))
    assert b"JSONDecodeError" in fast
    assert fast == full


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_one_pass_base64_equals_the_general_decode(path: Path) -> None:
    data = path.read_bytes()
    assert load._strict_base64(data) is not None
    general = load._decode_base64(data, str(path))
    assert load.load_request_proto(path) == general


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzzed_headless_response_equals_the_session_response(msg: pb.OrchestratorRequest) -> None:
    fast, full = _both_responses(OrchestrationRequest.from_proto(msg))
    assert fast == full


SECONDS = st.one_of(
    st.integers(1_600_000_000, 1_800_000_000),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([load._MIN_SECONDS - 1, load._MIN_SECONDS, load._MAX_SECONDS, 2**35]),
)
NANOS = st.one_of(
    st.integers(0, 999_999_999),
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([-1, 999_999_999, 1_000_000_000, 3 << 28, (1 << 30) - 1]),
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -math.nan]),
)


@st.composite
def ranged_request(draw: st.DrawFn) -> pb.OrchestratorRequest:
    """A request whose times and numbers are anywhere a protobuf can put them."""
    msg = pb.OrchestratorRequest(instanceId="ranges")
    for _ in range(draw(st.integers(1, 6))):
        ev = msg.pastEvents.add(eventId=draw(st.integers(-3, 5)))
        if draw(st.booleans()):
            ev.timestamp.seconds = draw(SECONDS)
            ev.timestamp.nanos = draw(NANOS)
        kind = draw(st.sampled_from(["orchestratorStarted", "timerCreated", "taskFailed"]))
        if kind == "timerCreated":
            ev.timerCreated.fireAt.seconds = draw(SECONDS)
            ev.timerCreated.fireAt.nanos = draw(NANOS)
        elif kind == "taskFailed":
            details = ev.taskFailed.failureDetails
            details.errorType = "E"
            details.properties["x"].number_value = draw(NUMBERS)
        else:
            ev.orchestratorStarted.SetInParent()
    return msg


@settings(max_examples=400, deadline=None)
@given(ranged_request())
def test_the_wire_scan_never_hides_what_the_walk_rejects(msg: pb.OrchestratorRequest) -> None:
    problem = load._out_of_range_walk(msg)
    flagged = may_be_out_of_range(msg.SerializeToString())
    assert flagged or not problem, problem
    assert load._out_of_range(msg) == problem


def test_the_wire_scan_passes_an_ordinary_history() -> None:
    msg = pb.OrchestratorRequest(instanceId="plain")
    for i in range(50):
        ev = msg.pastEvents.add(eventId=-1 if i % 2 else i)
        ev.timestamp.seconds = 1_700_000_000 + i
        ev.timestamp.nanos = (i * 7_919_000) % 1_000_000_000
        ev.taskCompleted.result.value = '{"ok": true}'
    assert not may_be_out_of_range(msg.SerializeToString())
    far = msg.pastEvents.add()
    far.timestamp.seconds = load._MAX_SECONDS + 1
    assert may_be_out_of_range(msg.SerializeToString())
    assert "out of range" in load._out_of_range(msg)


def test_base64_with_line_breaks_still_takes_the_general_decode() -> None:
    text = base64.encodebytes(pb.OrchestratorRequest(instanceId="wrapped").SerializeToString())
    assert load._strict_base64(b" " + text) is None
    assert load.load_request_proto(b" " + text).instanceId == "wrapped"


def test_the_wire_scan_sees_a_nan_whose_last_bytes_look_like_an_event_id() -> None:
    import struct

    nan = struct.unpack("<d", b"\x00" * 6 + b"\xff\xff")[0]
    msg = pb.OrchestratorRequest(instanceId="nan")
    ev = msg.pastEvents.add(eventId=-1)
    ev.taskFailed.failureDetails.properties["x"].number_value = nan
    wire = msg.SerializeToString()
    assert wire.endswith(b"\xff\xff") or b"\xff\xff" in wire
    assert may_be_out_of_range(wire)
    assert "out of range" in load._out_of_range(msg, wire)
