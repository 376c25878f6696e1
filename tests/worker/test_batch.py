"""Activity results of one orchestration held until the last one: no process, no sidecar."""

from __future__ import annotations

import threading

from engine.proto import orchestrator_service_pb2 as pb
from engine.worker._batch import ResultBatch
from engine.worker._expected import Expected


def test_results_are_held_until_the_last_one_of_their_group() -> None:
    batch = ResultBatch(hold=3600.0)
    sent: list[str] = []
    batch.add("x", lambda: sent.append("x1"), last=False)
    batch.add("y", lambda: sent.append("y1"), last=False)
    batch.add("x", lambda: sent.append("x2"), last=False)
    assert sent == []
    batch.add("x", lambda: sent.append("x3"), last=True)
    assert sent == ["x1", "x2", "x3"]
    batch.add("z", lambda: sent.append("z1"), last=True)
    assert sent == ["x1", "x2", "x3", "z1"]
    batch.flush()
    assert sent == ["x1", "x2", "x3", "z1", "y1"]


def test_after_a_flush_nothing_is_held() -> None:
    batch = ResultBatch(hold=3600.0)
    sent: list[str] = []
    batch.flush()
    batch.add("x", lambda: sent.append("x1"), last=False)
    assert sent == ["x1"]


def test_a_held_result_goes_out_once_its_hold_ends() -> None:
    batch = ResultBatch(hold=0.0)
    sent = threading.Event()
    batch.add("x", sent.set, last=False)
    assert sent.wait(30.0)
    later = threading.Event()
    batch.add("y", later.set, last=False)
    assert later.wait(30.0)


def test_the_activities_a_turn_schedules_are_owed_until_they_arrive() -> None:
    expected = Expected()
    response = pb.OrchestratorResponse(instanceId="x")
    for task_id in (1, 2, 3):
        response.actions.add(id=task_id).scheduleTask.name = "square"
    expected.turn_sent(response)
    assert expected.activities_owed() == 3
    for task_id in (1, 2):
        expected.activity_arrived(
            pb.ActivityRequest(
                taskId=task_id, orchestrationInstance=pb.OrchestrationInstance(instanceId="x")
            )
        )
    assert expected.activities_owed() == 1
    expected.not_sent("turn", "x", response.SerializeToString())
    assert expected.activities_owed() == 0
