"""What the worker reports about work items: the outcome, the event, the counters."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Outcome(enum.Enum):
    """Where a work item stands, as the worker reports it."""

    RECEIVED = "received"
    """It arrived and is being served."""
    HELD = "held"
    """Its turn was computed and is held for the debugger before it is completed."""
    COMPLETED = "completed"
    """Its answer was delivered and reports no failure."""
    FAILED = "failed"
    """Its answer was delivered and reports a failure (orchestration or activity)."""
    ABANDONED = "abandoned"
    """It was given back to the sidecar for redelivery."""
    UNDELIVERED = "undelivered"
    """Its answer (or its abandon) could not be delivered to the sidecar."""

    @property
    def finished(self) -> bool:
        """Whether the work item has left the worker (nothing more will happen to it)."""
        return self not in (Outcome.RECEIVED, Outcome.HELD)


@dataclass(frozen=True)
class WorkItemEvent:
    """One work item served (or given back): what the log line and the live list show."""

    time: datetime
    """When it ended (UTC)."""
    kind: str
    """``orchestrator`` or ``activity``."""
    instance_id: str
    """The orchestration instance."""
    name: str
    """The orchestrator or activity name."""
    result: str
    """For people: ``COMPLETED``, ``3 actions``, ``ok``, ``FAILED <type>``, ``ABANDONED``..."""
    seconds: float
    """How long it took from arrival to answer."""
    number: int
    """Sequence number of the work item in this worker."""
    outcome: Outcome = Outcome.COMPLETED
    """Where it stands; code decides on this, never on :attr:`result`."""
    detail: str = ""
    """More about the result: where a hung turn was stuck, a crashed process's output."""
    request: bytes = b""
    """The serialized ``OrchestratorRequest`` or ``ActivityRequest`` (live view, capture)."""
    response: bytes = b""
    """The serialized response computed for it (empty when there was none)."""
    token: str = ""
    """The work item's completion token (to release or abandon a held turn)."""
    worker: str = ""
    """Seen through ``inspector tap``: the peer (``ipv4:HOST:PORT``) of the worker that
    completed it (or received it, while it is open); empty for the embedded worker's own."""

    def line(self) -> str:
        """The one-line log form: time, kind, instance, name, result, duration (, via worker)."""
        stamp = _second(self.time) + f"{self.time.microsecond // 1000:03d}Z"
        text = (
            f"{stamp} {self.kind:<12} {self.instance_id} {self.name} {self.result} "
            f"{self.seconds * 1000:.1f}ms"
        )
        if self.detail:
            text += " - " + " | ".join(self.detail.splitlines())
        if self.worker:
            text += f" via {self.worker}"
        return text


_SECOND: tuple[object, str] = (None, "")
"""The last second :func:`_second` formatted, and its text (a log writes many lines a second;
one tuple, replaced whole, so threads never see a key with another second's text)."""


def _second(moment: datetime) -> str:
    """``moment`` as ``2026-11-23T16:41:38.`` (formatted once per second and time zone)."""
    global _SECOND
    key = (moment.replace(microsecond=0), moment.tzinfo)
    last = _SECOND
    if last[0] == key:
        return last[1]
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.")
    _SECOND = (key, text)
    return text


@dataclass
class WorkerStats:
    """Counters over the worker's life."""

    received: int = 0
    completed: int = 0
    abandoned: int = 0
    undelivered: int = 0
    reconnects: int = 0
