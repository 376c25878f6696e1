"""Breakpoints, and the one rule that says whether a step or an event matches them.

The session uses it to move (:meth:`engine.session.ReplaySession.find`), the UI to mark history
rows (:func:`marks_event`): both ask :meth:`Breakpoint.matches_event` and
:meth:`Breakpoint.matches`, so a row is marked exactly when the session would stop there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.frames import Frame


@dataclass(frozen=True)
class Breakpoint:
    """Stop at events matching every field given (``None`` matches anything).

    Attributes:
        index: an event index.
        kind: an event kind, e.g. ``taskCompleted`` (case-insensitive).
        name: a task, orchestration or event name (case-insensitive).
        line: a source line (with code); ``file`` narrows it to one file.
    """

    index: int | None = None
    kind: str | None = None
    name: str | None = None
    line: int | None = None
    file: str | None = None

    @property
    def needs_frame(self) -> bool:
        """Whether matching needs the replayed frame (a source line), not the event alone."""
        return self.line is not None

    def matches_event(self, index: int, kind: str, name: str | None) -> bool:
        """Whether the event fields (index, kind, display name) match; the line is not checked.

        Args:
            index: the event index.
            kind: the event kind, e.g. ``taskCompleted``.
            name: the event's display name (completions named after their task), if any.
        """
        if self.index is not None and index != self.index:
            return False
        if self.kind is not None and kind.lower() != self.kind.lower():
            return False
        if self.name is not None and (name is None or name.casefold() != self.name.casefold()):
            return False
        return True

    def matches(self, frame: Frame, names: dict[int, str | None]) -> bool:
        """Whether the frame matches this breakpoint (every field given)."""
        ev = frame.event
        if ev is None:  # before the first event: only an index can match it
            if self.kind is not None or self.name is not None:
                return False
            if self.index is not None and frame.index != self.index:
                return False
        elif not self.matches_event(frame.index, ev.kind, names.get(frame.index)):
            return False
        if self.line is not None:
            loc = frame.location
            if loc is None or loc.line != self.line:
                return False
            if self.file is not None and loc.file != self.file:
                return False
        return True

    def describe(self) -> str:
        """A short label, e.g. ``kind=taskFailed``."""
        parts = [
            f"{k}={v}"
            for k, v in (
                ("event", self.index),
                ("kind", self.kind),
                ("name", self.name),
                ("line", self.line),
            )
            if v is not None
        ]
        return " ".join(parts) or "any"


def may_stop_at(breakpoints: Iterable[Breakpoint], index: int, kind: str, name: str | None) -> bool:
    """Whether any breakpoint's event fields match (a line breakpoint still needs the frame)."""
    return any(b.matches_event(index, kind, name) for b in breakpoints)


def marks_event(breakpoints: Iterable[Breakpoint], index: int, kind: str, name: str | None) -> bool:
    """Whether a history row gets a breakpoint mark: an event-only breakpoint stops there."""
    return any(not b.needs_frame and b.matches_event(index, kind, name) for b in breakpoints)


__all__ = ["Breakpoint", "marks_event", "may_stop_at"]
