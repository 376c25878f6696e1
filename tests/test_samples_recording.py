"""The sample recorder: real SDK turns are captured, complete and committed.

One full recording run (every scenario, a few seconds) is shared by the tests of this module;
the committed files in ``samples/requests`` are checked without running anything.
"""

from __future__ import annotations

import base64
import json
import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path

import durabletask.internal.orchestrator_service_pb2 as pb
import pytest

from samples import orchestrations
from samples.record import (
    INDEX_NAME,
    SCENARIOS,
    Recording,
    RecordingRun,
    load_recordings,
    record_all,
    run_recording,
    write_recordings,
)

COMMITTED = Path(__file__).resolve().parent.parent / "samples" / "requests"

# scenario -> (final status of the main instance, number of turns of the main instance);
# None means the count depends on how activity completions are batched.
EXPECTED_MAIN: dict[str, tuple[str, int | None]] = {
    "single_activity": ("COMPLETED", 2),
    "activity_chain": ("COMPLETED", 5),
    "fan_out_fan_in": ("COMPLETED", None),
    "durable_timer": ("COMPLETED", 2),
    "split_timer": ("COMPLETED", 4),
    "split_timer_or_event": ("COMPLETED", 3),
    "external_event": ("COMPLETED", 2),
    "buffered_event": ("COMPLETED", 3),
    "race_activity_timer": ("COMPLETED", 2),
    "race_event_timer": ("COMPLETED", 2),
    "sub_orchestrations": ("COMPLETED", 3),
    "sub_orchestration_failure": ("COMPLETED", 2),
    "retry_until_success": ("COMPLETED", 6),
    "retry_exhausted": ("FAILED", 6),
    "caught_activity_failure": ("COMPLETED", 3),
    "uncaught_failure": ("FAILED", 2),
    "continue_as_new_counter": ("COMPLETED", 8),
    "continue_as_new_with_events": ("COMPLETED", 7),
    "custom_status": ("COMPLETED", 3),
    "send_event": ("COMPLETED", 2),
    "suspend_resume": ("COMPLETED", 4),
    "terminate": ("TERMINATED", 2),
    "new_uuid": ("COMPLETED", 2),
    "is_replaying": ("COMPLETED", 4),
    "plain_function": ("COMPLETED", 1),
}

# (scenario, role) -> final status, for the instances a scenario creates besides its main one.
EXPECTED_OTHERS: dict[tuple[str, str], str] = {
    ("sub_orchestrations", "0001"): "COMPLETED",
    ("sub_orchestrations", "explicit-child"): "COMPLETED",
    ("sub_orchestration_failure", "failing-child"): "FAILED",
    ("send_event", "sender"): "COMPLETED",
}


@pytest.fixture(scope="module")
def run() -> RecordingRun:
    return run_recording()


def _turns(run: RecordingRun, scenario: str, role: str = "") -> list[Recording]:
    found = [r for r in run.recordings if r.scenario == scenario and r.role == role]
    return sorted(found, key=lambda r: r.turn)


def _completion(response: pb.OrchestratorResponse) -> pb.CompleteOrchestrationAction | None:
    for action in response.actions:
        if action.HasField("completeOrchestration"):
            return action.completeOrchestration
    return None


def _status_name(value: int) -> str:
    return pb.OrchestrationStatus.Name(value).removeprefix("ORCHESTRATION_STATUS_")


def test_expectations_cover_every_scenario() -> None:
    assert set(EXPECTED_MAIN) == set(SCENARIOS)


def test_run_is_fast_and_large(run: RecordingRun) -> None:
    assert run.elapsed_seconds < 30
    assert len(run.recordings) >= 80
    assert {r.scenario for r in run.recordings} == set(SCENARIOS)


def test_every_turn_parses_and_pairs_up(run: RecordingRun) -> None:
    for rec in run.recordings:
        request, response = rec.parsed_request(), rec.parsed_response()
        assert request.instanceId == rec.instance_id == response.instanceId, rec.stem
        assert request.newEvents, rec.stem
        assert request.newEvents[0].HasField("orchestratorStarted"), rec.stem
        assert response.completionToken, rec.stem
        # The serialized bytes round-trip: nothing the recorder kept is unknown to the schema.
        assert request.SerializeToString() == rec.request, rec.stem
        assert response.SerializeToString() == rec.response, rec.stem


