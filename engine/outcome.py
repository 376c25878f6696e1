"""What a replay found: where code and history disagree, and the answer of a whole turn.

Failure is data here: a replay that fails still returns a :class:`ReplayOutcome`, whose
:attr:`~ReplayOutcome.failure` and :attr:`~ReplayOutcome.nondeterminism` say what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actions import METHOD_OF_KIND, Action, SourceLocation
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

    when_all_needs: frozenset[int] = frozenset()
    """The task ids a ``when_all`` the code waits on at the end of the turn still needs
    (:meth:`engine.turn.TurnState.when_all_needs`): the worker holds an activity's result for
    its siblings only when they are among these."""

    @property
    def failed(self) -> bool:
        """Whether the replay stopped on a failure (see :attr:`failure`)."""
        return self.failure is not None


# --- the SDK's non-determinism messages, word for word ---------------------------------


def no_action_message(task_id: int, method: str) -> str:
    """The SDK's message when history has an action the code did not ask for."""
    return (
        f"A previous execution called {method} with ID={task_id}, but the current "
        "execution doesn't have this action with this ID. This problem occurs when either "
        "the orchestration has non-deterministic logic or if the code was changed after an "
        "instance of this orchestration already started running."
    )


def wrong_type_message(task_id: int, expected: str, action: Action) -> str:
    """The SDK's message when the code asked for another kind of action at that id."""
    actual = METHOD_OF_KIND.get(action.kind, action.kind)
    return (
        "Failed to restore orchestration state due to a history mismatch: A previous execution "
        f"called {expected} with ID={task_id}, but the current execution is instead trying to "
        f"call {actual} as part of rebuilding it's history. This kind of mismatch can happen if "
        "an orchestration has non-deterministic logic or if the code was changed after an "
        "instance of this orchestration already started running."
    )


def wrong_name_message(task_id: int, method: str, expected: str, actual: str) -> str:
    """The SDK's message when the code asked for another name at that id."""
    return (
        "Failed to restore orchestration state due to a history mismatch: A previous execution "
        f"called {method} with name='{expected}' and sequence number {task_id}, but the current "
        f"execution is instead trying to call {actual} as part of rebuilding it's history. "
        "This kind of mismatch can happen if an orchestration has non-deterministic logic or if "
        "the code was changed after an instance of this orchestration already started running."
    )


def wrong_target_message(task_id: int, method: str, expected: str, actual: str) -> str:
    """The SDK's message when the code sent to another instance at that id."""
    return (
        "Failed to restore orchestration state due to a history mismatch: A previous execution "
        f"called {method} with target instance ID='{expected}' and sequence number {task_id}, "
        f"but the current execution is instead targeting instance ID='{actual}' as part of "
        "rebuilding its history. This kind of mismatch can happen if an orchestration has "
        "non-deterministic logic or if the code was changed after an instance of this "
        "orchestration already started running."
    )


__all__ = [
    "NonDeterminism",
    "ReplayOutcome",
    "no_action_message",
    "wrong_name_message",
    "wrong_target_message",
    "wrong_type_message",
]
