"""What the sidecar still owes the worker: the work items its own answers will cause.

An activity result the worker sent comes back inside a later turn of its orchestration (a
``taskCompleted`` or ``taskFailed`` naming the task); a turn that schedules activities is
followed by those activity work items. A sidecar pops a work item before it writes it to the
stream, so closing the stream while one is on its way loses it. Stopping therefore waits until
nothing is owed, instead of trusting the stream to have been quiet for long enough, except
for a result whose orchestration already has a turn parked or held here: the sidecar cannot
hand that instance out again before the worker gives the turn back.
"""

from __future__ import annotations

import threading
from collections.abc import Collection

from engine.proto import orchestrator_service_pb2 as pb

MAX_EXPECTED = 10_000
"""More than this many owed work items (another worker took them) and the record starts over."""


class Expected:
    """The work items the sidecar owes, keyed by instance and task id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: set[tuple[str, int]] = set()
        self._activities: set[tuple[str, int]] = set()

    def activity_sent(self, instance_id: str, task_id: int) -> None:
        """An activity's answer is being sent: a turn carrying it will follow."""
        with self._lock:
            self._bounded(self._turns).add((instance_id, task_id))

    def turn_sent(self, response: pb.OrchestratorResponse) -> None:
        """A turn's answer is being sent: the activities it schedules will follow."""
        scheduled = [a.id for a in response.actions if a.HasField("scheduleTask")]
        if not scheduled:
            return
        instance = response.instanceId
        with self._lock:
            self._bounded(self._activities).update((instance, task_id) for task_id in scheduled)

    def not_sent(self, kind: str, instance_id: str, data: bytes) -> None:
        """An answer did not reach the sidecar: nothing it would have caused is owed."""
        with self._lock:
            if kind == "activity":
                task_id = pb.ActivityResponse.FromString(data).taskId
                self._turns.discard((instance_id, task_id))
                return
            for action in pb.OrchestratorResponse.FromString(data).actions:
                self._activity_gone(instance_id, action.id)

    def turn_arrived(self, request: pb.OrchestratorRequest) -> None:
        """A turn arrived: the results it carries are no longer owed."""
        done = [
            e.taskCompleted.taskScheduledId
            if e.HasField("taskCompleted")
            else e.taskFailed.taskScheduledId
            for e in request.newEvents
            if e.HasField("taskCompleted") or e.HasField("taskFailed")
        ]
        if done:
            with self._lock:
                self._turns.difference_update((request.instanceId, t) for t in done)

    def activity_arrived(self, request: pb.ActivityRequest) -> None:
        """An activity work item arrived: it is no longer owed."""
        with self._lock:
            self._activity_gone(request.orchestrationInstance.instanceId, request.taskId)

    def _activity_gone(self, instance_id: str, task_id: int) -> None:
        self._activities.discard((instance_id, task_id))

    def results_not_sent(self, instance_id: str, task_ids: frozenset[int]) -> frozenset[int]:
        """Those of ``task_ids`` whose activity result the worker has not sent (or is not
        sending) to the sidecar yet."""
        with self._lock:
            owed = self._turns
            return frozenset(t for t in task_ids if (instance_id, t) not in owed)

    def owed(self, parked: Collection[str] = ()) -> int:
        """How many work items are owed, leaving out turns of the ``parked`` instances."""
        with self._lock:
            turns = sum(1 for instance, _ in self._turns if instance not in parked)
            return turns + len(self._activities)

    def activities_owed(self) -> int:
        """How many activity work items the turns the worker sent will still bring."""
        with self._lock:
            return len(self._activities)

    def _bounded(self, owed: set[tuple[str, int]]) -> set[tuple[str, int]]:
        if len(owed) >= MAX_EXPECTED:
            owed.clear()
        return owed