def test_turns_are_numbered_per_instance(run: RecordingRun) -> None:
    by_instance: dict[str, list[int]] = {}
    for rec in run.recordings:
        by_instance.setdefault(rec.instance_id, []).append(rec.turn)
    for instance_id, turns in by_instance.items():
        assert sorted(turns) == list(range(1, len(turns) + 1)), instance_id
    assert len({r.stem for r in run.recordings}) == len(run.recordings)


def test_every_sample_orchestrator_produced_a_turn(run: RecordingRun) -> None:
    recorded = {r.orchestrator for r in run.recordings}
    assert recorded == {fn.__name__ for fn in orchestrations.ORCHESTRATORS}


def test_final_statuses_via_the_client(run: RecordingRun) -> None:
    by_owner = {owner: run.final_status[iid] for iid, owner in run.instances.items()}
    for scenario, (status, _) in EXPECTED_MAIN.items():
        assert by_owner[(scenario, "")] == status, scenario
    for owner, status in EXPECTED_OTHERS.items():
        assert by_owner[owner] == status, owner


def test_turn_counts(run: RecordingRun) -> None:
    for scenario, (_, count) in EXPECTED_MAIN.items():
        turns = _turns(run, scenario)
        if count is None:
            assert 3 <= len(turns) <= 6, scenario
        else:
            assert len(turns) == count, scenario
    for scenario, role in EXPECTED_OTHERS:
        assert len(_turns(run, scenario, role)) == 2, (scenario, role)


def test_last_turn_completes_with_the_final_status(run: RecordingRun) -> None:
    for scenario, (status, _) in EXPECTED_MAIN.items():
        done = _completion(_turns(run, scenario)[-1].parsed_response())
        assert done is not None, scenario
        assert _status_name(done.orchestrationStatus) == status, scenario


def test_continue_as_new_turns(run: RecordingRun) -> None:
    counter = [_completion(r.parsed_response()) for r in _turns(run, "continue_as_new_counter")]
    statuses = [_status_name(c.orchestrationStatus) for c in counter if c is not None]
    assert statuses == ["CONTINUED_AS_NEW"] * 3 + ["COMPLETED"]

    carried = []
    continued = pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW
    for rec in _turns(run, "continue_as_new_with_events"):
        done = _completion(rec.parsed_response())
        if done is not None and done.orchestrationStatus == continued:
            carried.append([e.eventRaised.input.value for e in done.carryoverEvents])
    assert carried == [['"item-2"', '"item-3"'], ['"item-3"']]
    last = _completion(_turns(run, "continue_as_new_with_events")[-1].parsed_response())
    assert last is not None
    assert json.loads(last.result.value) == {"items": ["item-1", "item-2", "item-3"]}


def test_split_timer_is_cut_into_chunks(run: RecordingRun) -> None:
    turns = _turns(run, "split_timer")
    timers = [a for r in turns for a in r.parsed_response().actions if a.HasField("createTimer")]
    assert len(timers) == 3
    assert all(r.maximum_timer_interval_seconds == 1.0 for r in turns)
    assert all(r.maximum_timer_interval_seconds is None for r in _turns(run, "durable_timer"))


def test_suspended_event_is_delivered_with_the_resume(run: RecordingRun) -> None:
    third = _turns(run, "suspend_resume")[2].parsed_request()
    kinds = [e.WhichOneof("eventType") for e in third.newEvents]
    assert kinds == ["orchestratorStarted", "eventRaised", "executionResumed"]


def test_retry_reuses_the_action_id(run: RecordingRun) -> None:
    scheduled = [
        a.id
        for r in _turns(run, "retry_until_success")
        for a in r.parsed_response().actions
        if a.HasField("scheduleTask")
    ]
    assert scheduled == [1, 1, 1]
    done = _completion(_turns(run, "retry_until_success")[-1].parsed_response())
    assert done is not None
    assert json.loads(done.result.value) == "flaky succeeded on attempt 3"


def test_is_replaying_flags_are_recorded(run: RecordingRun) -> None:
    done = _completion(_turns(run, "is_replaying")[-1].parsed_response())
    assert done is not None
    assert json.loads(done.result.value) == [True, True, True, False]


