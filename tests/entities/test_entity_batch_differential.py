"""Recorded entity batches (the SDK worker's, fresh) give the SDK worker's results here."""

from __future__ import annotations

import pytest
from batch_compare import normalized_batch

from engine import load_app
from engine.entity_batch import run_batch
from engine.proto import orchestrator_service_pb2 as pb
from samples.record_entities import BatchRecording, record


@pytest.fixture(scope="module")
def batches() -> list[BatchRecording]:
    return record().batches


def _item(batch: BatchRecording) -> pb.WorkItem:
    request = pb.EntityRequest.FromString(batch.request)
    token = pb.EntityBatchResult.FromString(batch.result).completionToken
    return pb.WorkItem(entityRequestV2=request, completionToken=token)


def test_every_recorded_batch_gives_the_sdk_result(batches: list[BatchRecording]) -> None:
    entities = load_app("samples.entities").entities
    assert len(batches) >= 15
    mismatches = []
    for batch in batches:
        ours = normalized_batch(run_batch(entities, _item(batch)).result)
        theirs = normalized_batch(batch.result)
        if ours != theirs:
            mismatches.append((batch.instance_id, ours, theirs))
    assert not mismatches, mismatches[:2]


def test_the_batches_hold_failures_actions_deletes_and_replies(
    batches: list[BatchRecording],
) -> None:
    """Not vacuous: the compared results fail operations, send signals, delete state."""
    results = [pb.EntityBatchResult.FromString(b.result) for b in batches]
    assert any(r.HasField("failure") for res in results for r in res.results)
    assert any(a.HasField("sendSignal") for res in results for a in res.actions)
    assert any(not res.HasField("entityState") for res in results)
    assert any(i.HasField("responseDestination") for res in results for i in res.operationInfos)


def test_the_v1_shape_runs_the_same_operations_without_operation_infos() -> None:
    entities = load_app("samples.entities").entities
    v1 = pb.EntityBatchRequest(instanceId="@counter@v1")
    v1.entityState.value = "10"
    for op, data in (("add", "5"), ("boom", None), ("get", None)):
        request = v1.operations.add(operation=op, requestId=f"r-{op}")
        if data is not None:
            request.input.value = data
    outcome = run_batch(entities, pb.WorkItem(entityRequest=v1, completionToken="t1"))
    result = outcome.result
    assert result.completionToken == "t1"
    assert [r.success.result.value for r in result.results if r.HasField("success")] == ["15", "15"]
    assert result.results[1].failure.failureDetails.errorType == "builtins.ValueError"
    assert result.entityState.value == "15"
    assert not result.operationInfos
    assert [(s.state_before, s.state_after) for s in outcome.steps] == [
        ("10", "15"),
        ("15", "15"),
        ("15", "15"),
    ]


def test_a_malformed_entity_id_fails_each_operation_instead_of_looping() -> None:
    v1 = pb.EntityBatchRequest(instanceId="not-an-entity")
    v1.operations.add(operation="get", requestId="r1")
    result = run_batch({}, pb.WorkItem(entityRequest=v1, completionToken="t")).result
    assert result.results[0].failure.failureDetails.errorMessage.startswith(
        "Invalid entity instance ID 'not-an-entity'"
    )
