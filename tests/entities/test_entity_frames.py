"""The stepper's frames show entity calls and held locks by entity id and operation.

A recorded transfer turn (SDK worker, fresh) is stepped with code and without: open tasks name
the entity and the operation, never an internal number, and the critical section is derivable
for the state pane from the request until the unlocks.
"""

from __future__ import annotations

import pytest

from engine import load_app
from engine.entities import critical_section_text
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import ReplaySession
from samples.record_entities import TurnRecording, record


@pytest.fixture(scope="module")
def transfer_turn() -> TurnRecording:
    """The last turn of the transfer orchestration (its history holds the whole lock dance)."""
    turns = [t for t in record().turns if t.instance_id == "rec-entity_transfer"]
    return turns[-1]


def _frames(turn: TurnRecording, with_code: bool) -> list:  # type: ignore[type-arg]
    msg = pb.OrchestratorRequest.FromString(turn.request)
    request = OrchestrationRequest.from_proto(msg)
    session = ReplaySession(request, load_app("samples.entities") if with_code else None)
    session.advance()
    return [session.frame(i) for i in range(len(request))]


@pytest.mark.parametrize("with_code", [True, False], ids=["code", "history"])
def test_open_tasks_name_entity_calls_and_held_locks(
    transfer_turn: TurnRecording, with_code: bool
) -> None:
    frames = _frames(transfer_turn, with_code)
    seen = {(t.kind, t.name) for f in frames for t in f.open_tasks}
    calls = {name for kind, name in seen if kind == "entity call"}
    assert "@account@entity_transfer-a withdraw" in calls
    locks = {name for kind, name in seen if kind == "held lock"}
    assert locks == {"@account@entity_transfer-a, @account@entity_transfer-b"}
    notes = " ".join(f.note for f in frames)
    assert "#-" not in notes
    sections = [critical_section_text(f.open_tasks) for f in frames]
    assert any(s and s.startswith("held: @account@entity_transfer-a") for s in sections)
    assert sections[-1] is None  # released by the end of the turn
    if with_code:  # a lock_entities line no longer fails the orchestration
        assert frames[-1].status == "COMPLETED"
        assert frames[-1].failure is None
