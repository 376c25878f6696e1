"""The worker's entity work: what to ask for, the answers it builds itself, and back-off.

Entity batches run in the activity pool's user processes (the same isolation, timeouts and
crash handling as activities). What the worker decides without a user process lives here:

- :func:`entity_job_name`: the entity id a work item is for (its log name);
- :func:`failed_batch_result`: the answer for a batch whose user process crashed or timed out
  too often (every operation fails with that failure; the state stays as it was);
- :class:`HoldBack`: an entity work item the worker cannot serve (the APP defines no entities)
  is given back only after a growing delay, so the sidecar's immediate redelivery never turns
  into a tight loop; :meth:`HoldBack.flush` gives everything back at once when stopping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from engine.history import FailureDetails
from engine.proto import orchestrator_service_pb2 as pb

FIRST_DELAY = 0.5
"""Seconds before the first unservable entity work item is given back."""
MAX_DELAY = 30.0
"""The longest delay; each further one in a row doubles until it reaches this."""


def entity_job_name(item: pb.WorkItem) -> tuple[str, str]:
    """The entity id a work item is for, and its operations (``add, get``) for the log."""
    from engine.entity_batch import operations_of  # durabletask's entities: loaded when used

    entity, _, ops, _ = operations_of(item)
    names = [op.name for op in ops[:3]] + (["..."] if len(ops) > 3 else [])
    return entity, ", ".join(names) or "(no operations)"


def failed_batch_result(item: pb.WorkItem, failure: FailureDetails) -> pb.EntityBatchResult:
    """Every operation of the batch failed with ``failure``; the entity's state is kept."""
    from engine.entity_batch import operations_of

    _, state, ops, is_v2 = operations_of(item)
    result = pb.EntityBatchResult(completionToken=item.completionToken)
    for _ in ops:
        result.results.add().failure.failureDetails.CopyFrom(failure.to_proto())
    if state is not None:
        result.entityState.value = state
    if is_v2:
        for op in ops:
            info = result.operationInfos.add(requestId=op.request_id)
            if op.caller is not None:
                info.responseDestination.CopyFrom(op.caller)
    return result


class HoldBack:
    """Gives unservable work items back after a delay that doubles while they keep coming.

    Args:
        give_back: Called (from the hold-back thread, or :meth:`flush`) with each held item.
    """

    def __init__(self, give_back: Callable[[Any], None]) -> None:
        self._give_back = give_back
        self._cond = threading.Condition()
        self._due: list[tuple[float, Any]] = []
        self._delay = FIRST_DELAY
        self._last = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None

    def hold(self, item: Any) -> float:
        """Give ``item`` back later; returns the delay in seconds."""
        with self._cond:
            now = time.monotonic()
            if now - self._last > 2 * MAX_DELAY:
                self._delay = FIRST_DELAY  # a quiet spell: start small again
            delay = self._delay
            self._delay = min(MAX_DELAY, self._delay * 2)
            self._last = now
            self._due.append((now + delay, item))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="entity-holdback", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
        return delay

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._due or self._due[0][0] > time.monotonic()):
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, token = self._due.pop(0)
            self._give_back(token)

    def flush(self) -> None:
        """Give every held work item back now and stop the thread."""
        with self._cond:
            self._closed = True
            due, self._due = self._due, []
            self._cond.notify_all()
        thread = self._thread
        if thread is not None:
            thread.join(2.0)
        for _, token in due:
            self._give_back(token)

    def pending(self) -> int:
        """How many work items are held."""
        with self._cond:
            return len(self._due)
