"""Rewinding a failed orchestration, as the durabletask Python SDK's executor handles it.

A turn whose new events hold ``executionRewound`` while its past events hold
``executionCompleted`` is a rewind: nothing is replayed. The answer is one action
(``id`` -1, ``rewindOrchestration``) carrying the history the orchestration restarts from: every
event of the turn except the failures (``taskFailed``, the ``taskScheduled`` of each failed
activity, so it is scheduled again, ``subOrchestrationInstanceFailed``) and
``executionCompleted``, with ``executionStarted`` given a new execution id (and, for a
sub-orchestration, its parent's new execution id). The SDK requires the new events to be exactly
``orchestratorStarted`` and ``executionRewound``. Without ``executionCompleted`` in the past, the
rewound event only wakes up a normal replay.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import chain
from typing import Any

from engine.proto import orchestrator_service_pb2 as pb


@dataclass(frozen=True)
class RewindChange:
    """What a rewind dropped from the history (for people: the stepper and the log)."""

    failed_activities: tuple[int, ...]
    """Task ids of the failed activities, scheduled again after the rewind."""
    failed_sub_orchestrations: tuple[int, ...]
    """Task ids of the failed sub-orchestrations (rewound in turn by the backend)."""
    dropped_events: int
    """How many events the new history leaves out."""


def is_rewind(msg: pb.OrchestratorRequest) -> bool:
    """Whether the request is a rewind turn (rather than a replay)."""
    rewound = any(e.WhichOneof("eventType") == "executionRewound" for e in msg.newEvents)
    return rewound and any(
        e.WhichOneof("eventType") == "executionCompleted" for e in msg.pastEvents
    )


def _kept(event: Any, failed_ids: set[int]) -> bool:
    kind = event.WhichOneof("eventType")
    if kind in ("taskFailed", "subOrchestrationInstanceFailed", "executionCompleted"):
        return False
    return not (kind == "taskScheduled" and event.eventId in failed_ids)


def rewind_history(
    msg: pb.OrchestratorRequest, execution_id: str | None = None
) -> tuple[list[pb.HistoryEvent], RewindChange]:
    """The history the orchestration restarts from, and what was left out.

    Raises:
        ValueError: the new events are not exactly ``orchestratorStarted`` and
            ``executionRewound`` (the SDK's own message).
    """
    new = msg.newEvents
    if len(new) != 2 or new[1].WhichOneof("eventType") != "executionRewound":
        raise ValueError(
            "When rewinding an orchestration, the new events list must contain exactly two "
            "events: orchestratorStarted and the executionRewound event."
        )
    rewound = new[1].executionRewound
    events = list(chain(msg.pastEvents, new))
    failed = {e.taskFailed.taskScheduledId for e in events if e.HasField("taskFailed")}
    failed_subs = tuple(
        e.subOrchestrationInstanceFailed.taskScheduledId
        for e in events
        if e.HasField("subOrchestrationInstanceFailed")
    )
    fresh = execution_id or uuid.uuid4().hex
    history: list[pb.HistoryEvent] = []
    for event in events:
        if not _kept(event, failed):
            continue
        if event.HasField("executionStarted"):
            event = _restarted(event, fresh, rewound)
        history.append(event)
    change = RewindChange(tuple(sorted(failed)), failed_subs, len(events) - len(history))
    return history, change


def _restarted(event: pb.HistoryEvent, execution_id: str, rewound: Any) -> pb.HistoryEvent:
    copy = pb.HistoryEvent()
    copy.CopyFrom(event)
    started = copy.executionStarted
    started.orchestrationInstance.executionId.value = execution_id
    parent_id = rewound.parentExecutionId.value if rewound.HasField("parentExecutionId") else ""
    if parent_id and started.HasField("parentInstance"):
        started.parentInstance.orchestrationInstance.executionId.value = parent_id
    return copy


def rewind_response(msg: pb.OrchestratorRequest, completion_token: str = "") -> Any:
    """The ``OrchestratorResponse`` of a rewind turn (see :func:`rewind_history`)."""
    history, _ = rewind_history(msg)
    response = pb.OrchestratorResponse(instanceId=msg.instanceId, completionToken=completion_token)
    action = response.actions.add(id=-1)
    action.rewindOrchestration.newHistory.extend(history)
    return response
