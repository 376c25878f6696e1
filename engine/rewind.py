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

from collections.abc import Iterable
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
    if not execution_id:
        import uuid  # loaded for a rewind turn only (it costs show and replay start-up time)

        execution_id = uuid.uuid4().hex
    fresh = execution_id
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


# --- what a rewind changes, for people (the stepper and show) ------------------------------


@dataclass(frozen=True)
class RewoundTask:
    """A failed task a rewind runs again."""

    id: int
    """Its task id (the ``taskScheduled`` / ``subOrchestrationInstanceCreated`` event id)."""
    kind: str
    """``activity`` or ``sub-orchestration``."""
    name: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.name}' (task {self.id})"

    @property
    def effect(self) -> str:
        """What the rewind does with it."""
        if self.kind == "activity":
            return "scheduled again"
        return "its failure dropped; the child is rewound in turn"


@dataclass(frozen=True)
class RewindView:
    """What the ``executionRewound`` event of a request changes.

    In a rewind turn (:func:`is_rewind`) nothing is replayed: the response restarts the
    orchestration from its history without the failures. Later turns carry the event in their
    past: the failures before it are gone, and the replay schedules the rewound tasks again.
    """

    event_index: int
    """The index of the ``executionRewound`` event."""
    reason: str | None
    rewinds_now: bool
    """Whether this turn is the rewind (its response rewrites the history)."""
    rewound: tuple[RewoundTask, ...] = ()
    """The failed tasks the rewind runs again (known in the rewind turn)."""
    dropped: tuple[int, ...] = ()
    """Indices of the events the new history leaves out (the rewind turn)."""
    kept: int = 0
    """How many events the new history holds (the rewind turn)."""

    def shown_at(self, index: int) -> bool:
        """Whether the frame of step ``index`` carries the view: the rewind turn's from the
        event on (its response is the rewind), a later turn's at the event only."""
        return index >= self.event_index if self.rewinds_now else index == self.event_index

    @property
    def note(self) -> str:
        """What the step did, in a few words."""
        why = f" ('{self.reason}')" if self.reason else ""
        if not self.rewinds_now:
            return f"rewound{why}: the failures before it are gone; their tasks run again"
        tasks = ", ".join(str(t) for t in self.rewound) or "no failed task"
        return f"rewind{why}: runs {tasks} again; {len(self.dropped)} events dropped"

    def rows(self) -> list[tuple[str, str]]:
        """The change as labelled rows (the state pane and ``show``)."""
        if not self.rewinds_now:
            return [
                (
                    "rewound",
                    f"at #{self.event_index}: the failures before it are not in this history; "
                    "the replay schedules the rewound tasks again",
                )
            ]
        rows = [
            (
                "rewind",
                f"at #{self.event_index}, not replayed: the response restarts from "
                f"{self.kept} events (a new execution id)",
            )
        ]
        rows.extend(("rewound task", f"{task}: {task.effect}") for task in self.rewound)
        rows.append(("dropped", " ".join(f"#{i}" for i in self.dropped) or "-"))
        return rows


def rewind_view(
    msg: pb.OrchestratorRequest, kinds: Iterable[str] | None = None
) -> RewindView | None:
    """What the request's ``executionRewound`` event changes, or None when it has none.

    ``kinds``, the events' kinds when the caller has them, spares reading every message.
    """
    if kinds is not None and "executionRewound" not in kinds:
        return None
    if kinds is None and not any(
        e.HasField("executionRewound") for e in chain(msg.pastEvents, msg.newEvents)
    ):
        return None  # the common case, in one pass of about 1 us per event
    events = list(chain(msg.pastEvents, msg.newEvents))
    found = [i for i, e in enumerate(events) if e.WhichOneof("eventType") == "executionRewound"]
    if not found:
        return None
    index = found[-1]
    rewound = events[index].executionRewound
    reason = rewound.reason.value if rewound.HasField("reason") else None
    if not is_rewind(msg):
        return RewindView(index, reason, rewinds_now=False)
    failed = {e.taskFailed.taskScheduledId for e in events if e.HasField("taskFailed")}
    tasks: list[RewoundTask] = []
    for e in events:
        if e.HasField("taskScheduled") and e.eventId in failed:
            tasks.append(RewoundTask(e.eventId, "activity", e.taskScheduled.name))
    failed_subs = {
        e.subOrchestrationInstanceFailed.taskScheduledId
        for e in events
        if e.HasField("subOrchestrationInstanceFailed")
    }
    for e in events:
        if e.HasField("subOrchestrationInstanceCreated") and e.eventId in failed_subs:
            name = e.subOrchestrationInstanceCreated.name
            tasks.append(RewoundTask(e.eventId, "sub-orchestration", name))
    dropped = tuple(i for i, e in enumerate(events) if not _kept(e, failed))
    unique = {(t.id, t.kind): t for t in tasks}
    return RewindView(
        index,
        reason,
        rewinds_now=True,
        rewound=tuple(sorted(unique.values(), key=lambda t: t.id)),
        dropped=dropped,
        kept=len(events) - len(dropped),
    )
