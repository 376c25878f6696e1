"""Long histories for the benchmarks, built as a real sidecar would record them."""

from __future__ import annotations

from typing import Any

from bench.replay_app import chain_orchestrator, fan_out_orchestrator
from engine.proto import orchestrator_service_pb2 as pb

BASE_SECONDS = 1_700_000_000

__all__ = ["activity_chain", "chain_orchestrator", "fan_out", "fan_out_orchestrator"]


def _event(lst: Any, seconds: int, event_id: int = -1) -> pb.HistoryEvent:
    ev = lst.add(eventId=event_id)
    ev.timestamp.seconds = seconds
    return ev


def _started(instance_id: str, name: str, count: int) -> pb.OrchestratorRequest:
    """A request whose past begins the way every turn's history does."""
    req = pb.OrchestratorRequest(instanceId=instance_id)
    _event(req.pastEvents, BASE_SECONDS).orchestratorStarted.SetInParent()
    started = _event(req.pastEvents, BASE_SECONDS).executionStarted
    started.name = name
    started.orchestrationInstance.instanceId = instance_id
    started.input.value = str(count)
    return req


def activity_chain(activities: int, name: str = "chain_orchestrator") -> pb.OrchestratorRequest:
    """A request whose history has ``activities`` completed activities, ~4 events each."""
    req = _started("bench-chain", name, activities)
    past = req.pastEvents
    t = BASE_SECONDS
    for i in range(activities):
        sched = _event(past, t, i + 1).taskScheduled
        sched.name = "work"
        sched.input.value = str(i)
        _event(past, t).orchestratorCompleted.SetInParent()
        t += 1
        lane = req.newEvents if i == activities - 1 else past
        _event(lane, t).orchestratorStarted.SetInParent()
        done = _event(lane, t).taskCompleted
        done.taskScheduledId = i + 1
        done.result.value = "1"
    return req


def fan_out(width: int, name: str = "fan_out_orchestrator") -> pb.OrchestratorRequest:
    """A request with ``width`` activities scheduled at once and all completed."""
    req = _started("bench-fan", name, width)
    past = req.pastEvents
    t = BASE_SECONDS
    for i in range(width):
        sched = _event(past, t, i + 1).taskScheduled
        sched.name = "work"
        sched.input.value = str(i)
    _event(past, t).orchestratorCompleted.SetInParent()
    t += 1
    _event(req.newEvents, t).orchestratorStarted.SetInParent()
    for i in range(width):
        done = _event(req.newEvents, t).taskCompleted
        done.taskScheduledId = i + 1
        done.result.value = "1"
    return req