def test_subset_and_unknown_names() -> None:
    recordings = record_all(scenarios=["plain_function", "single_activity"])
    assert Counter(r.scenario for r in recordings) == {"plain_function": 1, "single_activity": 2}
    with pytest.raises(ValueError, match="no_such_scenario"):
        record_all(scenarios=["no_such_scenario"])


def test_written_files_round_trip(run: RecordingRun, tmp_path: Path) -> None:
    write_recordings(run, tmp_path)
    loaded = load_recordings(tmp_path)
    assert [r.stem for r in loaded] == [r.stem for r in run.recordings]
    for original, copy in zip(run.recordings, loaded, strict=True):
        if b'File "' not in original.request:
            assert copy.request == original.request
        assert copy.parsed_request().instanceId == original.instance_id
        assert b"/site-packages/" not in copy.request + copy.response


# ---------------------------------------------------------------------------------------------
# Committed recordings
# ---------------------------------------------------------------------------------------------


def _committed_index() -> dict:
    return json.loads((COMMITTED / INDEX_NAME).read_text())


def test_committed_files_decode() -> None:
    entries = _committed_index()["recordings"]
    assert len(entries) >= 40
    for entry in entries:
        request_text = (COMMITTED / entry["request"]).read_text()
        assert request_text.count("\n") == 1 and request_text.endswith("\n"), entry["request"]
        request = pb.OrchestratorRequest()
        request.ParseFromString(base64.b64decode(request_text.strip(), validate=True))
        assert len(request.pastEvents) + len(request.newEvents) >= 1, entry["request"]
        assert request.instanceId == entry["instance_id"]
        response = pb.OrchestratorResponse()
        response_bytes = (COMMITTED / entry["response"]).read_text().strip()
        response.ParseFromString(base64.b64decode(response_bytes, validate=True))
        assert response.instanceId == entry["instance_id"]


def test_committed_files_cover_the_samples() -> None:
    index = _committed_index()
    entries = index["recordings"]
    orchestrators = {e["orchestrator"] for e in entries}
    assert len(orchestrators) >= 14
    assert orchestrators == {fn.__name__ for fn in orchestrations.ORCHESTRATORS}
    assert set(index["scenarios"]) == set(SCENARIOS)
    listed = {e["request"] for e in entries} | {e["response"] for e in entries}
    on_disk = {p.name for p in COMMITTED.glob("*.b64")}
    assert listed == on_disk


def _comparable(response: pb.OrchestratorResponse) -> pb.OrchestratorResponse:
    """Drop what the SDK worker fills per process: trace context, token, stack traces."""
    copy = pb.OrchestratorResponse()
    copy.CopyFrom(response)
    copy.ClearField("orchestrationTraceContext")
    copy.ClearField("completionToken")
    for action in copy.actions:
        if action.HasField("completeOrchestration"):
            details = action.completeOrchestration.failureDetails
            while True:
                details.ClearField("stackTrace")
                if not details.HasField("innerFailure"):
                    break
                details = details.innerFailure
    return copy


def test_sdk_executor_reproduces_every_committed_response() -> None:
    """The golden pairs are self-consistent: the SDK's own replay gives the recorded answer.

    This uses the SDK's private executor as the reference, in a test only.
    """
    from durabletask import worker as sdk_worker
    from durabletask.serialization import JsonDataConverter

    registry = orchestrations.register(sdk_worker._Registry())
    quiet = logging.getLogger("tests.samples.replay")
    quiet.setLevel(logging.CRITICAL)
    mismatches = []
    for rec in load_recordings(COMMITTED):
        interval = (
            timedelta(seconds=rec.maximum_timer_interval_seconds)
            if rec.maximum_timer_interval_seconds is not None
            else sdk_worker.DEFAULT_MAXIMUM_TIMER_INTERVAL
        )
        executor = sdk_worker._OrchestrationExecutor(
            registry, quiet, JsonDataConverter(), maximum_timer_interval=interval
        )
        request = rec.parsed_request()
        result = executor.execute(request.instanceId, request.pastEvents, request.newEvents)
        replayed = pb.OrchestratorResponse(instanceId=request.instanceId, actions=result.actions)
        if result.encoded_custom_status is not None:
            replayed.customStatus.value = result.encoded_custom_status
        if _comparable(replayed) != _comparable(rec.parsed_response()):
            mismatches.append(rec.stem)
    assert mismatches == []
