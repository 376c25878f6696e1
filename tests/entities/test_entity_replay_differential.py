"""Differential tests: turns that use entities replay to the SDK executor's response.

The turns are recorded fresh from the SDK's worker on its in-memory sidecar, driven by its
client (:mod:`samples.record_entities`); each one is replayed by our engine and the responses
are compared field by field.
"""

from __future__ import annotations

import pytest
from replay_compare import normalized, parse_response

from engine import load_app, replay_request
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from samples.record_entities import EXPECTED_STATUS, EntityRun, record


@pytest.fixture(scope="module")
def run() -> EntityRun:
    return record()


def _replay(request: bytes) -> pb.OrchestratorResponse:
    msg = pb.OrchestratorRequest()
    msg.ParseFromString(request)
    outcome = replay_request(OrchestrationRequest.from_proto(msg), load_app("samples.entities"))
    return outcome.response


def test_the_sdk_run_ended_as_expected(run: EntityRun) -> None:
    assert run.final_status == EXPECTED_STATUS
    assert run.client_entity_state == "3"


def test_every_entity_turn_replays_to_the_sdk_response(run: EntityRun) -> None:
    assert len(run.turns) >= 20
    mismatches = []
    for turn in run.turns:
        ours = normalized(_replay(turn.request))
        theirs = normalized(parse_response(turn.response))
        if ours != theirs:
            mismatches.append((turn.instance_id, ours, theirs))
    assert not mismatches, mismatches[:2]


def test_the_turns_hold_every_entity_message(run: EntityRun) -> None:
    """Not vacuous: the compared responses carry calls, signals, locks and unlocks."""
    kinds = set()
    for turn in run.turns:
        for action in parse_response(turn.response).actions:
            if action.HasField("sendEntityMessage"):
                kinds.add(action.sendEntityMessage.WhichOneof("EntityMessageType"))
    assert kinds == {
        "entityOperationCalled",
        "entityOperationSignaled",
        "entityLockRequested",
        "entityUnlockSent",
    }
