"""What a replay found: where code and history disagree, and the answer of a whole turn.

Failure is data here: a replay that fails still returns a :class:`ReplayOutcome`, whose
:attr:`~ReplayOutcome.failure` and :attr:`~ReplayOutcome.nondeterminism` say what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions import Action, SourceLocation
from engine.history import FailureDetails
from engine.proto import orchestrator_service_pb2 as pb


@dataclass(frozen=True, slots=True)
class NonDeterminism:
    """Where code and history disagree (the one type replays, frames and outcomes share)."""

    event_index: int
    """Index of the history event that could not be matched."""
    recorded: str
    """What the history recorded, e.g. ``taskScheduled #2 'charge'``."""
    asked: str
    """What the code asked for at that sequence number (or that it asked for nothing)."""
    location: SourceLocation | None
    """The source line that asked (or, when nothing was asked, where the code stood)."""
    message: str
    """The failure message the response carries (the SDK's wording)."""


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What a full replay of one turn produced (the headless answer of ``inspector replay``)."""

    response: pb.OrchestratorResponse
    """The ``OrchestratorResponse`` the turn sends back to the sidecar."""
    actions: tuple[Action, ...]
    """The actions the response carries, in order."""
    failure: FailureDetails | None
    """Why the replay stopped early, or ``None``: the failure details of the exception that
    escaped the orchestrator (or of the history mismatch), as the response carries them when
    the turn failed."""
    nondeterminism: NonDeterminism | None
    """Where code and history disagreed, when that is why the replay stopped."""
    dapr: Any = None
    """In a Dapr turn: what its response says beyond the actions (an
    ``engine.dapr_context.DaprTurnFacts``: the version used, the patches, a stall)."""

    @property
    def failed(self) -> bool:
        """Whether the replay stopped on a failure (see :attr:`failure`)."""
        return self.failure is not None


__all__ = ["NonDeterminism", "ReplayOutcome"]
