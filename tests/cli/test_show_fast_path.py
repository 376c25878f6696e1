"""``inspector show`` reads its rows straight from the messages: the same text as the dataclasses.

The listing and the ``--json`` document must equal, byte for byte, what the former path
(every event converted to its dataclass, one dict tree encoded at once; kept in
``show_reference.py``) writes, on every sample and on requests that hold every event kind
with every field set, none set, and odd values.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.errors import LoadError
from engine.event_rows import event_rows
from engine.history import OrchestrationRequest
from engine.load import load_recording
from engine.proto import orchestrator_service_pb2 as pb
from inspector.cli_show import show_document, show_json, show_text
from inspector.formatting import iso_ms
from inspector.show_events import Stamp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from show_reference import reference_json, reference_text  # noqa: E402
from wire_filler import Filler  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KINDS = [f.name for f in pb.HistoryEvent.DESCRIPTOR.oneofs_by_name["eventType"].fields]


def _sample_requests() -> list[Path]:
    found = []
    for path in sorted((ROOT / "samples").rglob("*")):
        if path.suffix not in (".b64", ".json") or not path.is_file():
            continue
        try:
            loaded = load_recording(str(path))
        except LoadError:
            continue
        if isinstance(loaded, OrchestrationRequest):
            found.append(path)
    return found


SAMPLES = _sample_requests()


def _same(load: Callable[[], OrchestrationRequest]) -> None:
    """Both paths, each on a freshly loaded request (neither sees the other's conversions);
    and the rows read from the messages equal the rows read from the dataclasses (``show``
    reads the latter when the replay has converted the events, else the former)."""
    assert show_text(load()) == reference_text(load())
    assert show_json(load()) == reference_json(load())
    from_messages = load()
    rows = event_rows(from_messages)
    assert not from_messages.converted
    converted = load()
    assert converted.events is not None and converted.converted
    assert rows == event_rows(converted)


def test_there_are_samples_of_both_dialects() -> None:
    assert len(SAMPLES) > 100
    assert any(load_recording(str(p)).dapr is not None for p in SAMPLES)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_every_sample_shows_as_the_dataclass_path_shows_it(path: Path) -> None:
    _same(lambda: load_recording(str(path)))


def _wrapped(msg: pb.OrchestratorRequest) -> Callable[[], OrchestrationRequest]:
    data = msg.SerializeToString()
    return lambda: OrchestrationRequest(pb.OrchestratorRequest.FromString(data))


def test_every_kind_with_every_field_set() -> None:
    msg = pb.OrchestratorRequest(instanceId="every-kind")
    for number, kind in enumerate(KINDS):
        for lane in (msg.pastEvents, msg.newEvents):
            event = Filler({"eventType": kind}).fill(pb.HistoryEvent())
            event.eventId = number
            lane.append(event)
    _same(_wrapped(msg))


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_with_no_field_set(kind: str) -> None:
    msg = pb.OrchestratorRequest()
    for lane in (msg.pastEvents, msg.newEvents):
        getattr(lane.add(eventId=-1), kind).SetInParent()
    _same(_wrapped(msg))


def test_odd_values() -> None:
    msg = pb.OrchestratorRequest(instanceId='odd ☃ "quoted" \\ \n\t')
    first = msg.pastEvents.add(eventId=1)
    first.timestamp.seconds = -62_135_596_800  # year 1: strftime writes no leading zeros
    first.taskScheduled.name = "x\u0000y\u2028z" * 20
    first.taskScheduled.input.value = "blob:v1:payloads:abc-123"  # a stored payload's token
    timer = msg.pastEvents.add(eventId=2)
    timer.timestamp.nanos = 999_999_999
    timer.timerCreated.fireAt.seconds = 253_402_300_799
    timer.timerCreated.fireAt.nanos = 999_999_999
    msg.pastEvents.add(eventId=3)  # no event member at all
    done = msg.pastEvents.add(eventId=4).taskCompleted
    done.taskScheduledId = 1
    done.result.value = "line one\nline two\t" + "é" * 80
    empty = msg.newEvents.add(eventId=-5).taskCompleted
    empty.taskScheduledId = 99
    empty.result.value = ""
    raised = msg.newEvents.add(eventId=-7).eventRaised
    raised.name = "Ümlaut"
    raised.input.value = " padded payload   "
    msg.newEvents.add(eventId=8).executionCompleted.orchestrationStatus = 42
    failed = msg.newEvents.add(eventId=9).executionCompleted
    failed.orchestrationStatus = 3
    failed.failureDetails.errorType = "E"
    failed.failureDetails.isNonRetriable = True
    _same(_wrapped(msg))


def test_a_long_chain_of_turns() -> None:
    msg = pb.OrchestratorRequest(instanceId="chain")
    started = msg.pastEvents.add(eventId=-1).executionStarted
    started.name = "chain"
    started.input.value = "1"
    for turn in range(300):
        lane = msg.newEvents if turn == 299 else msg.pastEvents
        head = lane.add(eventId=-1)
        head.timestamp.seconds = 1_700_000_000 + turn * 3_599
        head.timestamp.nanos = turn * 3_333_333
        head.orchestratorStarted.SetInParent()
        lane.add(eventId=turn).taskScheduled.name = f"step{turn % 3}"
        done = lane.add(eventId=-1).taskCompleted
        done.taskScheduledId = turn
        done.result.value = f'{{"turn": {turn}}}'
        lane.add(eventId=-1).orchestratorCompleted.SetInParent()
    _same(_wrapped(msg))


def test_the_empty_request() -> None:
    _same(_wrapped(pb.OrchestratorRequest(instanceId="empty")))


def test_the_document_is_the_json_text() -> None:
    msg = pb.OrchestratorRequest(instanceId="doc")
    msg.pastEvents.add(eventId=0).taskScheduled.name = "a"
    document = show_document(_wrapped(msg)())
    assert document["events"][0]["details"]["task_name"] == "a"
    assert document["format"] == "durable-inspector/show/1"


def test_the_times_are_written_as_iso_ms_writes_them() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    draw = random.Random(16)
    stamp = Stamp()
    seconds = [1, -1, 86_399, 86_400, -62_135_596_800, 253_402_300_799]
    seconds += [draw.randint(-62_135_596_800, 253_402_300_799) for _ in range(5_000)]
    for second in seconds:
        for micro in (0, 999, 1_000, 999_999, draw.randint(0, 999_999)):
            value = epoch + timedelta(seconds=second, microseconds=micro)
            assert stamp(value) == iso_ms(value)
    assert stamp(epoch) is None  # the zero time is unknown
    assert stamp(None) is None


def test_the_epoch_is_the_events_epoch() -> None:
    from engine.event_rows import EPOCH
    from engine.events import EPOCH as EVENTS_EPOCH

    assert EPOCH == EVENTS_EPOCH


def test_zero_and_absent_timestamps_in_a_row() -> None:
    msg = pb.OrchestratorRequest(instanceId="zero")
    for present in (True, False, False, True, True, False, True):
        event = msg.pastEvents.add(eventId=-1)
        event.orchestratorStarted.SetInParent()
        if present:  # the zero time, set: "1970-01-01T00:00:00Z" in the details
            event.timestamp.SetInParent()
    done = msg.pastEvents.add(eventId=-1)
    done.timestamp.seconds = 5
    done.taskCompleted.taskScheduledId = 3
    again = msg.pastEvents.add(eventId=-1)
    again.timestamp.SetInParent()
    again.orchestratorCompleted.SetInParent()
    _same(_wrapped(msg))


def test_rows_without_details_leave_out_only_the_version_and_tags() -> None:
    """And hold each time as the raw clock token it stands for (the zero time as a datetime)."""
    from engine.clock import clock_from_token

    msg = pb.OrchestratorRequest(instanceId="details")
    first = msg.pastEvents.add(eventId=0)
    first.timestamp.seconds = 1_700_000_000
    first.timestamp.nanos = 123_456_789
    scheduled = first.taskScheduled
    scheduled.name = "a"
    scheduled.version.value = "2"
    scheduled.input.value = "1"
    scheduled.tags["k"] = "v"
    msg.pastEvents.add(eventId=-1).taskCompleted.taskScheduledId = 0
    msg.pastEvents.add(eventId=-1).timestamp.SetInParent()  # the zero time, set
    msg.pastEvents[-1].orchestratorStarted.SetInParent()
    request = _wrapped(msg)()
    full, bare = event_rows(request), event_rows(request, details=False)
    assert full[0][6] == ("a", "2", "1", {"k": "v"})
    assert bare[0][6] == ("a", None, "1", {})
    assert bare[0][2] == (1_700_000_000, 123_456_789)
    assert [clock_from_token(row[2]) for row in bare] == [row[2] for row in full]
    assert [row[:2] + row[3:6] for row in bare] == [row[:2] + row[3:6] for row in full]
    assert bare[1:] == full[1:]


def test_raw_times_are_written_as_their_datetimes_are() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    draw = random.Random(17)
    seconds = [0, 1, -1, 86_399, 86_400, -62_135_596_800, 253_402_300_799]
    seconds += [draw.randint(-62_135_596_800, 253_402_300_799) for _ in range(2_000)]
    keys = [(s, n) for s in seconds for n in (0, 999, 1_000, 999_999_999, draw.randint(0, 10**9))]
    keys += [(0, -1), (5, 1_000_000_000), (5, -3_000_000)]  # odd nanos: as a datetime holds them
    texts = Stamp().texts(keys)
    for s, n in keys:
        assert texts[(s, n)] == Stamp()(epoch + timedelta(seconds=s, microseconds=n // 1000))


@pytest.mark.parametrize("n", [1, 9, 10, 999, 1000, 1001, 2000, 9999, 10_000, 10_001, 123_457])
def test_the_index_cells_are_the_formatted_indexes(n: int) -> None:
    from inspector.show_events import _index_cells

    width = max(1, len(str(n - 1)))
    assert _index_cells(n, width) == [f"\n{i:>{width}}  " for i in range(n)]
    assert _index_cells(n, width + 2) == [f"\n{i:>{width + 2}}  " for i in range(n)]


def test_the_lane_cells_are_the_formatted_ids() -> None:
    from inspector.show_events import _lane_cells

    ids = [-1, 0, 5, -1, 123, 5, -1, 7]
    for n_past in range(len(ids) + 1):
        expected = [f"{'past' if i < n_past else 'new '}  {eid:>4}  " for i, eid in enumerate(ids)]
        assert _lane_cells(ids, n_past, 4) == expected
