"""One work item on its way to a user process, and what the worker reports of it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.history import FailureDetails
from engine.worker._entities import failed_batch_result
from engine.worker._events import Outcome, WorkItemEvent
from engine.worker._messages import failed_activity_response, failed_turn_response


@dataclass
class Job:
    """One work item on its way to a user process."""

    kind: str
    """``turn`` or ``activity``."""
    data: bytes
    """The serialized ``OrchestratorRequest`` or ``ActivityRequest``."""
    token: str
    """The work item's completion token."""
    instance_id: str
    """The orchestration instance."""
    name: str
    """The orchestrator or activity name."""
    request: Any = None
    """The request message (activities: to build failure answers)."""
    number: int = 0
    """Sequence number of the work item in this worker (for logs and capture files)."""
    received: float = field(default_factory=time.monotonic)
    """When it arrived (monotonic seconds)."""

    def event(
        self, outcome: Outcome, result: str, detail: str = "", response: bytes = b""
    ) -> WorkItemEvent:
        """What became of this work item, as the worker reports it."""
        return WorkItemEvent(
            time=datetime.now(timezone.utc),
            kind="orchestrator" if self.kind == "turn" else self.kind,
            instance_id=self.instance_id,
            name=self.name,
            result=result,
            seconds=time.monotonic() - self.received,
            number=self.number,
            outcome=outcome,
            detail=detail,
            request=self.data,
            response=response,
            token=self.token,
        )

    def failure_response(self, failure: FailureDetails) -> bytes:
        """The serialized answer that fails this turn (its orchestration) or this activity."""
        if self.kind == "entity":
            return failed_batch_result(self.request, failure).SerializeToString()
        if self.kind == "turn":
            turn = failed_turn_response(self.instance_id, self.token, failure)
            return turn.SerializeToString()
        return failed_activity_response(self.request, self.token, failure).SerializeToString()
