"""App-wide messages: the replay worker reports its progress to the screen that owns it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class ReplayProgressed(Message):
    """More events were replayed and recorded."""

    recorded: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReplayProgressed)


@dataclass
class NamesResolved(Message):
    """Every event's display name is known (completions named after their task)."""

    names: dict[int, str | None]


@dataclass
class ReplayFinished(Message):
    """Every event is recorded."""

    total: int


@dataclass
class ReplayCrashed(Message):
    """The replay itself stopped on an engine error (not a failure of the orchestrator)."""

    error: str
